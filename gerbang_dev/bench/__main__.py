"""Run the benchmarks: `python -m gerbang_dev.bench [part ...]` (parts: crypto check sync revoked
scanlog door server dashboard synccost)."""

import importlib
import sys

PARTS = ["crypto", "check", "sync", "revoked", "scanlog", "door", "server", "dashboard",
         "synccost"]

def main(argv: list[str]) -> int:
    unknown = [p for p in argv if p not in PARTS]
    if unknown:
        print(f"unknown part(s) {', '.join(unknown)}; parts: {' '.join(PARTS)}", file=sys.stderr)
        return 2
    for part in argv or PARTS:
        mod = importlib.import_module("gerbang_dev.bench." + part)
        print(f"== {part}")
        mod.run()
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
