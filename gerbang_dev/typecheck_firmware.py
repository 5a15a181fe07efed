"""Type-check the ESP32 board layer against micropython-esp32-stubs (the real ESP32 API).

The stubs are installed as top-level .pyi files in site-packages (machine.pyi, network.pyi,
...), which mypy does not search by itself; the stdlib part (micropython-stdlib-stubs) is used
as mypy's typeshed (gerbang_dev/mypy-esp32.ini). This links the stub files into a directory under
.mypy_cache and puts it on MYPYPATH.
"""

import os
import subprocess
import sys
from importlib import metadata

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGETS = ["firmware/board/esp32.py"]
STUBS = os.path.join(ROOT, ".mypy_cache", "esp32-stubs")


def link_stubs() -> str:
    os.makedirs(STUBS, exist_ok=True)
    files = list(metadata.distribution("micropython-esp32-stubs").files or [])
    # _mpy_shed (shared MicroPython types) ships with the stdlib stubs
    files += [f for f in metadata.distribution("micropython-stdlib-stubs").files or []
              if f.parts[0] == "_mpy_shed"]
    for f in files:
        top = f.parts[0]
        if top.endswith(".dist-info") or top == "stdlib" or \
                not (top.endswith(".pyi") or len(f.parts) > 1):
            continue
        src = str(f.locate())
        dst = os.path.join(STUBS, *f.parts)
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        if not os.path.lexists(dst):
            os.symlink(src, dst)
    return STUBS


def main() -> int:
    targets = [t for t in TARGETS if os.path.exists(os.path.join(ROOT, t))]
    if not targets:
        print("typecheck: no ESP32 board module yet")
        return 0
    env = {**os.environ, "MYPYPATH": link_stubs()}
    return subprocess.call(
        [sys.executable, "-m", "mypy", "--config-file", "gerbang_dev/mypy-esp32.ini", *targets],
        cwd=ROOT, env=env,
    )


if __name__ == "__main__":
    sys.exit(main())
