"""Trust store (docs/PROTOCOL.md §3-4): chain to the pinned root, rollback, atomic install,
broken stored files, revocation search."""

import os

from fakes import exists as _exists
from fakes import tmpdir
from fwtest import check, golden, raises, trust_install, trust_load, trust_opened
from gerbang import cbor_enc, cose
from gerbang.reasons import NO_TRUST, Reject
from gerbang.truststore import TrustList, TrustStore, listed
from selfchain import ISSUER_PUB, self_made

_PATH = tmpdir("truststore") + "/trust.bin"  # unique per process: runs can overlap
_G = None


def _golden():
    global _G
    if _G is None:
        g = golden()  # tests/vectors/golden_fw.txt: line-based, fits the door-sized heap
        valid = [c for c in g["certificates"] if c["name"] == "valid"][0]
        _G = {k: g[k] for k in ("now", "area", "root_pub", "bundle", "bundle_older",
                                "tag_key", "issuer_pub")}
        _G["issuer_kid"] = valid["kid"]  # the kid the valid certificate was signed under
        del g, valid
    return _G


def _fresh(area=None, root=None):
    g = _golden()
    for p in (_PATH, _PATH + ".tmp", _PATH + ".cache", _PATH + ".cache.tmp", _PATH + ".new"):
        try:
            os.remove(p)
        except OSError:
            pass
    return TrustStore(_PATH, bytes.fromhex(root or g["root_pub"]), area or g["area"])


def _read():
    with open(_PATH, "rb") as f:
        return f.read()


def _rollback():
    from gerbang.trustinstall import Rollback  # load-time code: the class, not the module, kept

    return Rollback


def test_golden_bundle_installs_and_reloads():
    g = _golden()
    st = _fresh()
    check(not trust_load(st, g["now"]) and st.trust is None and "no trust list" in st.error)
    bundle = bytes.fromhex(g["bundle"])
    check(trust_install(st, bundle, g["now"]) is True)
    tl = st.trust
    check(tl.area == 1 and tl.serial == 5 and st.serial == 5 and tl.valid_at(g["now"]))
    check(tl.tag_key == bytes.fromhex(g["tag_key"]))
    issuer_kid = cose.kid_of(bytes.fromhex(g["issuer_pub"]))
    check(issuer_kid == bytes.fromhex(g["issuer_kid"]))
    # the golden list holds the issuer, a retired issuer and a decoy sharing the issuer's kid
    check(len(tl.keys_for(issuer_kid)) == 2 and tl.keys_for(b"\x00" * 8) is None)
    check(sum(len(v) for v in tl.keys.values()) == 3)
    check(_read() == bundle)
    try:
        os.stat(_PATH + ".tmp")
        check(False, "temporary file left behind")
    except OSError:
        pass
    st2 = TrustStore(_PATH, bytes.fromhex(g["root_pub"]), 1)
    check(trust_load(st2, g["now"]) and st2.trust.serial == 5 and st2.error is None)
    check(trust_load(st2, None) and st2.trust.serial == 5)  # clock unknown at boot: still loads


def test_rollback_refused_equal_serial_kept():
    g = _golden()
    st = _fresh()
    check(trust_install(st, bytes.fromhex(g["bundle_older"]), g["now"]) and st.serial == 4)
    check(trust_install(st, bytes.fromhex(g["bundle"]), g["now"]) and st.serial == 5)
    e = raises(_rollback(), trust_install, st, bytes.fromhex(g["bundle_older"]), g["now"])
    check(e.reason == NO_TRUST and "rollback" in e.args[0])
    check(st.serial == 5 and _read() == bytes.fromhex(g["bundle"]))
    check(trust_install(st, bytes.fromhex(g["bundle"]), g["now"]) is False)  # same list: kept


def test_truncated_and_garbage_bundles_rejected():
    g = _golden()
    st = _fresh()
    bundle = bytes.fromhex(g["bundle"])
    bad = [b"", b"\x00", b"garbage" * 10, bundle[:-1], bundle[: len(bundle) // 2],
           bundle[:40], bundle + b"\x00", cbor_enc.dumps([bundle]), cbor_enc.dumps([b"", b""])]
    for i in (60, len(bundle) // 2, len(bundle) - 10):  # flips in keycert, list, signature
        b = bytearray(bundle)
        b[i] ^= 0x04
        bad.append(bytes(b))
    for b in bad:
        e = raises(Reject, trust_install, st, b, g["now"])
        check(e.reason == NO_TRUST)
    check(st.trust is None and not _exists(_PATH))


def test_broken_stored_file_means_no_trust():
    g = _golden()
    bundle = bytes.fromhex(g["bundle"])
    for content in (bundle[:100], b"", b"\xff" * 300):
        st = _fresh()
        with open(_PATH, "wb") as f:
            f.write(content)
        check(trust_load(st, g["now"]) is False and st.trust is None and st.error)
    st = _fresh()
    check(trust_install(st, bundle, g["now"]))
    check(not trust_load(st, 2**40))  # key certificate long past its validity (bad clock): refused


def test_wrong_root_or_area_refused():
    g = _golden()
    st = _fresh(root="d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
    raises(Reject, trust_install, st, bytes.fromhex(g["bundle"]), g["now"])
    st = _fresh(area=2)
    e = raises(Reject, trust_install, st, bytes.fromhex(g["bundle"]), g["now"])
    check("area" in e.args[0])


def test_expired_list_not_installed():
    g = _golden()
    st = _fresh()
    trust_install(st, bytes.fromhex(g["bundle"]), g["now"])
    exp = st.trust.expires
    st = _fresh()
    e = raises(Reject, trust_install, st, bytes.fromhex(g["bundle"]), exp)
    check(e.reason == NO_TRUST)


def test_self_made_chain_and_its_rules():
    root_pub, good = self_made()
    st = TrustStore(_PATH, root_pub, 1)
    tl_ok = trust_opened(st, good, 1000)
    check(tl_ok.serial == 9 and tl_ok.min_doses == 0 and tl_ok.categories == 0b111110)
    check(tl_ok.clock_policy == 1 and tl_ok.max_unsynced == 7 * 86400 and tl_ok.reuse_window == 0)
    h1, h2 = b"\x01" * 8, b"\x02" * 8
    for kwargs in ({"role": 2}, {"revoked": h2 + h1}, {"revoked": h1 + h1},
                   {"revoked": h1 + b"\x00"}, {"area": 19},
                   {"keys": [[b"k" * 8, ISSUER_PUB, 0, 1, 1]] * 17},
                   {"keys": [[b"k" * 8, b"\xff" * 32, 0, 1, 1]]},  # not a curve point
                   {"keys": [[b"k" * 8, ISSUER_PUB, -1, 1, 1]]}):
        _, b = self_made(**kwargs)
        e = raises(Reject, trust_opened, st, b, 1000)  # in RAM
        check(e.reason == NO_TRUST, repr(kwargs))
        e = raises(Reject, trust_install, st, b, 1000)  # from its file, as at boot
        check(e.reason == NO_TRUST and st.trust is None, repr(kwargs))


def test_revocation_binary_search():
    tl = TrustList()
    hashes = sorted(bytes(((i * 37) & 0xFF, i >> 8, 7, 7, 7, 7, 7, i & 1)) for i in range(0, 600, 3))
    tl.revoked = b"".join(hashes)
    for h in hashes:
        check(listed(tl.revoked, h))
    for i in range(1, 600, 3):
        check(not listed(tl.revoked, bytes(((i * 37) & 0xFF, i >> 8, 7, 7, 7, 7, 7, i & 1))))
    check(not listed(tl.revoked, b"\x00" * 8) and not listed(tl.revoked, b"\xff" * 8))
    tl.revoked = b""
    check(not listed(tl.revoked, hashes[0]))
