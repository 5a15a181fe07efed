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


SHARED_VECTORS = ROOT + "/tests/vectors/external"
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


def golden_stream(want=None):
    """golden_fw.txt one line at a time (nothing else held: for tests that run beside the whole
    app in the door's heap). Yields (key, value str) for the fields, or for want=("k", ...)
    only those; certificates as ("cert", (name, allow, reason, flags, qr)) unless want
    leaves "cert" out."""
    with open(GOLDEN + "/golden_fw.txt") as f:
        for line in f:
            if not line or line[0] == "#" or line[0] == "\n":
                continue
            sp = line.find(" ")
            key = line[:sp]
            if want is not None and key not in want:
                continue
            if key != "cert":
                yield key, line[sp + 1:].rstrip("\n")
                continue
            p = line[sp + 1:].rstrip("\n").split(" ", 7)
            yield key, (p[0], p[1] == "1", int(p[2]), int(p[4]), p[7])
            p = None


# The trust list's install/verify path (gerbang.trustinstall) as the door uses it: imported for
# one call and let go after, so its modules are freed when deployed as .mpy (a test module
# holding the module would keep ~6 KB of load-time code in the door-sized heap).
def trust_load(store, now):
    from gerbang import trustinstall

    return trustinstall.load(store, now)


def trust_install(store, bundle, now):
    from gerbang import trustinstall

    return trustinstall.install(store, bundle, now)


def trust_stage(store, bundle):
    from gerbang import trustinstall

    return trustinstall.stage(store, bundle)


def trust_opened(store, bundle, now):
    from gerbang import trustinstall

    return trustinstall.opened(store, bundle, now)


def golden_install(path, child=False):
    """Write the golden trust bundle to path and install it (the store builds path.cache);
    -> (now, area, root_pub). child=True on MicroPython: in a fresh interpreter with the door's
    heap, as the door resets after an install (firmware/main.py): what the install leaves
    behind (load-time qstrs, a fragmented heap) then stays out of the caller's heap."""
    import gc
    import sys
    from binascii import unhexlify

    v = {}
    for k, val in golden_stream(("now", "area", "root_pub")):
        v[k] = val
    now, area, root = int(v["now"]), int(v["area"]), unhexlify(v["root_pub"])
    if child and on_micropython() and getattr(sys, "executable", None):
        fw = os.getenv("GERBANG_FIRMWARE") or "firmware"
        rc = os.system("%s -X heapsize=112K -c \"import sys; sys.path[:0] = ['%s', "
                       "'tests/firmware']; import fwtest; fwtest.golden_install('%s')\""
                       % (sys.executable, fw, path))
        check(rc == 0, "install in a child interpreter failed: %r" % rc)
        return now, area, root
    from gerbang import truststore

    with open(path, "wb") as f:
        for _k, val in golden_stream(("bundle",)):
            f.write(unhexlify(val))
    store = truststore.TrustStore(path, root, area)
    check(trust_load(store, now), store.error)
    store = None
    gc.collect()
    return now, area, root
