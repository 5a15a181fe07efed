"""Strict Ed25519 (RFC 8032, pure) verification, plus signing for the device's own key.

Verify computes Q = [S]B + [k](-A) with fixed-base combs for B and for -A (tables built once,
when the PublicKey is made) that share their doublings, and accepts iff encode(Q) == R's bytes.
That is the cofactorless equation [S]B = R + [k]A, and strict: a non-canonical R (y >= p, or
x = 0 with the sign bit set) or a point off the curve never equals a canonical encoding.
S >= L is rejected before any work; A is decoded strictly by PublicKey. See docs/CRYPTO.md.

Field elements are plain ints reduced lazily by shift-and-fold (2^255 = 19 mod p): products of
reduced values are folded once when they feed another product only, twice otherwise, and are
fully reduced (% p) only for the final encoding. The only exponentiation on the scan path is
one inversion by the 2^255-21 addition chain (cheaper than pow() on 16-bit MPZ digits).
"""

from gerbang.ed25519_field import D2, M, P, inv, madd_table, mul2, mul_vartime, to_extended
from gerbang.sha512 import SHA512, sha512

L = 2**252 + 27742317777372353535851937790883648493
_D = 37095705934669439343138083508754565189542113879843219016388785533085940283555
_SQRT_M1 = 19681161376707505956807079304988542015446066515923890162744021073123829784752
_BY = 46316835694926478169428394003475163141307993866256225615783033603165251855960
_BX = 15112221349535400772501151409588531511454012693041857206046113283949847762202

_btab = None


def _base_table():
    global _btab
    if _btab is None:
        _btab = madd_table(to_extended(_BX, _BY))
    return _btab


def _decode(enc):
    """32 bytes -> affine (x, y), or None if not a canonical encoding of a curve point."""
    if len(enc) != 32:
        return None
    n = int.from_bytes(enc, "little")
    sign = n >> 255
    y = n & M
    if y >= P:
        return None
    u = (y * y - 1) % P
    v = (_D * y * y + 1) % P
    v3 = v * v * v % P
    x = u * v3 * pow(u * v3 * v3 * v % P, (P - 5) // 8, P) % P
    vx2 = v * x * x % P
    if vx2 != u:
        if vx2 != P - u:
            return None
        x = x * _SQRT_M1 % P
    if x == 0 and sign:
        return None
    if (x & 1) != sign:
        x = P - x
    return x, y


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


def _base_mul(s):
    """[s]B as an encoded int (y | sign << 255); s < 2^256."""
    X, Y, Z = mul2(_scalar_idx(s), _base_table(), None, None)
    return _encode_int(X, Y, Z)


class PublicKey:
    """An Ed25519 public key, decoded strictly; its comb table is built here, once."""

    def __init__(self, pub):
        pub = bytes(pub)
        pt = _decode(pub)
        if pt is None:
            raise ValueError("bad public key")
        self.pub = pub
        x, y = pt
        self._tab = madd_table(to_extended(P - x if x else 0, y))  # table of -A

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
    try:
        pub = bytes(pub)
        if len(sig) != 64:
            return False
        sig = bytes(sig)
        s = int.from_bytes(sig[32:], "little")
        if s >= L:
            return False
        pt = _decode(pub)
        if pt is None:
            return False
        h = SHA512(sig[:32])
        h.update(pub)
        h.update(msg)
        k = int.from_bytes(h.digest(), "little") % L
        x, y = pt
        X, Y, Z = mul_vartime(k, (P - x if x else 0, y), _scalar_idx(s), _base_table())
        return _encode_int(X, Y, Z) == int.from_bytes(sig[:32], "little")
    except (TypeError, ValueError):
        return False


def _expand(seed):
    if len(seed) != 32:
        raise ValueError("seed must be 32 bytes")
    h = sha512(seed)
    a = int.from_bytes(h[:32], "little")
    a &= (1 << 254) - 8
    a |= 1 << 254
    return a, h[32:]


def public_key(seed):
    """The 32-byte public key of a 32-byte seed."""
    a, _ = _expand(seed)
    return _base_mul(a).to_bytes(32, "little")


def sign(seed, msg):
    """RFC 8032 signature (64 bytes) of msg with the 32-byte seed."""
    a, prefix = _expand(seed)
    pub = _base_mul(a).to_bytes(32, "little")
    h = SHA512(prefix)
    h.update(msg)
    r = int.from_bytes(h.digest(), "little") % L
    enc_r = _base_mul(r).to_bytes(32, "little")
    h = SHA512(enc_r)
    h.update(pub)
    h.update(msg)
    k = int.from_bytes(h.digest(), "little") % L
    s = (r + k * a) % L
    return enc_r + s.to_bytes(32, "little")


__all__ = ["PublicKey", "verify", "sign", "public_key", "L", "D2"]
