"""Shared paths for host tests."""

import os

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED_VECTORS = os.path.join(os.path.dirname(ROOT), "shared", "vectors")
GOLDEN = os.path.join(ROOT, "tests", "vectors", "golden.json")
