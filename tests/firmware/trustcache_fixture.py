"""Shared set-up of the trust cache tests (test_trustcache.py, test_trustcache_boot.py): the
golden lists, a store at a per-process path, file helpers, and a stand-in that makes the
verification code unusable. Two test files, not one: a test module's bytecode stays in the
door-sized heap beside the core for the whole run, and one file of all of them left the
64-bit port's installs at the edge of 112K."""

import os
import sys

from fakes import tmpdir
from fwtest import GOLDEN, check, trust_install
from gerbang.truststore import TrustStore

PATH = tmpdir("trustcache") + "/trust.bin"  # unique per process: runs can overlap
_G = None


def golden_fields():
    global _G
    if _G is None:
        # only the lines needed, streamed: the whole vector file does not fit beside the
        # core compiled from source in a door-sized heap
        _G = {}
        with open(GOLDEN + "/golden_fw.txt") as f:
            for line in f:
                key, _, rest = line.rstrip("\n").partition(" ")
                if key in ("now", "area", "root_pub", "bundle", "bundle_older"):
                    _G[key] = int(rest) if rest.isdigit() else rest
                if len(_G) == 5:
                    break
    return _G


def clean():
    for suffix in ("", ".tmp", ".cache", ".cache.tmp", ".new", ".new.tmp", ".saved"):
        try:
            os.remove(PATH + suffix)
        except OSError:
            pass


def store(area=None):
    g = golden_fields()
    return TrustStore(PATH, bytes.fromhex(g["root_pub"]), area or g["area"])


def installed(which="bundle"):
    clean()
    st = store()
    check(trust_install(st, bytes.fromhex(golden_fields()[which]), golden_fields()["now"]))
    return st


def read(path):
    with open(path, "rb") as f:
        return f.read()


def digest(path):
    from gerbang.trustcache import file_digest

    return file_digest(path)


def write(path, data):
    with open(path, "wb") as f:
        f.write(data)


def copy(src, dst, n=None):
    # in small pieces: a cache is ~12 KB, more than a fragmented door-sized heap can hold
    buf = bytearray(256)
    left = os.stat(src)[6] if n is None else n
    with open(src, "rb") as f, open(dst, "wb") as g:
        while left > 0:
            k = f.readinto(buf)
            if not k:
                break
            k = min(k, left)
            g.write(buf[:k])
            left -= k


def flip(path, i):
    with open(path, "r+b") as f:
        f.seek(i)
        b = f.read(1)[0]
        f.seek(i)
        f.write(bytes((b ^ 0x10,)))


class Poison:
    """Stands in for the verification code: any use of it fails."""

    __file__ = "poison"

    def __getattr__(self, name):
        raise RuntimeError("verification code used")


_VERIFICATION = ("trustverify", "trustfile")


def without_verification(fn):
    import gerbang

    saved = [(n, sys.modules.get("gerbang." + n), getattr(gerbang, n, None)) for n in _VERIFICATION]
    poison = Poison()
    for n in _VERIFICATION:
        sys.modules["gerbang." + n] = poison
        setattr(gerbang, n, poison)
    try:
        return fn()
    finally:
        for n, mod, attr in saved:
            if mod is None:
                del sys.modules["gerbang." + n]
            else:
                sys.modules["gerbang." + n] = mod
            if attr is None:
                delattr(gerbang, n)
            else:
                setattr(gerbang, n, attr)
