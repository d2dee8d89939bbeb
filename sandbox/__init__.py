"""Local sandbox of real peers (and emulators of closed APIs) for vmimport.migrate.

Everything here is test infrastructure: it is never shipped in the collection
(see ``build_ignore`` in galaxy.yml) and never imported from ``plugins/``.
"""
