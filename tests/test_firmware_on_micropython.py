"""The firmware test files, run again under the real MicroPython unix port (ESP32-sized heap)."""

import glob
import os
import re
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MICROPYTHON = os.path.join(os.path.dirname(sys.executable), "micropython")
FILES = sorted(os.path.basename(p) for p in glob.glob(os.path.join(ROOT, "tests/firmware/test_*.py")))
# Files whose tests need more than the ESP32 heap (large vector files parsed whole) say so here.
HEAP = {"default": "112K"}


@pytest.mark.parametrize("name", FILES)
def test_firmware_file_under_micropython(name: str) -> None:
    heap = HEAP.get(name, HEAP["default"])
    proc = subprocess.run(
        [MICROPYTHON, "-X", "heapsize=" + heap, "tests/firmware/mprun.py", name],
        cwd=ROOT, capture_output=True, text=True, timeout=900,
        env={**os.environ, "GERBANG_ROOT": ROOT},
    )
    out = proc.stdout + proc.stderr
    m = re.search(r"^(\d+) passed, (\d+) failed, (\d+) skipped$", proc.stdout, re.M)
    assert m, out[-4000:]
    assert proc.returncode == 0 and m.group(2) == "0", out[-4000:]
    assert int(m.group(1)) > 0, "no firmware test ran in " + name
