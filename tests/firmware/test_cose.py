"""COSE_Sign1 strict profile (docs/PROTOCOL.md §1): cose-wg examples and our own fixtures."""

from fwtest import SHARED_VECTORS, check, load_json, raises
from gerbang import cbor, cbor_enc, cose, ed25519
from gerbang.reasons import CBOR, COSE, Reject

_EX = SHARED_VECTORS + "/cose-wg-examples/"
# RFC 8032 §7.1 TEST 1 key (also the key of eddsa-sig-01)
_SEED = bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
_PUB = bytes.fromhex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
_OTHER_PUB = bytes.fromhex("3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c")


def _parts(data):
    """Generic (non-profile) view of a COSE_Sign1: (protected, payload, signature)."""
    item = cbor.loads(data)
    msg = item.value if isinstance(item, cbor.Tag) else item
    return msg[0], msg[2], msg[3]


def test_eddsa_sig_01_signature_verifies():
    ex = load_json(_EX + "eddsa-examples/eddsa-sig-01.json")
    data = bytes.fromhex(ex["output"]["cbor"])
    protected, payload, sig = _parts(data)
    tbs = cose.sig_structure(protected, payload)
    check(bytes(tbs) == bytes.fromhex(ex["intermediates"]["ToBeSign_hex"]))
    check(bytes.fromhex(ex["input"]["sign0"]["key"]["x_hex"]) == _PUB)
    check(ed25519.verify(_PUB, tbs, sig))
    check(ed25519.PublicKey(_PUB).verify(tbs, sig))
    bad = bytearray(tbs)
    bad[-1] ^= 1
    check(not ed25519.verify(_PUB, bad, sig))


def test_eddsa_sig_01_header_layout_is_outside_our_profile():
    # Its protected header is {alg, ctyp} with the kid unprotected: our profile wants exactly
    # {1: -8, 4: kid} protected and an empty unprotected map, so decode() refuses it.
    ex = load_json(_EX + "eddsa-examples/eddsa-sig-01.json")
    e = raises(Reject, cose.decode, bytes.fromhex(ex["output"]["cbor"]))
    check(e.reason == COSE)


def test_sign1_tests_are_all_refused_by_the_profile():
    # ES256 messages with kid unprotected: wrong tag, changed alg, extra/removed header
    # entries, untagged. None is ours; every one must be a COSE rejection (never a crash).
    n = 0
    for name in ("sign-fail-01", "sign-fail-02", "sign-fail-03", "sign-fail-04",
                 "sign-fail-06", "sign-fail-07", "sign-pass-01", "sign-pass-02",
                 "sign-pass-03"):
        ex = load_json(_EX + "sign1-tests/" + name + ".json")
        e = raises(Reject, cose.decode, bytes.fromhex(ex["output"]["cbor"]))
        check(e.reason == COSE, name)
        n += 1
    check(n == 9)


def test_sig_structure_matches_the_examples():
    # sign-pass-02 carries external AAD; sign-fail-02 altered the payload after signing, so
    # its to-be-signed bytes (of the original message) must differ from ours.
    ex = load_json(_EX + "sign1-tests/sign-pass-02.json")
    protected, payload, _ = _parts(bytes.fromhex(ex["output"]["cbor"]))
    aad = bytes.fromhex(ex["input"]["sign0"]["external"])
    tbs = bytes.fromhex(ex["intermediates"]["ToBeSign_hex"])
    check(bytes(cose.sig_structure(protected, payload, aad)) == tbs)
    check(bytes(cose.sig_structure(protected, payload)) != tbs)
    ex = load_json(_EX + "sign1-tests/sign-fail-02.json")
    protected, payload, _ = _parts(bytes.fromhex(ex["output"]["cbor"]))
    tbs = bytes.fromhex(ex["intermediates"]["ToBeSign_hex"])
    mine = bytes(cose.sig_structure(protected, payload))
    check(mine != tbs and len(mine) == len(tbs) and mine[:-1] == tbs[:-1])


def _msg(payload=b"\xa0"):
    return cose.sign(_SEED, payload, cose.kid_of(_PUB))


def test_sign_decode_verify_round_trip():
    data = _msg(b"hello")
    m = cose.decode(data)
    check(m.kid == cose.kid_of(_PUB) and m.payload == b"hello" and len(m.signature) == 64)
    key = ed25519.PublicKey(_PUB)
    check(cose.verify(m, [key]) is key)
    check(cose.verify(m, []) is None)


def test_kid_collision_tries_every_key():
    m = cose.decode(_msg())
    other = ed25519.PublicKey(_OTHER_PUB)
    right = ed25519.PublicKey(_PUB)
    check(cose.verify(m, [other, right]) is right)
    check(cose.verify(m, [other]) is None)


def test_tampering_is_caught():
    data = bytearray(_msg(b"payload"))
    i = bytes(data).find(b"payload")
    data[i] ^= 1
    m = cose.decode(bytes(data))
    check(cose.verify(m, [ed25519.PublicKey(_PUB)]) is None)


def _build(protected, unprotected=None, payload=b"", sig=bytes(64), tag=18):
    item = [protected, {} if unprotected is None else unprotected, payload, sig]
    return cbor_enc.dumps(cbor.Tag(tag, item) if tag is not None else item)


def test_profile_strictness():
    kid = bytes(8)
    good = cbor_enc.dumps({1: -8, 4: kid})
    check(cose.decode(_build(good)).kid == kid)
    bad = [
        _build(cbor_enc.dumps({1: -8, 4: kid, 2: [1]})),  # crit / any extra entry
        _build(cbor_enc.dumps({1: -7, 4: kid})),  # ES256
        _build(cbor_enc.dumps({1: -8})),  # no kid
        _build(cbor_enc.dumps({1: -8, 4: bytes(7)})),  # short kid
        _build(cbor_enc.dumps({1: -8, 4: "kidkidki"})),  # kid as text
        _build(cbor_enc.dumps({1: -8, 4: kid}), {4: kid}),  # unprotected not empty
        _build(good, sig=bytes(63)),
        _build(good, payload="text"),
        _build(good, tag=17),
        _build(good, tag=None),
        _build(b""),  # empty protected bstr
        _build(b"\xa2\x01\x27\x04"),  # protected bytes not well-formed
        cbor_enc.dumps(cbor.Tag(18, [good, {}, b""])),
    ]
    for data in bad:
        e = raises(Reject, cose.decode, data)
        check(e.reason == COSE, bytes(data).hex())
    e = raises(Reject, cose.decode, _build(good) + b"\x00")  # trailing byte
    check(e.reason == CBOR)


# Protected headers whose labels equal 1 and 4 in Python but not in CBOR (1 == True == 1.0):
# the profile takes exactly the integer labels 1 and 4
_KID = "4800000000000000" + "00"
MISTYPED_LABELS = [
    "a2f527" + "04" + _KID,  # {true: -8, 4: kid}
    "a2f93c0027" + "04" + _KID,  # {1.0 (half): -8, 4: kid}
    "a2fb3ff000000000000027" + "04" + _KID,  # {1.0 (double): -8, 4: kid}
    "a20127" + "f94400" + _KID,  # {1: -8, 4.0: kid}
    "a2f527" + "fb4010000000000000" + _KID,  # {true: -8, 4.0: kid}
    "a2613127" + "6134" + _KID,  # {"1": -8, "4": kid}
    "a2413127" + "04" + _KID,  # {h'31': -8, 4: kid}
    "a2c10127" + "04" + _KID,  # {1(1): -8, 4: kid}
    "a3012704" + _KID + "f501",  # {1: -8, 4: kid, true: 1}: an extra entry
    "a3012704" + _KID + "6131" + "01",  # {1: -8, 4: kid, "1": 1}
]


def test_protected_header_labels_by_cbor_type():
    for h in MISTYPED_LABELS:
        for views in (False, True):
            data = _build(bytes.fromhex(h))
            e = raises(Reject, cose.decode, memoryview(data) if views else data, views)
            check(e.reason == COSE, h)
    check(cose.decode(_build(bytes.fromhex("a2012704" + _KID))).kid == bytes(8))


def test_decode_with_views_matches_copies():
    data = _msg(b"abc")
    a = cose.decode(data)
    b = cose.decode(memoryview(data), True)
    check(bytes(b.payload) == a.payload and bytes(b.protected) == a.protected)
    check(bytes(b.signature) == a.signature and b.kid == a.kid)
