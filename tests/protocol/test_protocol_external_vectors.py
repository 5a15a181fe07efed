"""The host reference against vectors written by others (tests/vectors/external, copied from the public sources named in its README)."""

import json
import os

import cbor2
import pytest

from gerbang_protocol import (
    ProtocolError,
    Reason,
    base45,
    load_private_key,
    public_key_bytes,
    verify_ed25519,
)
from gerbang_protocol.cose import sig_structure
from tests.conftest import SHARED_VECTORS


def load(*path: str):
    with open(os.path.join(SHARED_VECTORS, *path)) as f:
        return json.load(f)


RFC8032 = load("rfc8032", "rfc8032_7_1_ed25519.json")["vectors"]


@pytest.mark.parametrize("v", RFC8032, ids=[v["name"] for v in RFC8032])
def test_rfc8032_sign_and_verify(v: dict) -> None:
    key = load_private_key(bytes.fromhex(v["secret_key"]))
    msg, sig = bytes.fromhex(v["message"]), bytes.fromhex(v["signature"])
    assert public_key_bytes(key).hex() == v["public_key"]
    assert key.sign(msg) == sig
    assert verify_ed25519(bytes.fromhex(v["public_key"]), msg, sig)
    assert not verify_ed25519(bytes.fromhex(v["public_key"]), msg + b"x", sig)


def _wycheproof_cases(name: str) -> list[tuple[str, bytes, bytes, bytes, str]]:
    data = load("wycheproof", name)
    out = []
    for group in data["testGroups"]:
        pk = group.get("publicKey") or group.get("key")
        pub = bytes.fromhex(pk["pk"])
        for t in group["tests"]:
            out.append((f"{t['tcId']}", pub, bytes.fromhex(t["msg"]), bytes.fromhex(t["sig"]),
                        t["result"]))
    return out


@pytest.mark.parametrize("name", ["ed25519_test.json", "eddsa_test_v0.json"])
def test_wycheproof_every_case(name: str) -> None:
    cases = _wycheproof_cases(name)
    assert len(cases) > 140
    wrong = [tc for tc, pub, msg, sig, result in cases
             if verify_ed25519(pub, msg, sig) != (result == "valid")]
    assert wrong == [], f"cases with the wrong verdict: {wrong}"
    assert sum(r == "invalid" for *_, r in cases) >= 60


def test_speccheck_strict_rejections() -> None:
    cases = load("ed25519-speccheck", "cases.json")
    assert len(cases) == 12
    for i in range(6, 12):  # S >= L (6, 7), non-canonical R (8, 9) and A (10, 11)
        c = cases[i]
        assert not verify_ed25519(bytes.fromhex(c["pub_key"]), bytes.fromhex(c["message"]),
                                  bytes.fromhex(c["signature"])), f"case {i} accepted"


def test_base45_rfc9285_examples() -> None:
    for v in load("base45", "rfc9285_examples.json")["vectors"]:
        raw = bytes.fromhex(v["decoded_hex"])
        assert base45.decode(v["encoded"]) == raw
        assert base45.encode(raw) == v["encoded"]


def test_base45_kirei_valid_and_invalid() -> None:
    data = load("base45", "kirei_python_base45_vectors.json")
    for v in data["valid"]:
        assert base45.decode(v["encoded"]) == bytes.fromhex(v["decoded_hex"])
        assert base45.encode(bytes.fromhex(v["decoded_hex"])) == v["encoded"]
    assert len(data["invalid"]) == 7
    for v in data["invalid"]:
        with pytest.raises(ProtocolError) as e:
            base45.decode(v["encoded"])
        assert e.value.reason == Reason.BASE45


def test_cose_eddsa_sig_01_verifies() -> None:
    """cose-wg's Ed25519 Sign1 (RFC 8032 TEST 1 key). Its header layout (kid unprotected) is not
    our strict profile, so the Sig_structure and signature are checked, and the profile rejects it."""
    v = load("cose-wg-examples", "eddsa-examples", "eddsa-sig-01.json")
    data = bytes.fromhex(v["output"]["cbor"])
    prot, unprot, payload, sig = cbor2.loads(data).value
    tbs = sig_structure(prot, payload)
    assert tbs.hex().upper() == v["intermediates"]["ToBeSign_hex"]
    pub = bytes.fromhex(v["input"]["sign0"]["key"]["x_hex"])
    assert verify_ed25519(pub, tbs, sig)
    assert not verify_ed25519(pub, tbs + b"\x00", sig)
    from gerbang_protocol import decode_sign1

    with pytest.raises(ProtocolError) as e:
        decode_sign1(data)
    assert e.value.reason == Reason.COSE
