"""Type-check the ESP32 board layer against micropython-esp32-stubs (the real ESP32 API)."""

import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGETS = ["firmware/board/esp32.py"]


def main() -> int:
    targets = [t for t in TARGETS if os.path.exists(os.path.join(ROOT, t))]
    if not targets:
        print("typecheck: no ESP32 board module yet")
        return 0
    return subprocess.call([sys.executable, "-m", "mypy", "--config-file", "tools/mypy-esp32.ini", *targets], cwd=ROOT)


if __name__ == "__main__":
    sys.exit(main())
