"""Load-time Ed25519, one-off: the table-less verify (trust-list chain, sync response) and
signing (the device's sync requests). Imported by gerbang.ed25519's verify/sign/public_key on
first use, dropped with gerbang.ed25519_tables after a trust list is opened or a sync answer
verified. See docs/CRYPTO.md."""

from gerbang.ed25519_field import D2, L, M, P, encode_int, mul, mul2, scalar_idx
from gerbang.ed25519_tables import _add, _dbl, _decode, _put, base_table
from gerbang.sha512 import SHA512, sha512


def mul_vartime(k, pa, ib, tb):
    """[k]A + [s]B for a one-off key (no comb table for A): A = pa affine (x, y), k < 2^256
    in 3-bit windows (252 doublings, up to 85 additions of a 7-entry table kept as bytes,
    896 B: little heap, as it runs beside the scan path when a sync brings a list), and [s]B
    by the base comb (ib, tb) folded into the same doublings.
    Returns projective (X, Y, Z) with reduced coordinates."""
    m = M
    fb = int.from_bytes
    # table of j*A, j = 1..7, as (Y+X, Y-X, 2dT, 2Z) % p: the cached form of add-2008-hwcd-3
    x, y = pa
    a1 = (x, y, 1, x * y % P)
    tab = bytearray(896)
    q = a1
    for j in range(1, 8):
        if j == 2:
            q = _dbl(a1[0], a1[1], 1)
        elif j > 2:
            q = _add(q, a1)
        X, Y, Z, T = q
        _put(tab, 128 * (j - 1), Y + X, Y - X, D2 * T, 2 * Z)
    q = a1 = None
    ta = memoryview(tab)
    tb0 = memoryview(tb[0])
    tb1 = memoryview(tb[1])
    X = 0
    Y = 1
    Z = 1
    T = 0
    started = False
    for pos in range(255, -1, -1):
        if started:
            X, Y, Z, T = _dbl(X, Y, Z)  # one-off path: a call per doubling costs little here
        if not pos % 3:
            j = (k >> pos) & 7
            if j:
                o = 128 * (j - 1)
                a = (Y - X) * fb(ta[o + 32:o + 64], "little")
                a = (a >> 255) * 19 + (a & m)
                b = (Y + X) * fb(ta[o:o + 32], "little")
                b = (b >> 255) * 19 + (b & m)
                c = T * fb(ta[o + 64:o + 96], "little")
                c = (c >> 255) * 19 + (c & m)
                d = Z * fb(ta[o + 96:o + 128], "little")
                d = (d >> 255) * 19 + (d & m)
                X, Y, Z, T = _sum4(a, b, c, d)
                started = True
        if pos < 32:
            for cc in (0, 1):
                e = ib[2 * pos + cc]
                if not e:
                    continue
                tbv = tb1 if cc else tb0
                o = 96 * e - 96
                a = (Y - X) * fb(tbv[o + 32:o + 64], "little")
                a = (a >> 255) * 19 + (a & m)
                b = (Y + X) * fb(tbv[o:o + 32], "little")
                b = (b >> 255) * 19 + (b & m)
                c = T * fb(tbv[o + 64:o + 96], "little")
                c = (c >> 255) * 19 + (c & m)
                X, Y, Z, T = _sum4(a, b, c, Z + Z)
                started = True
    return X, Y, Z


def _sum4(a, b, c, d):
    # the second half of add-2008-hwcd-3 from its four first-stage products
    e = b - a
    f = d - c
    g = d + c
    h = b + a
    return mul(e, f), mul(g, h), mul(f, g), mul(e, h)


def verify(pub, msg, sig):
    """One-off verify without a comb table for the key (see gerbang.ed25519.verify). msg may
    be a tuple of parts, hashed in order: a trust list's Sig_structure is then never copied
    whole (tens of KB with thousands of revocations); a part that is callable is called with
    the hash and updates it itself (a payload read from a file)."""
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
        for part in msg if type(msg) is tuple else (msg,):
            if callable(part):  # a feeder: hashes its bytes from a file (trustverify)
                part(h)
            else:
                h.update(part)
        k = int.from_bytes(h.digest(), "little") % L
        x, y = pt
        X, Y, Z = mul_vartime(k, (P - x if x else 0, y), scalar_idx(s), base_table())
        return encode_int(X, Y, Z) == int.from_bytes(sig[:32], "little")
    except (TypeError, ValueError):
        return False


def _base_mul(s):
    """[s]B as an encoded int (y | sign << 255); s < 2^256."""
    X, Y, Z = mul2(scalar_idx(s), base_table(), None, None)
    return encode_int(X, Y, Z)


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
