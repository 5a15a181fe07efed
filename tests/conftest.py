"""Shared paths for host tests."""

import os

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED_VECTORS = os.path.join(ROOT, "tests", "vectors", "external")
GOLDEN = os.path.join(ROOT, "tests", "vectors", "golden.json")
