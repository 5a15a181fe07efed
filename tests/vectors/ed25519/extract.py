"""Extract the Wycheproof Ed25519 verify cases into line files the door-sized heap can stream.

    .venv/bin/python tests/vectors/ed25519/extract.py        # rewrite the .txt files
    .venv/bin/python tests/vectors/ed25519/extract.py --check  # exit 1 if they are stale

One case per line: `tcId result pk msg sig` (hex, `-` for empty; result 1 = valid, 0 = invalid).
The first lines (`#`) name the origin. tests/firmware/test_ed25519.py reads these files under
MicroPython (json.load of the 127 KB originals does not fit a 112 KiB heap); its CPython run
also checks that they still match the originals.
"""

import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SHARED = os.path.join(HERE, "..", "external", "wycheproof")
FILES = {
    "wycheproof_ed25519.txt": (
        "ed25519_test.json", "C2SP/wycheproof testvectors_v1 (dac1dd47), Apache-2.0"),
    "wycheproof_eddsa_v0.txt": (
        "eddsa_test_v0.json", "C2SP/wycheproof legacy eddsa_test.json (6991f836), Apache-2.0"),
}
RESULTS = {"valid": "1", "invalid": "0"}  # neither file has "acceptable" cases


def render(src: str, origin: str) -> str:
    with open(os.path.join(SHARED, src)) as f:
        data = json.load(f)
    lines = [
        f"# origin: tests/vectors/external/wycheproof/{src} ({origin})",
        "# extracted by tests/vectors/ed25519/extract.py: tcId result(1 valid, 0 invalid) pk msg sig",
    ]
    for group in data["testGroups"]:
        pk = (group.get("publicKey") or group["key"])["pk"]
        for t in group["tests"]:
            lines.append(" ".join([
                str(t["tcId"]), RESULTS[t["result"]], pk, t["msg"] or "-", t["sig"] or "-"]))
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    stale = []
    for name, (src, origin) in FILES.items():
        text = render(src, origin)
        path = os.path.join(HERE, name)
        if "--check" in argv:
            with open(path) as f:
                if f.read() != text:
                    stale.append(name)
        else:
            with open(path, "w") as f:
                f.write(text)
    for name in stale:
        print("stale:", name)
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
