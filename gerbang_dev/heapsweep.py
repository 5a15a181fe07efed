"""How close each firmware test file runs to the edge of its heap under MicroPython.

    .venv/bin/python -m gerbang_dev.heapsweep [test_check.py ...]

Runs each file (default: every tests/firmware/test_*.py) with tests/firmware/mprun.py on each
interpreter from its test heap (Interpreter.test_heap_k: 128K on the 64-bit port, 112K on the
32-bit build) 4K lower each time, nine heaps, and prints the failures per heap (-1: the run
did not get to its summary). A file that passes at its heap but fails 4K or 8K below sits at
the edge: a change of layout (a longer checkout path, a firmware edit) can flip it in CI.
Keep every file at least 8K clear (docs/FIRMWARE_CORE.md "Test files in a door-sized heap");
test_app.py runs at 160K in the suite, so it fails here."""

from __future__ import annotations

import glob
import os
import re
import subprocess
import sys
import tempfile

from gerbang_dev.interpreters import ALL, ROOT, Interpreter

STEPS = 9


def compile_firmware(interp: Interpreter, out: str) -> None:
    src = os.path.join(ROOT, "firmware")
    for path in glob.glob(os.path.join(src, "**", "*.py"), recursive=True):
        dest = os.path.join(out, os.path.relpath(path, src)[:-3] + ".mpy")
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        subprocess.run(interp.mpy_cross(path, dest), check=True, capture_output=True)


def failures(interp: Interpreter, fw: str, name: str, heap_k: int) -> int:
    proc = subprocess.run(
        [interp.exe(), "-X", f"heapsize={heap_k}K", "tests/firmware/mprun.py", name],
        cwd=ROOT, capture_output=True, text=True, timeout=900,
        env={**interp.env(), "GERBANG_ROOT": ROOT, "GERBANG_FIRMWARE": fw})
    m = re.search(r"^(\d+) passed, (\d+) failed", proc.stdout, re.M)
    return int(m.group(2)) if m else -1  # -1: it did not get to the summary (crashed)


def main(argv: list[str]) -> int:
    names = argv or sorted(os.path.basename(p) for p in
                           glob.glob(os.path.join(ROOT, "tests/firmware/test_*.py")))
    for interp in ALL:
        why = interp.missing()
        if why:
            print(f"{interp.name}: skipped ({why})")
            continue
        with tempfile.TemporaryDirectory() as fw:
            compile_firmware(interp, fw)
            heaps = [interp.test_heap_k - 4 * i for i in range(STEPS)]
            print(f"{interp.name}: failures per heap (K) " + " ".join(f"{h:>4}" for h in heaps))
            for name in names:
                row = [failures(interp, fw, name, h) for h in heaps]
                print(f"  {name:<34}" + " ".join(f"{r:>4}" for r in row))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
