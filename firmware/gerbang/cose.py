"""COSE_Sign1 with EdDSA, Gerbang's strict profile (docs/PROTOCOL.md §1).

decode() checks structure only; nothing in the message is trusted until verify() says so."""

from micropython import const

from gerbang import cbor
from gerbang.reasons import CBOR, COSE, Reject

TAG_SIGN1 = const(18)
ALG_EDDSA = const(-8)
_BYTES = (bytes, memoryview)
_SIG1_HEAD = b"\x84\x6aSignature1"  # array(4), "Signature1"


class Sign1:
    __slots__ = ("protected", "kid", "payload", "signature")

    def __init__(self, protected, kid, payload, signature):
        self.protected = protected  # the header bytes exactly as sent: they are what was signed
        self.kid = kid
        self.payload = payload
        self.signature = signature


def decode(data, views=False):
    """Tagged COSE_Sign1 bytes -> Sign1. Not well-formed CBOR raises Reject(CBOR), anything
    outside the profile Reject(COSE). views=True (data a memoryview): protected, payload and
    signature are views of data (no copies); kid is always bytes."""
    item = cbor.loads(data, CBOR, views)
    if not isinstance(item, cbor.Tag) or item.tag != TAG_SIGN1:
        raise Reject(COSE, "not a tagged COSE_Sign1")
    msg = item.value
    if type(msg) is not list or len(msg) != 4:
        raise Reject(COSE, "COSE_Sign1 is not an array of 4")
    protected, unprotected, payload, signature = msg
    if not isinstance(protected, _BYTES) or not isinstance(payload, _BYTES):
        raise Reject(COSE, "protected header and payload must be byte strings")
    if not isinstance(signature, _BYTES) or len(signature) != 64:
        raise Reject(COSE, "signature must be 64 bytes")
    if type(unprotected) is not dict or unprotected:
        raise Reject(COSE, "unprotected header must be an empty map")
    return Sign1(protected, _kid(protected), payload, signature)


def _kid(protected):
    h = cbor.loads(protected, COSE)
    if type(h) is not dict or len(h) != 2 or 1 not in h or 4 not in h:
        raise Reject(COSE, "protected header must hold exactly alg (1) and kid (4)")
    alg = h[1]
    if type(alg) is not int or alg != ALG_EDDSA:
        raise Reject(COSE, "alg is not EdDSA")
    kid = h[4]
    if type(kid) is not bytes or len(kid) != 8:
        raise Reject(COSE, "kid must be 8 bytes")
    return kid


def sig_structure(protected, payload, external_aad=b""):
    """CBOR of ["Signature1", protected, external_aad, payload] (RFC 9052 §4.4); Gerbang's
    external_aad is always empty."""
    out = bytearray(_SIG1_HEAD)
    for b in (protected, external_aad, payload):
        _bstr_into(out, b)
    return out


def _bstr_into(out, b):
    # a definite byte string, shortest head (RFC 8949 §4.2.1): the one encoding a check needs
    n = len(b)
    if n < 24:
        out.append(0x40 | n)
    elif n < 0x100:
        out.append(0x58)
        out.append(n)
    elif n < 0x10000:
        out.append(0x59)
        out.extend(n.to_bytes(2, "big"))
    else:
        out.append(0x5A)
        out.extend(n.to_bytes(4, "big"))
    out.extend(b)


def verify(msg, keys):
    """Try every key (objects with .verify(msg, sig), e.g. ed25519.PublicKey) holding the
    message's kid; returns the key that verifies, or None."""
    if not keys:
        return None
    tbs = sig_structure(msg.protected, msg.payload)
    sig = msg.signature
    for key in keys:
        if key.verify(tbs, sig):
            return key
    return None


def sign(seed, payload, kid):
    """Tagged COSE_Sign1 of payload, signed with the Ed25519 seed whose public key has `kid`
    (the device signs its sync requests; tests sign fixtures)."""
    from gerbang import cbor_enc, ed25519

    protected = cbor_enc.dumps({1: ALG_EDDSA, 4: bytes(kid)})
    sig = ed25519.sign(seed, sig_structure(protected, payload))
    return cbor_enc.dumps(cbor.Tag(TAG_SIGN1, [protected, {}, payload, sig]))


def kid_of(pub):
    """kid = SHA-256(raw public key)[:8] (§1)."""
    import hashlib

    return hashlib.sha256(pub).digest()[:8]
