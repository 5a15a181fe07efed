"""Sync exchange, device side (docs/PROTOCOL.md §6): the golden request is reproduced byte for
byte and the golden response verifies; tampering, replays and wrong roots are refused."""

from fwtest import check, golden, raises
from gerbang import cbor, cose, ed25519, syncproto
from gerbang.reasons import NO_TRUST, SIGNATURE, Reject

_G = None


def _golden():
    global _G
    if _G is None:
        g = golden()  # tests/vectors/golden_fw.txt: line-based, fits the door-sized heap
        _G = {"req": {}, "resp": {}, "root": g["root_pub"], "now": g["now"],
              "bundle": g["bundle"], "signer": g["signer_pub"]}
        for k in g:
            if k.startswith("sync_request_"):
                _G["req"][k[13:]] = g[k]
            elif k.startswith("sync_response_"):
                _G["resp"][k[14:]] = g[k]
        del g
    return _G


def test_golden_request_reproduced():
    req = _golden()["req"]
    seed = bytes.fromhex(req["device_seed"])
    pub = ed25519.public_key(seed)
    check(pub == bytes.fromhex(req["device_pub"]))
    golden = bytes.fromhex(req["cose"])
    p = cbor.loads(cose.decode(golden).payload)  # fields the vector file does not list
    check(p[1] == req["device_id"] and p[2] == int(req["counter"]))
    check(p[3] == bytes.fromhex(req["nonce"]) and p[6] == bytes.fromhex(req["records"]))
    records = bytes.fromhex(req["records"])
    check(p[5] == int(req["first_seq"]))
    check(p[5] == int.from_bytes(records[:4], "little"))  # first_seq = seq of the 1st record
    data = syncproto.build_request(seed, cose.kid_of(pub), req["device_id"], int(req["counter"]),
                                   bytes.fromhex(req["nonce"]), p[4], p[5],
                                   records, p[7], p[8], p[9])
    check(data == golden, "request bytes differ from the host reference")
    m = cose.decode(data)
    check(ed25519.verify(pub, cose.sig_structure(m.protected, m.payload), m.signature))


def _open(data=None, nonce=None, root=None, **kw):
    g = _golden()
    nonce = bytes.fromhex(g["req"]["nonce"]) if nonce is None else nonce
    return syncproto.open_response(bytes.fromhex(g["resp"]["cose"]) if data is None else data,
                                   bytes.fromhex(root or g["root"]), nonce, **kw)


def test_golden_response_verifies():
    g = _golden()
    r = _open(device_id=g["req"]["device_id"], now=g["now"])
    check(r.acked_seq == int(g["resp"]["acked_seq"]))
    check(r.server_time == int(g["resp"]["server_time"]))
    check(r.signer_pub == bytes.fromhex(g["signer"]))  # the trust-list signer answers syncs
    # the answer names the bundle (serial, size, SHA-256); the door fetches it (gerbang.sync)
    import hashlib

    b = bytes.fromhex(g["bundle"])
    check(r.bundle == (5, len(b), hashlib.sha256(b).digest()))
    check(r.config == {1: 900, 2: 3000})


def test_replayed_or_misdirected_response_refused():
    e = raises(Reject, _open, nonce=bytes(16))
    check(e.reason == SIGNATURE and "nonce" in e.args[0])
    e = raises(Reject, _open, device_id="gb-99-9999")
    check(e.reason == SIGNATURE)


def test_tampered_response_or_wrong_root_refused():
    g = _golden()
    data = bytearray(bytes.fromhex(g["resp"]["cose"]))
    i = bytes(data).find(b"\x02\x03\x03\x1a")  # acked_seq: 3 -> 4 (then server_time)
    check(i > 0)
    data[i + 1] = 4
    e = raises(Reject, _open, bytes(data))
    check(e.reason == SIGNATURE)
    root = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
    e = raises(Reject, _open, root=root)
    check(e.reason == NO_TRUST)
    e = raises(Reject, _open, now=2**40)  # key certificate long expired
    check(e.reason == NO_TRUST)
    raises(Reject, _open, bytes.fromhex(g["resp"]["cose"])[:-1])
