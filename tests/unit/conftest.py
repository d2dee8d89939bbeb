import os
import sys

# Unit tests import the collection as ansible_collections.vmimport.migrate; the
# Makefile (and ansible-test) provide that tree. Running pytest straight from a
# checkout works too: this adds the checkout's .build/collections tree.
_here = os.path.dirname(os.path.abspath(__file__))
_root = os.path.dirname(os.path.dirname(_here))
_tree = os.path.join(_root, ".build", "collections")
if os.path.isdir(_tree) and _tree not in sys.path:
    sys.path.insert(0, _tree)
