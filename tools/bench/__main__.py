"""Run the benchmarks: `python -m tools.bench [part ...]` (parts: crypto check scanlog door server)."""

import importlib
import sys

PARTS = ["crypto", "check", "scanlog", "door", "server"]


def main(argv: list[str]) -> int:
    parts = argv or PARTS
    for part in parts:
        try:
            mod = importlib.import_module("tools.bench." + part)
        except ModuleNotFoundError as e:
            if e.name == "tools.bench." + part:
                print(f"== {part}: not built yet")
                continue
            raise
        print(f"== {part}")
        mod.run()
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
