"""Ed25519 keys as raw bytes, via `cryptography` (OpenSSL). kid = SHA-256(pub)[:8]."""

import hashlib

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

_RAW = serialization.Encoding.Raw


def kid_of(pub: bytes) -> bytes:
    return hashlib.sha256(pub).digest()[:8]


def new_private_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def load_private_key(seed: bytes) -> Ed25519PrivateKey:
    if len(seed) != 32:
        raise ValueError("an Ed25519 private key is a 32-byte seed")
    return Ed25519PrivateKey.from_private_bytes(seed)


def private_key_bytes(key: Ed25519PrivateKey) -> bytes:
    return key.private_bytes(_RAW, serialization.PrivateFormat.Raw, serialization.NoEncryption())


def public_key_bytes(key: Ed25519PrivateKey | Ed25519PublicKey) -> bytes:
    pub = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return pub.public_bytes(_RAW, serialization.PublicFormat.Raw)


P = 2**255 - 19
L = 2**252 + 27742317777372353535851937790883648493


def is_canonical_point(enc: bytes) -> bool:
    """RFC 8032 §5.1.3: y < p, and no sign bit on x = 0 (y = 1 or y = p - 1)."""
    v = int.from_bytes(enc, "little")
    y, sign = v & ((1 << 255) - 1), v >> 255
    return y < P and not (sign and y in (1, P - 1))


def verify_ed25519(pub: bytes, msg: bytes, sig: bytes) -> bool:
    """Strict RFC 8032 verify: S < L, canonical A and R, cofactorless equation (OpenSSL)."""
    if len(pub) != 32 or len(sig) != 64:
        return False
    if int.from_bytes(sig[32:], "little") >= L:
        return False
    if not (is_canonical_point(pub) and is_canonical_point(sig[:32])):
        return False
    try:
        Ed25519PublicKey.from_public_bytes(pub).verify(sig, msg)
    except (InvalidSignature, ValueError):
        return False
    return True
