#!/bin/sh
# Build sandbox/vcsim/main.go (GOPATH mode, Debian's golang-go and golang-github-vmware-govmomi-dev)
# once into .cache/vcsim/vcsim-<hash>, and print the binary's path. The sandbox does this by itself
# (VcsimPeer.prepare); this is for building ahead, e.g. in CI images. Logic: sandbox/peers/vcsim.py.
set -eu
cd "$(dirname "$0")/../.."
exec "${PYTHON:-.venv/bin/python}" -c 'import sys; from sandbox.peers.vcsim import main; sys.exit(main())'
