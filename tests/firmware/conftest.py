"""Run the firmware tests under CPython: firmware/ and the `micropython` shim on sys.path."""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
for p in (os.path.join(HERE, "shim"), os.path.join(ROOT, "firmware"), HERE):
    if p not in sys.path:
        sys.path.insert(0, p)
os.environ.setdefault("GERBANG_ROOT", ROOT)
