"""The trust cache (docs/FIRMWARE_CORE.md "The trust cache"): verified once at install, the door
boots from the cache without the verification code; a corrupted, truncated, stale or foreign
cache is rebuilt from the bundle with a full verification and never trusted; staged bundles
are installed at boot; rollback is still refused; a power cut between the bundle and the cache
leaves a door that boots correctly."""

import os
import sys

from fakes import exists as _exists
from fakes import tmpdir
from fwtest import GOLDEN, check, raises, trust_install, trust_load
from gerbang.check import Checker
from gerbang.reasons import NO_TRUST
from gerbang.truststore import Rollback, TrustStore

_PATH = tmpdir("trustcache") + "/trust.bin"  # unique per process: runs can overlap
_G = None


def _golden():
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


def _clean():
    for suffix in ("", ".tmp", ".cache", ".cache.tmp", ".new", ".new.tmp", ".saved"):
        try:
            os.remove(_PATH + suffix)
        except OSError:
            pass


def _store(area=None):
    g = _golden()
    return TrustStore(_PATH, bytes.fromhex(g["root_pub"]), area or g["area"])


def _installed(which="bundle"):
    _clean()
    st = _store()
    check(trust_install(st, bytes.fromhex(_golden()[which]), _golden()["now"]))
    return st


def _read(path):
    with open(path, "rb") as f:
        return f.read()


def _digest(path):
    from gerbang.trustcache import file_digest

    return file_digest(path)


def _write(path, data):
    with open(path, "wb") as f:
        f.write(data)


def _copy(src, dst, n=None):
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


def _flip(path, i):
    with open(path, "r+b") as f:
        f.seek(i)
        b = f.read(1)[0]
        f.seek(i)
        f.write(bytes((b ^ 0x10,)))


class _Poison:
    """Stands in for gerbang.trustverify: any use of the verification code fails."""

    __file__ = "poison"

    def __getattr__(self, name):
        raise RuntimeError("verification code used")


def _without_verification(fn):
    import gerbang

    saved = sys.modules.get("gerbang.trustverify")
    had = hasattr(gerbang, "trustverify")
    old = getattr(gerbang, "trustverify", None)
    poison = _Poison()
    sys.modules["gerbang.trustverify"] = poison
    gerbang.trustverify = poison
    try:
        return fn()
    finally:
        if saved is None:
            del sys.modules["gerbang.trustverify"]
        else:
            sys.modules["gerbang.trustverify"] = saved
        if had:
            gerbang.trustverify = old
        else:
            delattr(gerbang, "trustverify")


_FIELDS = ("area", "serial", "issued", "expires", "min_doses", "categories", "clock_policy",
           "max_unsynced", "reuse_window", "tag_key", "revoked", "others", "signer_pub",
           "signer_not_after")


def _summary(tl):
    # every field, and each key's kid, pub, window and table (as a digest), in list order
    import hashlib

    keys = []
    for kid in sorted(tl.keys):
        for k in tl.keys[kid]:
            h = hashlib.sha256(k.pub._tab[0])
            h.update(k.pub._tab[1])
            keys.append((kid, k.pub.pub, k.accept_from, k.accept_until, k.area, h.digest()))
    return [getattr(tl, a) for a in _FIELDS] + keys


def test_install_writes_cache_and_a_fresh_store_boots_from_it():
    g = _golden()
    st = _installed()
    check(st.source == "bundle" and st.serial == 5)
    check(_read(_PATH) == bytes.fromhex(g["bundle"]))
    # header + base table + 3 keys (record + table) + revocations + other areas' kids + hash
    size = os.stat(_PATH + ".cache")[6]
    check(len(st.trust.others) == 16)  # the golden list names two other areas' kids
    check(size == 168 + 2880 + 3 * (52 + 2880) + len(st.trust.revoked) + 16 + 32)
    check(not _exists(_PATH + ".cache.tmp") and not _exists(_PATH + ".tmp"))
    want = _summary(st.trust)
    st = None
    st = _store()
    check(_without_verification(lambda: trust_load(st, None)))
    check(st.source == "cache" and st.error is None and st.serial == 5)
    check(_summary(st.trust) == want and len(want) == len(_FIELDS) + 3)


def test_cache_gives_the_same_decisions_as_the_bundle_path():
    """Booted from the cache (verification code unusable), every golden certificate gets its
    golden decision, all five fields; and every table read from the cache equals the table
    the bundle path builds for that key now (one at a time: a door-sized heap)."""
    g = _golden()
    _installed()
    st = _store()
    check(_without_verification(lambda: trust_load(st, None)) and st.source == "cache")
    c = Checker(st, g["area"])
    n = 0
    with open(GOLDEN + "/golden_fw.txt") as f:
        for line in f:
            if not line.startswith("cert "):
                if n:
                    break  # the certificates are done; long sync vectors follow
                continue
            p = line.rstrip("\n").split(" ", 8)
            d = c.check(p[8], g["now"], int(p[4]))
            got = ("1" if d.allow else "0", str(d.reason), str(d.flags),
                   bytes(d.kid).hex() if d.kid else "-",
                   bytes(d.subject_tag).hex() if d.subject_tag else "-")
            check(got == (p[2], p[3], p[5], p[6], p[7]), "%s: %r" % (p[1], got))
            n += 1
    check(n >= 20)
    from gerbang import ed25519_tables
    from gerbang.ed25519_field import base_ready, new_table

    tab = new_table()
    for kid in st.trust.keys:
        for k in st.trust.keys[kid]:
            ed25519_tables.key_table(k.pub.pub, tab, None)
            check(tab == k.pub._tab)
    ed25519_tables.base_table_into(tab)
    check(tab == base_ready())


def test_corrupted_or_truncated_cache_is_rebuilt_never_trusted():
    _installed()
    cache = _PATH + ".cache"
    saved = _PATH + ".saved"
    _copy(cache, saved)
    good = _digest(cache)
    n = os.stat(cache)[6]
    # bit flips in: magic, serial, base table, first key record, a key table, revocations,
    # the trailing hash; then truncations and a byte too many
    damage = [("flip", i) for i in (0, 80, 300, 168 + 2880 + 10, 168 + 2880 + 52 + 700,
                                    n - 40, n - 1)]
    damage += [("cut", k) for k in (0, 100, 168, 3000, n - 33, n - 1)] + [("grow", 1)]
    for how, i in damage:
        _copy(saved, cache, i if how == "cut" else None)
        if how == "flip":
            _flip(cache, i)
        elif how == "grow":
            with open(cache, "ab") as f:
                f.write(b"\x00")
        st = _store()
        # without the verification code, a bad cache gives no trust at all
        check(not _without_verification(lambda: trust_load(st, None)) and st.trust is None, how)
        check(trust_load(st, None) and st.source == "bundle" and st.serial == 5, how)
        check(_digest(cache) == good, how)  # rebuilt, byte for byte
        st = None
    os.remove(saved)


def test_cache_of_an_older_bundle_or_another_door_is_rebuilt():
    g = _golden()
    st = _installed("bundle_older")
    _copy(_PATH + ".cache", _PATH + ".saved")
    check(trust_install(st, bytes.fromhex(g["bundle"]), g["now"]) and st.serial == 5)
    st = None
    newer = _digest(_PATH + ".cache")
    _copy(_PATH + ".saved", _PATH + ".cache")  # the cache of serial 4 beside bundle serial 5
    os.remove(_PATH + ".saved")
    st = _store()
    check(trust_load(st, None) and st.source == "bundle" and st.serial == 5)
    check(_digest(_PATH + ".cache") == newer)
    # a door of another area with this cache and bundle: rebuilt, then refused
    st = _store(area=2)
    check(not trust_load(st, None) and st.trust is None and "area" in st.error)
    # another pinned root: the cache does not count, the bundle is refused
    st = TrustStore(_PATH, bytes(32), 1)
    check(not trust_load(st, None) and st.trust is None)


def test_missing_cache_is_rebuilt_and_missing_bundle_means_no_trust():
    _installed()
    os.remove(_PATH + ".cache")
    st = _store()
    check(trust_load(st, None) and st.source == "bundle" and _exists(_PATH + ".cache"))
    os.remove(_PATH)
    st = _store()
    check(not trust_load(st, None) and st.trust is None and "no trust list" in st.error)


def test_key_certificate_validity_checked_from_the_cache():
    _installed()
    st = _store()
    check(not trust_load(st, 2**40) and st.trust is None and "validity" in st.error)
    check(trust_load(st, _golden()["now"]) and st.source == "cache")


def test_rollback_refused_online_and_at_boot():
    g = _golden()
    st = _installed()
    e = raises(Rollback, trust_install, st, bytes.fromhex(g["bundle_older"]), g["now"])
    check(e.reason == NO_TRUST and st.serial == 5)
    st.stage(bytes.fromhex(g["bundle_older"]))
    check(_exists(_PATH + ".new"))
    st = _store()
    check(trust_load(st, None) and st.serial == 5 and "rollback" in st.pending_error)
    check(not _exists(_PATH + ".new") and _read(_PATH) == bytes.fromhex(g["bundle"]))
    st.stage(bytes.fromhex(g["bundle"]))  # the same list again: kept, no error
    check(trust_load(st, None) and st.serial == 5 and st.pending_error is None)


def test_staged_bundle_installed_at_boot():
    g = _golden()
    st = _installed("bundle_older")
    st.stage(bytes.fromhex(g["bundle"]))
    st = _store()
    check(trust_load(st, None) and st.serial == 5 and st.pending_error is None)
    check(_read(_PATH) == bytes.fromhex(g["bundle"]) and not _exists(_PATH + ".new"))
    st = _store()
    check(_without_verification(lambda: trust_load(st, None)) and st.source == "cache")
    # a broken staged bundle is refused and removed; the held list stays
    st.stage(b"\x82\x40\x40")
    check(trust_load(st, None) and st.serial == 5 and st.pending_error)
    check(not _exists(_PATH + ".new"))
    # first boot: nothing held yet, the staged list is installed
    _clean()
    st = _store()
    st.stage(bytes.fromhex(g["bundle"]))
    check(trust_load(st, None) and st.serial == 5 and st.source == "cache")


def test_power_cut_between_bundle_and_cache():
    g = _golden()
    _installed("bundle_older")
    # cut after the bundle's rename, before the cache's: new bundle, old cache (+ its tmp)
    _write(_PATH, bytes.fromhex(g["bundle"]))
    _copy(_PATH + ".cache", _PATH + ".cache.tmp", 1000)
    st = _store()
    check(trust_load(st, None) and st.source == "bundle" and st.serial == 5)
    st = _store()
    check(_without_verification(lambda: trust_load(st, None)) and st.serial == 5)
    st = None  # a door holds one list: let this one go before the next install
    # cut before the bundle's rename: old bundle and cache, a partial tmp: old list
    _installed("bundle_older")
    _write(_PATH + ".tmp", bytes.fromhex(g["bundle"])[:200])
    st = _store()
    check(_without_verification(lambda: trust_load(st, None)) and st.serial == 4)
    # cut while the cache was first written: bundle present, no cache
    os.remove(_PATH + ".cache")
    st = _store()
    check(trust_load(st, None) and st.serial == 4 and st.source == "bundle")
