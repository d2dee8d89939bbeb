"""Emulators of closed APIs for the sandbox (never imported by plugins/)."""
