"""Strict Ed25519 (RFC 8032, pure) verification, plus signing for the device's own key.

Verify computes Q = [S]B + [k](-A) with fixed-base combs for B and for -A (tables built once,
when the PublicKey is made) that share their doublings, and accepts iff encode(Q) == R's bytes.
That is the cofactorless equation [S]B = R + [k]A, and strict: a non-canonical R (y >= p, or
x = 0 with the sign bit set) or a point off the curve never equals a canonical encoding.
S >= L is rejected before any work; A is decoded strictly when the PublicKey is made. See
docs/CRYPTO.md.

This module is what stays resident for scans (PublicKey.verify). Making keys and tables
(gerbang.ed25519_make), the one-off verify() and signing (gerbang.ed25519_one) are imported
on first use.
"""

from gerbang.ed25519_field import P, inv, mul2, new_table
from gerbang.sha512 import SHA512

L = 2**252 + 27742317777372353535851937790883648493

_btab = new_table()  # allocated at import, while the heap is still unfragmented
_bready = False


def _make():
    from gerbang import ed25519_make

    return ed25519_make


def _one():
    from gerbang import ed25519_one

    return ed25519_one


def _base_table():
    global _bready
    if not _bready:
        _make().base_table_into(_btab)
        _bready = True
    return _btab


def base_buffer(ready):
    """The base point's table buffer, for gerbang.truststore to fill from its cache: call with
    ready=False before writing into it, ready=True once what was written is verified."""
    global _bready
    _bready = ready
    return _btab


def _encode_int(X, Y, Z):
    zi = inv(Z)
    x = X * zi % P
    y = Y * zi % P
    return y | ((x & 1) << 255)


def _scalar_idx(s):
    # comb indices: out[2*i + c] = sum_j bit((4c + j) * 32 + i) << j, for s < 2^256
    b = s.to_bytes(32, "little")
    out = bytearray(64)
    for i in range(32):
        q = i >> 3
        r = i & 7
        for c in (0, 1):
            o = 16 * c + q
            out[2 * i + c] = (((b[o] >> r) & 1) | (((b[o + 4] >> r) & 1) << 1)
                              | (((b[o + 8] >> r) & 1) << 2) | (((b[o + 12] >> r) & 1) << 3))
    return out


class PublicKey:
    """An Ed25519 public key, decoded strictly; its comb table is built here, once."""

    def __init__(self, pub, pt=None, tab=None):
        # pt: the point of pub when the caller decoded it already (ed25519_make.point);
        # tab: its table, already built (the trust store's cache): nothing is computed then
        pub = bytes(pub)
        if tab is None:
            tab = new_table()  # before the arithmetic's garbage: keeps the heap tidy
            _make().key_table(pub, tab, pt)  # ValueError for a bad key
            _base_table()  # at load time too, so the first scan never has to build it
        self.pub = pub
        self._tab = tab  # table of -A

    def verify(self, msg, sig):
        """True iff sig is a valid strict RFC 8032 signature of msg; never raises."""
        try:
            if len(sig) != 64:
                return False
            sig = bytes(sig)
            s = int.from_bytes(sig[32:], "little")
            if s >= L:
                return False
            h = SHA512(sig[:32])
            h.update(self.pub)
            h.update(msg)
            k = int.from_bytes(h.digest(), "little") % L
            X, Y, Z = mul2(_scalar_idx(s), _base_table(), _scalar_idx(k), self._tab)
            return _encode_int(X, Y, Z) == int.from_bytes(sig[:32], "little")
        except (TypeError, ValueError):
            return False


def verify(pub, msg, sig):
    """One-off verify (trust-list chain, sync response): no comb table for the key, so about
    3 x the instructions of PublicKey.verify but only ~2 KB of transient heap and no table
    kept. False (never an exception) for a bad key, signature or input type."""
    return _one().verify(pub, msg, sig)


def public_key(seed):
    """The 32-byte public key of a 32-byte seed."""
    return _one().public_key(seed)


def sign(seed, msg):
    """RFC 8032 signature (64 bytes) of msg with the 32-byte seed."""
    return _one().sign(seed, msg)


__all__ = ["PublicKey", "verify", "sign", "public_key", "L"]
