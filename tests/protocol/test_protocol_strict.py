"""Strict decoding: every malformed object raises ProtocolError with the reason the spec names."""

import json

import cbor2
import pytest

from gerbang_protocol import (
    Certificate,
    ProtocolError,
    Reason,
    ScanRecord,
    Status,
    decode_claims,
    decode_qr,
    decode_sign1,
    encode_qr,
    issue_cose,
    load_private_key,
    open_bundle,
)
from gerbang_protocol import cbor as strict_cbor
from gerbang_protocol.cose import sig_structure
from tests.conftest import GOLDEN

KEY = load_private_key(bytes(range(32)))
with open(GOLDEN) as f:
    V = json.load(f)


def cose_with(protected: object, unprotected: object = None, payload: bytes = b"\xa0",
              sig: bytes = bytes(64), tag: int = 18) -> bytes:
    prot = cbor2.dumps(protected) if not isinstance(protected, bytes) else protected
    return cbor2.dumps(cbor2.CBORTag(tag, [prot, {} if unprotected is None else unprotected,
                                          payload, sig]))


def reason_of(fn, *args) -> Reason:
    with pytest.raises(ProtocolError) as e:
        fn(*args)
    return e.value.reason


GOOD_HDR = {1: -8, 4: bytes(8)}


@pytest.mark.parametrize("data,reason", [
    (cose_with(GOOD_HDR, tag=17), Reason.COSE),
    (cose_with({1: -8, 4: bytes(8), 2: [1]}), Reason.COSE),          # crit: unknown critical
    (cose_with({1: -7, 4: bytes(8)}), Reason.COSE),                  # ES256, not EdDSA
    (cose_with({1: -8}), Reason.COSE),                               # no kid
    (cose_with({1: -8, 4: bytes(7)}), Reason.COSE),                  # kid of 7 bytes
    (cose_with({1: -8, 4: "kid-text"}), Reason.COSE),                # kid as text
    (cose_with(GOOD_HDR, unprotected={4: bytes(8)}), Reason.COSE),   # unprotected not empty
    (cose_with(GOOD_HDR, sig=bytes(63)), Reason.COSE),
    (cose_with(GOOD_HDR, payload="text"), Reason.COSE),              # payload must be bstr
    (cose_with(b"\xa2\x01\x27\x04\x48" + bytes(8) + b"\x00"), Reason.COSE),  # trailing in header
    (cose_with(GOOD_HDR) + b"\x00", Reason.CBOR),                   # trailing bytes
    (cbor2.dumps(cbor2.CBORTag(18, [b"", {}, b""])), Reason.COSE),   # array of 3
    (b"\xd2\x84", Reason.CBOR),                                       # truncated
    (b"\x81" * 40 + b"\x00", Reason.CBOR),                            # nested too deep
    (bytes.fromhex("a20102" + "0103"), Reason.CBOR),                  # duplicate key
])
def test_malformed_cose(data: bytes, reason: Reason) -> None:
    assert reason_of(decode_sign1, data) == reason


def test_oversize_input_is_refused_before_decoding() -> None:
    assert reason_of(strict_cbor.loads, bytes(2000), Reason.CBOR, 1024) == Reason.CBOR


def claims() -> bytes:
    return cbor2.dumps({1: "GB/x", 6: 100, 5: 100, 4: 200, 7: bytes(16), -65537: [1, 2]})


@pytest.mark.parametrize("payload", [
    cbor2.dumps({1: "GB/x", 6: 1, 5: 1, 7: bytes(16), -65537: [1, 2]}),            # no exp
    claims().replace(b"\x04\x18\xc8", b"\x04\x3a\x00\x00\x00\x01"),  # exp negative
    cbor2.dumps({1: "GB/x", 6: 1, 5: 1, 4: True, 7: bytes(16), -65537: [1, 2]}),   # bool time
    cbor2.dumps({1: "GB/x", 6: 1, 5: 1, 4: cbor2.CBORTag(1, 5), 7: bytes(16), -65537: [1, 2]}),
    cbor2.dumps({1: "GB/x", 6: 1, 5: 1, 4: 2**40, 7: bytes(16), -65537: [1, 2]}),  # > u32
    cbor2.dumps({1: "GB/x", 6: 1, 5: 1, 4: 9, 7: bytes(15), -65537: [1, 2]}),      # cti 15
    cbor2.dumps({1: "GB/x", 6: 1, 5: 1, 4: 9, 7: bytes(16), -65537: [9, 2]}),      # category
    cbor2.dumps({1: "GB/x", 6: 1, 5: 1, 4: 9, 7: bytes(16), -65537: [1, 16]}),     # doses
    cbor2.dumps({1: "GB/x", 6: 1, 5: 1, 4: 9, 7: bytes(16), -65537: [1, 2, [19]]}),  # area 19
    cbor2.dumps({1: "GB/x", 6: 1, 5: 1, 4: 9, 7: bytes(16), -65537: [1, 2, []]}),
    cbor2.dumps({1: 5, 6: 1, 5: 1, 4: 9, 7: bytes(16), -65537: [1, 2]}),           # iss not text
    cbor2.dumps([1, 2]),
    cbor2.dumps({1: "GB/x", 6: 1, 5: 1, 4: 9, 7: bytes(16), -65537: [1, 2]}) + b"\x00",
])
def test_malformed_claims(payload: bytes) -> None:
    assert reason_of(decode_claims, payload) == Reason.CLAIMS


def test_unknown_claims_are_ignored() -> None:
    c = decode_claims(cbor2.dumps({6: 1, 5: 1, 4: 9, 7: bytes(16), -65537: [5, 0], 99: "x",
                                   "note": [1]}))
    assert c.status == Status(5, 0, None) and c.iss == ""


@pytest.mark.parametrize("text,reason", [
    ("", Reason.PREFIX), ("gb1:00", Reason.PREFIX), ("GB1:" + "0" * 700, Reason.TOO_LONG),
    ("GB1:0", Reason.BASE45), ("GB1:GGW", Reason.BASE45), ("GB1:abc", Reason.BASE45),
    ("GB1:", Reason.INFLATE), ("GB1:" + "0" * 30, Reason.INFLATE),
])
def test_malformed_qr_text(text: str, reason: Reason) -> None:
    assert reason_of(decode_qr, text) == reason


def test_zlib_trailing_bytes_and_bad_adler_are_refused() -> None:
    from gerbang_protocol import base45
    from gerbang_protocol.qr import compress

    z = compress(b"hello")
    assert reason_of(decode_qr, "GB1:" + base45.encode(z + b"\x00")) == Reason.INFLATE
    bad = z[:-1] + bytes([z[-1] ^ 1])
    assert reason_of(decode_qr, "GB1:" + base45.encode(bad)) == Reason.INFLATE
    assert decode_qr("GB1:" + base45.encode(z)) == b"hello"


def test_qr_encoder_refuses_oversize() -> None:
    with pytest.raises(ValueError):
        encode_qr(bytes(1025))
    cert = Certificate("GB/x", 1, 1, 2, bytes(16), Status(1, 2, tuple(range(1, 19))))
    assert len(encode_qr(issue_cose(KEY, cert))) < 600


def test_record_crc_and_ranges() -> None:
    rec = ScanRecord(7, 1_795_000_000, 1, 0, 0, 0, bytes(8), bytes(8)).pack()
    assert len(rec) == 32 and ScanRecord.unpack(rec).seq == 7
    for i in range(32):
        flipped = bytearray(rec)
        flipped[i] ^= 0x10
        with pytest.raises(ProtocolError):
            ScanRecord.unpack(bytes(flipped))
    with pytest.raises(ProtocolError):
        ScanRecord.unpack(rec[:31])


def test_bundle_tampering_means_no_trust() -> None:
    bundle = bytes.fromhex(V["bundle"])
    root = bytes.fromhex(V["root_pub"])
    for i in range(0, len(bundle), 7):
        bad = bytearray(bundle)
        bad[i] ^= 0x01
        try:
            open_bundle(bytes(bad), root, V["now"])
        except ProtocolError as e:
            assert e.reason == Reason.NO_TRUST
        else:  # a flip inside a definite length header can keep it well-formed and signed: never
            raise AssertionError(f"tampered bundle accepted (byte {i})")


def test_sig_structure_is_rfc9052() -> None:
    assert sig_structure(b"\xa0", b"x") == bytes.fromhex("846a5369676e61747572653141a0404178")


def test_fast_record_check_agrees_with_record_objects() -> None:
    """check_records (one struct pass, used on the server) == split_records + seq order."""
    import random

    from gerbang_protocol.record import check_records, split_records

    rnd = random.Random(8)

    def reference(data: bytes, first: int) -> str:
        try:
            recs = split_records(data)
            for i, r in enumerate(recs):
                if r.seq != first + i:
                    return "seq"
        except ProtocolError as e:
            return e.message
        return "ok"

    def fast(data: bytes, first: int) -> str:
        try:
            check_records(data, first)
        except ProtocolError as e:
            return "seq" if "has seq" in e.message else e.message
        return "ok"

    outcomes = set()
    for _ in range(400):
        n = rnd.randint(0, 6)
        recs = bytearray(b"".join(ScanRecord(10 + i, 5, rnd.randint(0, 1), 0, rnd.randint(0, 2))
                                  .pack() for i in range(n)))
        if recs and rnd.random() < 0.7:
            recs[rnd.randrange(len(recs))] ^= 1 << rnd.randrange(8)
        if recs and rnd.random() < 0.1:
            recs = recs[:-1]
        first = 10 if rnd.random() < 0.8 else 11
        want = reference(bytes(recs), first)
        assert fast(bytes(recs), first) == want
        outcomes.add(want)
    assert {"ok", "seq", "record CRC does not match"} <= outcomes
