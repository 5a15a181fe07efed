"""A trust bundle installed from its file (gerbang.trustfile.open_file: never held whole, the
signature over the file's own payload hashed from the file) against the same bundle in RAM
(open_bundle): the same lists accepted with the same fields, the same damaged bundles refused.
A long list's revocations stay in the trust cache file, are found there by
truststore.listed, and are covered by the cache's hash. CPython and MicroPython."""

import os

from fakes import tmpdir
from fwtest import GOLDEN, check, trust_install, trust_load
from gerbang.reasons import NO_TRUST, Reject
from gerbang.truststore import TrustStore, drop, listed
from selfchain import self_made

_DIR = tmpdir("trustfile")  # unique per process: runs can overlap


def _golden_bundle():
    with open(GOLDEN + "/golden_fw.txt") as f:
        for line in f:
            key, _, rest = line.rstrip("\n").partition(" ")
            if key == "root_pub":
                root = bytes.fromhex(rest)
            elif key == "bundle":
                return root, bytes.fromhex(rest)


def _write(path, data):
    with open(path, "wb") as f:
        f.write(data)


def _fields(tl, revoked, pending):
    # every field of an opened list; pending: its keys, (kid, pub, point, from, until, area)
    return (tl.area, tl.serial, tl.issued, tl.expires, tl.min_doses, tl.categories,
            tl.clock_policy, tl.max_unsynced, tl.reuse_window, bytes(tl.tag_key), bytes(revoked),
            bytes(tl.others), tl.signer_pub, tl.signer_not_after, pending)


def _file_revoked(r):
    with open(r[0], "rb") as f:
        f.seek(r[1])
        return f.read(8 * r[2])


def _outcome(tv, path, data, root):
    """(True, fields) when both paths accept, (False, None) when both refuse with
    Reject(NO_TRUST); anything else fails the test."""
    _write(path, data)
    try:
        from gerbang import trustfile

        tl, pending = trustfile.open_file(path, root, None)
        trustfile = None
        got = _fields(tl, _file_revoked(tl.revoked), pending)
    except Reject as e:
        check(e.reason == NO_TRUST, e.args[0])
        got = None
    tl = pending = None
    try:
        tl, pending = tv.open_bundle(data, root, None, False)
        want = _fields(tl, tl.revoked, pending)
    except Reject as e:
        check(e.reason == NO_TRUST, e.args[0])
        want = None
    check(got == want, "file path %r, RAM path %r" % (got is not None, want is not None))
    return want is not None


def test_file_and_ram_paths_agree_on_every_damaged_bundle():
    from gerbang import trustverify as tv

    try:
        root, bundle = _golden_bundle()
        path = _DIR + "/b.bin"
        n = len(bundle)
        check(_outcome(tv, path, bundle, root))  # the good one: accepted by both, same fields
        refused = 0
        # a flip in every region (heads, keycert, keys, revocations, tag key, signature), cuts
        # at every head boundary region and a byte too many
        for i in range(0, n, max(1, n // 61)):
            b = bytearray(bundle)
            b[i] ^= 0x10
            refused += not _outcome(tv, path, bytes(b), root)
        for k in (0, 1, 2, 3, 5, 40, 200, n // 2, n - 67, n - 66, n - 64, n - 1):
            refused += not _outcome(tv, path, bundle[:k], root)
        refused += not _outcome(tv, path, bundle + b"\x00", root)
        check(refused >= 60, "only %d damaged bundles refused" % refused)
    finally:
        tv = None
        drop(("trustfile", "trustverify", "ed25519_oneoff", "ed25519_tables"))


def test_file_and_ram_paths_agree_on_self_made_lists():
    h = [bytes((i >> 8, i & 0xFF)) + b"\x07" * 6 for i in range(1, 40)]
    good = b"".join(h)
    cases = []
    for revoked, ok in ((b"", True), (good, True), (h[1] + h[0], False), (h[0] + h[0], False),
                        (good + b"\x01", False), (good[:-8] + h[0], False)):
        root, b = self_made(revoked=revoked)  # signed before the verifier is loaded: heap
        cases.append((b, ok, len(revoked)))
    from gerbang import trustverify as tv

    try:
        for b, ok, n in cases:
            check(_outcome(tv, _DIR + "/s.bin", b, root) == ok, "%d bytes, ok=%r" % (n, ok))
    finally:
        tv = None
        drop(("trustfile", "trustverify", "ed25519_oneoff", "ed25519_tables"))


def _id(i):
    return bytes((i >> 8, i & 0xFF, 3)) + b"\x09" * 5  # sorted by i


def test_long_list_is_searched_in_the_cache_file_and_hashed_with_it():
    rv = bytearray(2400)  # 300 ids, one block (a join of 300 objects took a 4 KB list)
    for i in range(0, 600, 2):
        rv[4 * i:4 * i + 8] = _id(i)
    root, bundle = self_made(revoked=bytes(rv))
    rv = None
    path = _DIR + "/trust.bin"
    for suffix in ("", ".cache", ".new"):
        try:
            os.remove(path + suffix)
        except OSError:
            pass
    st = TrustStore(path, root, 1)
    check(trust_install(st, bundle, 1000) and st.serial == 9)
    r = st.trust.revoked
    check(type(r) is tuple and r[0] == path + ".cache" and r[2] == 300, repr(r))
    for i in range(600):
        check(listed(r, _id(i)) == (i % 2 == 0), str(i))
    check(not listed(r, bytes(8)) and not listed(r, b"\xff" * 8))
    # a fresh boot reads the cache: the same, the ids still not in the heap
    st = TrustStore(path, root, 1)
    check(trust_load(st, 1000) and st.source == "cache" and type(st.trust.revoked) is tuple)
    check(listed(st.trust.revoked, _id(300)))
    # one flipped bit among the cached ids: the cache is not trusted, it is rebuilt
    with open(path + ".cache", "r+b") as f:
        f.seek(r[1] + 8 * 150)  # _id(300)
        b = f.read(1)[0]
        f.seek(r[1] + 8 * 150)  # _id(300)
        f.write(bytes((b ^ 1,)))
    st = TrustStore(path, root, 1)
    check(trust_load(st, 1000) and st.source == "bundle" and listed(st.trust.revoked, _id(300)))
    # a cache cut short under a running door: the search raises (the scan is denied INTERNAL)
    with open(path + ".cache", "r+b") as f:
        data = f.read(r[1] + 80)
    _write(path + ".cache", data)
    data = None
    try:
        listed(st.trust.revoked, _id(598))
        check(False, "a short cache must not answer")
    except OSError:
        pass
