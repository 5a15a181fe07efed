"""COSE_Sign1 with EdDSA (docs/PROTOCOL.md §1): our strict profile of RFC 9052."""

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import cbor2
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from . import cbor
from .errors import ProtocolError, Reason
from .keys import kid_of, public_key_bytes, verify_ed25519

COSE_SIGN1_TAG = 18
ALG_EDDSA = -8


@dataclass(frozen=True)
class Sign1:
    protected: bytes  # the protected header bytes exactly as sent (they are what was signed)
    kid: bytes
    payload: bytes
    signature: bytes

    def to_be_signed(self) -> bytes:
        return sig_structure(self.protected, self.payload)


def sig_structure(protected: bytes, payload: bytes) -> bytes:
    return cbor2.dumps(["Signature1", protected, b"", payload])


def sign1(key: Ed25519PrivateKey, payload: bytes) -> bytes:
    """Sign `payload`; returns the tagged COSE_Sign1 bytes."""
    protected = cbor.dumps({1: ALG_EDDSA, 4: kid_of(public_key_bytes(key))})
    signature = key.sign(sig_structure(protected, payload))
    return cbor2.dumps(cbor2.CBORTag(COSE_SIGN1_TAG, [protected, {}, payload, signature]))


def decode_sign1(data: bytes, max_size: int = 1 << 20) -> Sign1:
    """Structure only: nothing in it is trusted until `verify_sign1` has checked the signature."""
    item = cbor.loads(data, max_size=max_size)
    if not isinstance(item, cbor2.CBORTag) or item.tag != COSE_SIGN1_TAG:
        raise ProtocolError(Reason.COSE, "not a tagged COSE_Sign1 (tag 18)")
    msg = item.value
    if not isinstance(msg, list) or len(msg) != 4:
        raise ProtocolError(Reason.COSE, "COSE_Sign1 is not an array of 4")
    protected, unprotected, payload, signature = msg
    if not isinstance(protected, bytes) or not isinstance(payload, bytes):
        raise ProtocolError(Reason.COSE, "protected header and payload must be byte strings")
    if not isinstance(signature, bytes) or len(signature) != 64:
        raise ProtocolError(Reason.COSE, "signature must be 64 bytes")
    if unprotected != {} or not isinstance(unprotected, dict):
        raise ProtocolError(Reason.COSE, "unprotected header must be an empty map")
    header = cbor.loads(protected, reason=Reason.COSE)
    # labels by CBOR type and value: exactly the integers 1 and 4 (Python's True == 1.0 == 1;
    # cbor.loads already refuses such keys, this says what the profile takes)
    if not isinstance(header, dict) or set(header) != {1, 4} or \
            any(type(label) is not int for label in header):
        raise ProtocolError(Reason.COSE, "protected header must hold exactly alg (1) and kid (4)")
    if header[1] != ALG_EDDSA or type(header[1]) is not int:
        raise ProtocolError(Reason.COSE, f"alg {header[1]!r} is not EdDSA (-8)")
    kid = header[4]
    if not isinstance(kid, bytes) or len(kid) != 8:
        raise ProtocolError(Reason.COSE, "kid must be 8 bytes")
    return Sign1(protected, kid, payload, signature)


def verify_sign1(
    data: bytes | Sign1, keys_for_kid: Callable[[bytes], Iterable[bytes]], max_size: int = 1 << 20
) -> tuple[Sign1, bytes]:
    """Verify against every key holding the message's kid (kids can collide).

    Returns the message and the public key that verified it."""
    msg = data if isinstance(data, Sign1) else decode_sign1(data, max_size)
    candidates = list(keys_for_kid(msg.kid))
    if not candidates:
        raise ProtocolError(Reason.UNKNOWN_KID, f"no trusted key with kid {msg.kid.hex()}")
    tbs = msg.to_be_signed()
    for pub in candidates:
        if verify_ed25519(pub, tbs, msg.signature):
            return msg, pub
    raise ProtocolError(Reason.SIGNATURE, "signature does not verify")


def keys_by_kid(pubs: Iterable[bytes]) -> Callable[[bytes], list[bytes]]:
    table: dict[bytes, list[bytes]] = {}
    for pub in pubs:
        table.setdefault(kid_of(pub), []).append(pub)
    return lambda kid: table.get(kid, [])
