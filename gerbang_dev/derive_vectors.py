"""Derive compact test-vector files the MicroPython tests can stream line by line.

    python gerbang_dev/derive_vectors.py          # (re)write tests/vectors/cbor_fail.txt
    python gerbang_dev/derive_vectors.py --check  # exit 1 when the derived file is stale

fail.json (679 not-well-formed CBOR items) is too big to parse whole in the ESP32-sized heap,
so it becomes one hex string per line after an origin line."""

import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXTERNAL = os.path.join(ROOT, "tests", "vectors", "external")
CBOR_FAIL_SRC = os.path.join(EXTERNAL, "cbor-test-vectors", "fail.json")
CBOR_FAIL_OUT = os.path.join(ROOT, "tests", "vectors", "cbor_fail.txt")
ORIGIN = (
    "# origin: tests/vectors/external/cbor-test-vectors/fail.json (cbor/test-vectors PR #5, cbab23c3),"
    " one hex item per line, derived by gerbang_dev/derive_vectors.py"
)


def cbor_fail_text(src: str = CBOR_FAIL_SRC) -> str:
    with open(src) as f:
        items = json.load(f)
    return "\n".join([ORIGIN] + [item["hex"] for item in items]) + "\n"


def main(argv: list[str]) -> int:
    text = cbor_fail_text()
    if "--check" in argv:
        with open(CBOR_FAIL_OUT) as f:
            ok = f.read() == text
        print("cbor_fail.txt " + ("up to date" if ok else "STALE: run gerbang_dev/derive_vectors.py"))
        return 0 if ok else 1
    os.makedirs(os.path.dirname(CBOR_FAIL_OUT), exist_ok=True)
    with open(CBOR_FAIL_OUT, "w") as f:
        f.write(text)
    print("wrote", CBOR_FAIL_OUT)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
