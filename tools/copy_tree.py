#!/usr/bin/env python3
"""Copy the collection's files (git-tracked and untracked-not-ignored) to DEST.

Usage: copy_tree.py DEST [--exclude PREFIX ...]
ansible-test needs the collection under ansible_collections/<ns>/<name>; this
makes that tree from a checkout without caches, venvs or sandbox state.
"""
import argparse
import os
import shutil
import subprocess
import sys


def main():
    p = argparse.ArgumentParser()
    p.add_argument("dest")
    p.add_argument("--exclude", action="append", default=[])
    a = p.parse_args()
    root = subprocess.check_output(["git", "rev-parse", "--show-toplevel"], text=True).strip()
    files = subprocess.check_output(["git", "ls-files", "-z", "-co", "--exclude-standard"], cwd=root).split(b"\0")
    if os.path.exists(a.dest):
        shutil.rmtree(a.dest)
    n = 0
    for f in files:
        rel = f.decode()
        if not rel or any(rel == e or rel.startswith(e.rstrip("/") + "/") for e in a.exclude):
            continue
        src = os.path.join(root, rel)
        if not os.path.lexists(src):  # deleted in the work tree
            continue
        dst = os.path.join(a.dest, rel)
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        shutil.copy2(src, dst, follow_symlinks=False)
        n += 1
    print("copied %d files to %s" % (n, a.dest))
    return 0


if __name__ == "__main__":
    sys.exit(main())
