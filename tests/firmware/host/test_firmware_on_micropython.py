"""The firmware test files, run again under the real MicroPython unix port (ESP32-sized heap),
on each interpreter of gerbang_dev/interpreters.py: the 64-bit port from PyPI and the 32-bit
(i386) build at ../shared/micropython32 (ESP32 word size; skipped with the reason when absent).

The firmware is imported as .mpy (compiled by mpy-cross for the interpreter's arch: x64 / x86),
as it is deployed to the door: compiling .py source on the device needs 30-50 KB of heap per
module, which no door ever pays. The test files themselves are still compiled from source."""

import glob
import os
import re
import subprocess

import pytest

from gerbang_dev.interpreters import ALL, Interpreter

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
FILES = sorted(os.path.basename(p) for p in glob.glob(os.path.join(ROOT, "tests/firmware/test_*.py")))
# Each file runs in the interpreter's test heap (Interpreter.test_heap_k: 112K on the 32-bit
# build, the ESP32's; 128K on the 64-bit port). One file needs more: test_app runs the whole
# app and scan path *plus* an in-process fake board and the test code in one heap; the app
# alone in 112K is proven on the real virtual board by tests/e2e
# (test_boots_and_decides_in_esp32_heap).
BIGGER = {"test_app.py": "160K"}


@pytest.fixture(scope="module", params=ALL, ids=[i.name for i in ALL])
def interp(request: pytest.FixtureRequest) -> Interpreter:
    why = request.param.missing()
    if why:
        pytest.skip(why)
    return request.param


@pytest.fixture(scope="module")
def firmware_mpy(tmp_path_factory: pytest.TempPathFactory, interp: Interpreter) -> str:
    out = tmp_path_factory.mktemp("firmware-mpy-" + interp.name)
    src = os.path.join(ROOT, "firmware")
    for path in glob.glob(os.path.join(src, "**", "*.py"), recursive=True):
        rel = os.path.relpath(path, src)
        dest = out / (rel[:-3] + ".mpy")
        dest.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(interp.mpy_cross(path, str(dest)), check=True, capture_output=True)
    return str(out)


def run_file(interp: Interpreter, firmware_mpy: str, name: str, heap: str) -> tuple[int, str]:
    """Run one firmware test file with mprun.py; (exit status, output)."""
    proc = subprocess.run(
        [interp.exe(), "-X", "heapsize=" + heap, "tests/firmware/mprun.py", name],
        cwd=ROOT, capture_output=True, text=True, timeout=900,
        env={**interp.env(), "GERBANG_ROOT": ROOT, "GERBANG_FIRMWARE": firmware_mpy},
    )
    return proc.returncode, proc.stdout + proc.stderr


@pytest.mark.parametrize("name", FILES)
def test_firmware_file_under_micropython(name: str, interp: Interpreter, firmware_mpy: str) -> None:
    rc, out = run_file(interp, firmware_mpy, name, BIGGER.get(name, f"{interp.test_heap_k}K"))
    m = re.search(r"^(\d+) passed, (\d+) failed, (\d+) skipped$", out, re.M)
    assert m, out[-4000:]
    assert rc == 0 and m.group(2) == "0", out[-4000:]
    assert int(m.group(1)) > 0, "no firmware test ran in " + name
