"""The MicroPython interpreters the firmware is tested and measured on, with the mpy-cross
architecture each needs (viper and native code must match the interpreter's machine word).

- `unix64`: the 64-bit unix port from PyPI in .venv (63-bit small ints, 8-byte pointers).
- `unix32`: the static 32-bit (i386) build of the same MicroPython at
  `<repository>/../shared/micropython32/micropython` (31-bit small ints and 4-byte pointers, as
  on the ESP32); GERBANG_MICROPYTHON32 overrides the path. Absent on a plain clone: the lanes
  that use it are skipped with `Interpreter.missing()` as the reason.
"""

from __future__ import annotations

import functools
import hashlib
import os
import shutil
import sys
from dataclasses import dataclass

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.dirname(sys.executable)
MPY_CROSS = os.path.join(BIN, "mpy-cross")
MICROPYTHON32_ENV = "GERBANG_MICROPYTHON32"
# The door's module search path (an ESP32's sys.path), not one built from $HOME
DOOR_MICROPYPATH = ".frozen:/lib"
PINNED_DIR = "/tmp/gerbang-mp"


@functools.cache
def _pinned(name: str, source: str) -> str:
    with open(source, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()[:12]
    path = os.path.join(PINNED_DIR, f"{name}-{digest}")
    if not os.access(path, os.X_OK):
        os.makedirs(PINNED_DIR, exist_ok=True)
        tmp = f"{path}.{os.getpid()}"
        shutil.copy2(source, tmp)
        os.replace(tmp, path)  # parallel test workers: one whole copy wins
    return path


@dataclass(frozen=True)
class Interpreter:
    name: str  # "unix64" / "unix32": test ids and bench labels
    micropython: str  # path of the executable
    march: str  # mpy-cross -march for it
    word_bits: int
    # The heap the firmware test files run in (tests/firmware/host/test_firmware_on_micropython.py):
    # the ESP32's 112K on the 32-bit build (its word size); 128K on the 64-bit port, whose
    # objects and pointers are up to twice the size: a test file holds the scan path, the
    # install path and its own state in one heap, and at 112K the 64-bit port's trust files
    # sat at the edge of it (docs/FIRMWARE_CORE.md "Test files in a door-sized heap"). The door
    # itself runs in 112K on both: tests/e2e, and the 64K boot tests.
    test_heap_k: int

    def missing(self) -> str | None:
        """Why this interpreter cannot run here (None: it can)."""
        if os.access(self.micropython, os.X_OK):
            return None
        how = f" (set {MICROPYTHON32_ENV} to another path)" if self.name == "unix32" else ""
        return f"{self.name} MicroPython not found at {self.micropython}{how}"

    def exe(self) -> str:
        """The interpreter at a path of fixed length, whatever the checkout's path: MicroPython
        interns its own (real) path as sys.executable in the heap, so a checkout at a longer
        path shifts every heap figure and layout (a margin test passed in /work and failed in
        /check/work). A copy under PINNED_DIR named by its content's hash, made once."""
        return _pinned(self.name, self.micropython)

    def env(self) -> dict[str, str]:
        """The environment to run it in: the door's sys.path (MICROPYPATH), not $HOME's."""
        return {**os.environ, "MICROPYPATH": DOOR_MICROPYPATH}

    def mpy_cross(self, src: str, dst: str) -> list[str]:
        """The mpy-cross command line that compiles src to dst for this interpreter."""
        return [MPY_CROSS, "-march=" + self.march, "-o", dst, src]


UNIX64 = Interpreter("unix64", os.path.join(BIN, "micropython"), "x64", 64, 128)
UNIX32 = Interpreter(
    "unix32",
    os.environ.get(MICROPYTHON32_ENV)
    or os.path.normpath(os.path.join(ROOT, "..", "shared", "micropython32", "micropython")),
    "x86", 32, 112)
ALL = (UNIX64, UNIX32)


def by_name(name: str) -> Interpreter:
    for i in ALL:
        if i.name == name:
            return i
    raise ValueError(f"unknown interpreter {name!r}; known: {', '.join(i.name for i in ALL)}")
