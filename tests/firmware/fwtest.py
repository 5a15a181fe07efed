"""Tiny helpers shared by firmware tests; runs on CPython (pytest) and MicroPython (mprun.py)."""

import json
import os

try:
    ROOT = os.getenv("GERBANG_ROOT") or None
except AttributeError:
    ROOT = None
if not ROOT:
    _here = __file__.replace("\\", "/").rsplit("/", 1)[0] if "/" in __file__ else "."
    ROOT = _here + "/../.."

try:
    from unittest import SkipTest  # CPython: pytest reports it as a skip with the reason
except ImportError:

    class SkipTest(Exception):  # MicroPython: mprun.py counts it as skipped and prints the reason
        pass


def skip(reason):
    raise SkipTest(reason)


def on_micropython():
    import sys

    return sys.implementation.name == "micropython"


SHARED_VECTORS = ROOT + "/../shared/vectors"
GOLDEN = ROOT + "/tests/vectors"


def load_json(path):
    with open(path) as f:
        return json.load(f)


def raises(exc_type, fn, *args, **kwargs):
    """Call fn and return the exception it raised; fail if it raised nothing or another type."""
    try:
        fn(*args, **kwargs)
    except exc_type as e:
        return e
    raise AssertionError("expected %s from %r" % (exc_type.__name__, fn))


def check(cond, msg="check failed"):
    # assert is stripped by MicroPython at -O; tests use this instead.
    if not cond:
        raise AssertionError(msg)


def golden():
    """tests/vectors/golden_fw.txt (made by `gerbang vectors`) as a dict; certificates as a list
    of dicts. Line-based so it fits the door's 112 KiB heap (golden.json does not)."""
    out = {"certificates": []}
    with open(GOLDEN + "/golden_fw.txt") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line or line[0] == "#":
                continue
            key, _, rest = line.partition(" ")
            if key != "cert":
                out[key] = int(rest) if rest.isdigit() else rest
                continue
            p = rest.split(" ", 7)
            out["certificates"].append({
                "name": p[0], "allow": p[1] == "1", "reason": int(p[2]), "clock_quality": int(p[3]),
                "flags": int(p[4]), "kid": None if p[5] == "-" else p[5],
                "subject_tag": None if p[6] == "-" else p[6], "qr": p[7],
            })
    return out
