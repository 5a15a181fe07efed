"""Strict Ed25519 (RFC 8032, pure): the resident verify, plus the entry points of the rest.

Verify computes Q = [S]B + [k](-A) with fixed-base combs for B and for -A (tables built once,
when the PublicKey is made) that share their doublings, and accepts iff encode(Q) == R's bytes.
That is the cofactorless equation [S]B = R + [k]A, and strict: a non-canonical R (y >= p, or
x = 0 with the sign bit set) or a point off the curve never equals a canonical encoding.
S >= L is rejected before any work; A is decoded strictly when the PublicKey is made. See
docs/CRYPTO.md.

This module is what stays resident for scans (PublicKey.verify, over gerbang.ed25519_field).
Building tables (gerbang.ed25519_tables), the one-off verify() and signing
(gerbang.ed25519_oneoff) are load-time modules, imported on first use; neither imports this
one.
"""

from gerbang.ed25519_field import L, base_ready, encode_int, mul2, new_table, scalar_idx
from gerbang.sha512 import SHA512


def _tables():
    from gerbang import ed25519_tables

    return ed25519_tables


def _oneoff():
    from gerbang import ed25519_oneoff

    return ed25519_oneoff


class PublicKey:
    """An Ed25519 public key, decoded strictly; its comb table is built here, once."""

    def __init__(self, pub, pt=None, tab=None):
        # pt: the point of pub when the caller decoded it already (ed25519_tables.point);
        # tab: its table, already built (the trust store's cache): nothing is computed then
        pub = bytes(pub)
        if tab is None:
            tab = new_table()  # before the arithmetic's garbage: keeps the heap tidy
            t = _tables()
            t.key_table(pub, tab, pt)  # ValueError for a bad key
            t.base_table()  # at load time too, so the first scan never has to build it
            t = None
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
            tb = base_ready()
            if tb is None:  # never on a door (the list's load fills it): build it now
                tb = _tables().base_table()
            X, Y, Z = mul2(scalar_idx(s), tb, scalar_idx(k), self._tab)
            return encode_int(X, Y, Z) == int.from_bytes(sig[:32], "little")
        except (TypeError, ValueError):
            return False


def verify(pub, msg, sig):
    """One-off verify (trust-list chain, sync response): no comb table for the key, so about
    3 x the instructions of PublicKey.verify but only ~2 KB of transient heap and no table
    kept. False (never an exception) for a bad key, signature or input type."""
    return _oneoff().verify(pub, msg, sig)


def public_key(seed):
    """The 32-byte public key of a 32-byte seed."""
    return _oneoff().public_key(seed)


def sign(seed, msg):
    """RFC 8032 signature (64 bytes) of msg with the 32-byte seed."""
    return _oneoff().sign(seed, msg)


__all__ = ["PublicKey", "verify", "sign", "public_key", "L"]
