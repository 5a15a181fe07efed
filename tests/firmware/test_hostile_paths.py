"""The decoder's classes of issue 10 where they hurt: the trust-bundle and sync-response paths
(views mode) refuse chunked strings with Reject, never another exception, before any signature
is checked. Runs on CPython and MicroPython."""

from fakes import rmtree, tmpdir
from fwtest import check, golden, raises
from gerbang import cbor, cbor_enc, syncproto
from gerbang.reasons import CBOR, NO_TRUST, Reject
from gerbang.truststore import TrustStore


def _chunked(b):
    # b as an indefinite-length byte string of two chunks (well-formed CBOR, not the profile)
    h = len(b) // 2
    return b"\x5f" + cbor_enc.dumps(b[:h]) + cbor_enc.dumps(b[h:]) + b"\xff"


def test_chunked_trust_bundle_is_no_trust():
    g = golden()
    bundle = bytes.fromhex(g["bundle"])
    root = bytes.fromhex(g["root_pub"])
    now, area = g["now"], g["area"]
    g = None
    kc, lst = cbor.loads(bundle)
    d = tmpdir("hostile")
    for bad in (b"\x82" + _chunked(kc) + cbor_enc.dumps(lst),
                b"\x82" + cbor_enc.dumps(kc) + _chunked(lst),
                b"\x9f" + cbor_enc.dumps(kc) + cbor_enc.dumps(lst) + b"\xff"):
        st = TrustStore(d + "/trust.bin", root, area)
        e = raises(Reject, st.install, bad, now)
        check(e.reason == NO_TRUST and "indefinite" in e.args[0], e.args[0])
        check(st.trust is None)
    rmtree(d)


def test_chunked_sync_response_is_refused():
    protected = cbor_enc.dumps({1: -8, 4: bytes(8)})
    payload = cbor_enc.dumps({1: "gb-01-0001", 5: b"k"})
    for body in (b"\xd2\x84" + cbor_enc.dumps(protected) + b"\xa0" + _chunked(payload) +
                 cbor_enc.dumps(bytes(64)),
                 b"\xd2\x84" + _chunked(protected) + b"\xa0" + cbor_enc.dumps(payload) +
                 cbor_enc.dumps(bytes(64)),
                 b"\xd2\x84" + cbor_enc.dumps(protected) + b"\xa0" +
                 cbor_enc.dumps(b"\xa1\x05\x5f\x41\x00\xff") + cbor_enc.dumps(bytes(64)),
                 b"\xd2\x84" + cbor_enc.dumps(protected) + b"\xa0" +
                 cbor_enc.dumps(b"\xa2\x05\x41\x00\xf5\x01") + cbor_enc.dumps(bytes(64))):
        for data in (body, memoryview(body)):
            e = raises(Reject, syncproto.open_response, data, bytes(32), bytes(16))
            check(e.reason == CBOR, "%d %s" % (e.reason, e.args[0]))
