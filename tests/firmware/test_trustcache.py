"""The trust cache (docs/FIRMWARE_CORE.md "The trust cache"): verified once at install, the door
boots from the cache without the verification code; a corrupted, truncated or missing cache is
rebuilt from the bundle with a full verification and never trusted. (Stale and foreign caches,
staged bundles, rollback and power cuts: test_trustcache_boot.py.)"""

import os

from fakes import exists as _exists
from fwtest import GOLDEN, check, trust_load
from gerbang.check import Checker
from trustcache_fixture import (
    PATH,
    copy,
    digest,
    flip,
    golden_fields,
    installed,
    read,
    store,
    without_verification,
    write,
)

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
    g = golden_fields()
    st = installed()
    check(st.source == "bundle" and st.serial == 5)
    check(read(PATH) == bytes.fromhex(g["bundle"]))
    # header + base table + 3 keys (record + table) + revocations + other areas' kids + hash
    size = os.stat(PATH + ".cache")[6]
    check(len(st.trust.others) == 16)  # the golden list names two other areas' kids
    check(size == 168 + 2880 + 3 * (52 + 2880) + len(st.trust.revoked) + 16 + 32)
    check(not _exists(PATH + ".cache.tmp") and not _exists(PATH + ".tmp"))
    want = _summary(st.trust)
    st = None
    st = store()
    check(without_verification(lambda: trust_load(st, None)))
    check(st.source == "cache" and st.error is None and st.serial == 5)
    check(_summary(st.trust) == want and len(want) == len(_FIELDS) + 3)


def test_cache_gives_the_same_decisions_as_the_bundle_path():
    """Booted from the cache (verification code unusable), every golden certificate gets its
    golden decision, all five fields; and every table read from the cache equals the table
    the bundle path builds for that key now (one at a time: a door-sized heap)."""
    g = golden_fields()
    installed()
    st = store()
    check(without_verification(lambda: trust_load(st, None)) and st.source == "cache")
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
    from gerbang.truststore import drop

    try:
        tab = new_table()
        for kid in st.trust.keys:
            for k in st.trust.keys[kid]:
                ed25519_tables.key_table(k.pub.pub, tab, None)
                check(tab == k.pub._tab)
        ed25519_tables.base_table_into(tab)
        check(tab == base_ready())
    finally:
        # load-time code, let go as the door does (held, it would sit in the later tests'
        # heap: they then failed at 104K on the 64-bit port)
        ed25519_tables = None
        drop(("ed25519_tables",))


def test_corrupted_or_truncated_cache_is_rebuilt_never_trusted():
    installed()
    cache = PATH + ".cache"
    saved = PATH + ".saved"
    copy(cache, saved)
    good = digest(cache)
    n = os.stat(cache)[6]
    # bit flips in: magic, serial, base table, first key record, a key table, revocations,
    # the trailing hash; then truncations and a byte too many
    damage = [("flip", i) for i in (0, 80, 300, 168 + 2880 + 10, 168 + 2880 + 52 + 700,
                                    n - 40, n - 1)]
    damage += [("cut", k) for k in (0, 100, 168, 3000, n - 33, n - 1)] + [("grow", 1)]
    for how, i in damage:
        copy(saved, cache, i if how == "cut" else None)
        if how == "flip":
            flip(cache, i)
        elif how == "grow":
            with open(cache, "ab") as f:
                f.write(b"\x00")
        st = store()
        # without the verification code, a bad cache gives no trust at all
        check(not without_verification(lambda: trust_load(st, None)) and st.trust is None, how)
        check(trust_load(st, None) and st.source == "bundle" and st.serial == 5, how)
        check(digest(cache) == good, how)  # rebuilt, byte for byte
        st = None
    os.remove(saved)


def test_missing_cache_is_rebuilt_and_missing_bundle_means_no_trust():
    installed()
    os.remove(PATH + ".cache")
    st = store()
    check(trust_load(st, None) and st.source == "bundle" and _exists(PATH + ".cache"))
    os.remove(PATH)
    st = store()
    check(not trust_load(st, None) and st.trust is None and "no trust list" in st.error)


def test_key_certificate_validity_checked_from_the_cache():
    installed()
    st = store()
    check(not trust_load(st, 2**40) and st.trust is None and "validity" in st.error)
    check(trust_load(st, golden_fields()["now"]) and st.source == "cache")



def test_serial_a_hint_from_the_header_or_checked_whole_against_the_bundle():
    from gerbang.trustcache import file_digest, serial

    g = golden_fields()
    root = bytes.fromhex(g["root_pub"])
    installed()
    bundle = file_digest(PATH)
    check(serial(PATH, root, g["area"]) == 5 and serial(PATH, root, g["area"], bundle) == 5)
    check(serial(PATH, root, 2) == 0 and serial(PATH, bytes(32), g["area"], bundle) == 0)
    copy(PATH + ".cache", PATH + ".saved")
    flip(PATH + ".cache", 4000)  # inside a key table: the header still reads 5
    check(serial(PATH, root, g["area"]) == 5 and serial(PATH, root, g["area"], bundle) == 0)
    copy(PATH + ".saved", PATH + ".cache")
    check(serial(PATH, root, g["area"], bundle) == 5)
    write(PATH, bytes.fromhex(g["bundle_older"]))  # another bundle beside this cache
    check(serial(PATH, root, g["area"], file_digest(PATH)) == 0)
    os.remove(PATH + ".cache")
    check(serial(PATH, root, g["area"]) == 0 and serial(PATH, root, g["area"], bundle) == 0)
    os.remove(PATH + ".saved")
