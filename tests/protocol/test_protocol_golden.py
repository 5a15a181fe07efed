"""Golden vectors: up to date with the code, round-trip, and every bad one fails as the spec says."""

import json
import subprocess
import sys

import cbor2
import pytest

from gerbang_protocol import (
    BundleRef,
    Reason,
    ScanRecord,
    check_qr,
    decode_qr,
    decode_sign1,
    open_bundle,
    open_sync_request,
    open_sync_response,
    verify_sign1,
)
from tests.conftest import GOLDEN, ROOT

with open(GOLDEN) as f:
    V = json.load(f)

# What docs/PROTOCOL.md §7 names for each golden case, written out independently of the code.
SPEC = {
    "valid": Reason.OK, "valid_listed_areas": Reason.OK, "valid_clock_stale_flagged": Reason.OK,
    "valid_recovery": Reason.OK, "expired": Reason.EXPIRED, "not_yet_valid": Reason.NOT_YET_VALID,
    "other_area": Reason.WRONG_AREA, "revoked": Reason.REVOKED, "unknown_kid": Reason.UNKNOWN_KID,
    "other_area_kid": Reason.WRONG_AREA,
    "key_outside_window": Reason.KEY_WINDOW, "iat_before_key_window": Reason.KEY_WINDOW,
    "too_few_doses": Reason.DOSES, "category_not_accepted": Reason.CATEGORY,
    "claims_malformed": Reason.CLAIMS, "tampered_payload": Reason.SIGNATURE,
    "bad_signature": Reason.SIGNATURE, "non_canonical_s": Reason.SIGNATURE,
    "wrong_prefix": Reason.PREFIX, "bad_base45": Reason.BASE45, "zlib_bomb": Reason.INFLATE,
    "zlib_window_too_large": Reason.INFLATE, "not_cbor": Reason.CBOR, "not_cose": Reason.COSE,
    "too_long": Reason.TOO_LONG, "empty": Reason.PREFIX,
}
ROOT_PUB = bytes.fromhex(V["root_pub"])
BUNDLE = bytes.fromhex(V["bundle"])


def test_golden_file_is_what_the_code_makes() -> None:
    proc = subprocess.run([sys.executable, "-m", "gerbang_cli.cli", "vectors", "--check"], cwd=ROOT,
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_every_spec_case_is_in_the_golden_file() -> None:
    assert sorted(c["name"] for c in V["certificates"]) == sorted(SPEC)


@pytest.mark.parametrize("case", V["certificates"], ids=lambda c: c["name"])
def test_golden_certificate_decision(case: dict) -> None:
    d = check_qr(case["qr"], BUNDLE, ROOT_PUB, V["area"], V["now"], case["clock_quality"])
    assert d.reason == SPEC[case["name"]] == case["reason"]
    assert d.allow == (d.reason == Reason.OK) == case["allow"]
    if case["name"] == "valid_clock_stale_flagged":
        assert d.flags == 1
    if d.allow:  # the cose round-trips: decode and re-encode gives the same bytes
        cose = decode_qr(case["qr"])
        assert cbor2.dumps(cbor2.loads(cose)) == cose
        assert d.kid.hex() == case["kid"] and d.subject_tag.hex() == case["subject_tag"]


def test_no_trust_without_a_bundle_or_in_another_area() -> None:
    qr = V["certificates"][0]["qr"]
    assert check_qr(qr, None, ROOT_PUB, 1, V["now"]).reason == Reason.NO_TRUST
    assert check_qr(qr, BUNDLE, ROOT_PUB, 2, V["now"]).reason == Reason.NO_TRUST
    assert check_qr(qr, BUNDLE, bytes(32), 1, V["now"]).reason == Reason.NO_TRUST
    # the trust list expires 13 days after `now`
    assert check_qr(qr, BUNDLE, ROOT_PUB, 1, V["now"] + 14 * 86400).reason == Reason.NO_TRUST


def test_bundle_chain_and_serials() -> None:
    kc, tl = open_bundle(BUNDLE, ROOT_PUB, V["now"])
    assert kc.pub.hex() == V["signer_pub"] and tl.serial == V["bundle_serial"] == 5
    assert open_bundle(bytes.fromhex(V["bundle_older"]), ROOT_PUB, V["now"])[1].serial == 4
    assert len(tl.keys) == 3 and tl.keys[0].kid == tl.keys[1].kid  # the kid collision
    assert tl.area == V["area"]


def test_sync_exchange_round_trips() -> None:
    rq, rs = V["sync_request"], V["sync_response"]
    device_pub = bytes.fromhex(rq["device_pub"])
    pub, req = open_sync_request(bytes.fromhex(rq["cose"]), lambda kid: [bytes(32), device_pub])
    assert pub == device_pub and req.counter == rq["counter"] and req.first_seq == 1
    assert [r.seq for r in req.scan_records()] == [1, 2, 3]
    assert req.scan_records()[1].reason == Reason.EXPIRED
    resp = open_sync_response(bytes.fromhex(rs["cose"]), bytes.fromhex(rs["signer_pub"]))
    assert resp.acked_seq == 3 and resp.nonce == req.nonce and resp.bundle == BundleRef.of(5, BUNDLE)
    assert ScanRecord.unpack(req.records[:32]).pack() == req.records[:32]


def test_sync_request_signed_by_another_device_is_refused() -> None:
    from gerbang_protocol import ProtocolError

    with pytest.raises(ProtocolError) as e:
        open_sync_request(bytes.fromhex(V["sync_request"]["cose"]), lambda kid: [ROOT_PUB])
    assert e.value.reason == Reason.SIGNATURE
    with pytest.raises(ProtocolError) as e:
        open_sync_request(bytes.fromhex(V["sync_request"]["cose"]), lambda kid: [])
    assert e.value.reason == Reason.UNKNOWN_KID


def test_keycert_verifies_under_root_only() -> None:
    msg = decode_sign1(bytes.fromhex(V["keycert"]))
    verify_sign1(msg, lambda kid: [ROOT_PUB])


def test_protocol_doc_examples_match_the_code() -> None:
    proc = subprocess.run([sys.executable, "-m", "gerbang_cli.cli", "vectors", "--check-doc"],
                          cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_golden_sync_records_are_the_firmwares_bytes() -> None:
    """The host's record layout gives the golden records' bytes from their fields (as
    gerbang_dev/vectors.py states them); tests/firmware/test_record.py holds the device's
    firmware/gerbang/record.py to the same bytes."""
    import hashlib

    from gerbang_protocol import kid_of
    from gerbang_protocol.record import ScanRecord

    recs = bytes.fromhex(V["sync_request"]["records"])
    kid = kid_of(bytes.fromhex(V["issuer_pub"]))
    assert len(recs) == 96
    for seq in (1, 2, 3):
        deny = seq == 2
        tag = hashlib.sha256(b"gerbang golden vectors: tag %d" % seq).digest()[:8]
        rec = ScanRecord(seq, V["now"] - 300 + seq, 0 if deny else 1,
                         int(Reason.EXPIRED) if deny else 0, 0, 0, kid, tag)
        assert rec.pack() == recs[32 * (seq - 1):32 * seq]
        assert ScanRecord.unpack(recs[32 * (seq - 1):32 * seq]) == rec
