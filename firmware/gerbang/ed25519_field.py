"""Field and point arithmetic for gerbang.ed25519 (edwards25519, a = -1, extended coordinates).

Reduction bounds (p = 2^255 - 19, fold(x) = (x >> 255) * 19 + (x & M), x = fold(x) mod p):
- "reduced" values lie in (-2^24, 2^255 + 2^24) (negative values are fine: ints are signed
  and >> floors, so the fold stays exact).
- a product of two reduced values, or of sums of two or three of them, is < 2^524 in size;
  one fold leaves < 2^274, a second fold leaves a reduced value again.
- first-stage products (that only feed one more product) are folded once (< 2^261 when the
  inputs are reduced); second-stage products of those (< 2^524) are folded twice.
Table points are stored affine as (y + x, y - x, 2*d*x*y) mod p, packed in one 2880-byte buffer
per base point (30 entries x 3 x 32 bytes) and read back with int.from_bytes (~1 k
instructions each, cheaper in RAM than 90 resident big ints of ~115 bytes each).
"""

from micropython import const

P = 2**255 - 19
M = 2**255 - 1
_TAB_BYTES = const(2880)
D2 = 16295367250680780974490674513165176452449235426866156013048779062215315747161  # 2d


def to_extended(x, y):
    return x, y, 1, x * y % P


def _sqn(x, n):
    for _ in range(n):
        x = x * x
        x = (x >> 255) * 19 + (x & M)
        x = (x >> 255) * 19 + (x & M)
    return x


def _mul(a, b):
    x = a * b
    x = (x >> 255) * 19 + (x & M)
    return (x >> 255) * 19 + (x & M)


def inv(z):
    """z^(p-2) mod p by the 254-squaring, 11-multiplication chain (ref10); 0 for 0."""
    z2 = _mul(z, z)
    z9 = _mul(_sqn(z2, 2), z)
    z11 = _mul(z9, z2)
    t = _mul(_mul(z11, z11), z9)  # z^(2^5 - 1)
    t10 = _mul(_sqn(t, 5), t)
    t20 = _mul(_sqn(t10, 10), t10)
    t = _mul(_sqn(t20, 20), t20)
    t50 = _mul(_sqn(t, 10), t10)
    t100 = _mul(_sqn(t50, 50), t50)
    t = _mul(_sqn(t100, 100), t100)
    t = _mul(_sqn(t, 50), t50)
    return _mul(_sqn(t, 5), z11) % P


def _add(p1, p2):
    # add-2008-hwcd-3 (complete for a = -1, non-square d), all terms % p: table building only
    X1, Y1, Z1, T1 = p1
    X2, Y2, Z2, T2 = p2
    a = (Y1 - X1) * (Y2 - X2) % P
    b = (Y1 + X1) * (Y2 + X2) % P
    c = T1 * D2 * T2 % P
    d = 2 * Z1 * Z2 % P
    e = b - a
    f = d - c
    g = d + c
    h = b + a
    return e * f % P, g * h % P, f * g % P, e * h % P


def _dbl(X, Y, Z):
    # dbl-2008-hwcd with lazy folds (as in mul2); the result is reduced, not canonical
    m = M
    a = X * X
    a = (a >> 255) * 19 + (a & m)
    b = Y * Y
    b = (b >> 255) * 19 + (b & m)
    c = Z * Z
    c = ((c >> 255) * 19 + (c & m)) * 2
    h = a + b
    e = X + Y
    e = e * e
    e = h - ((e >> 255) * 19 + (e & m))
    g = a - b
    f = c + g
    return _mul(e, f), _mul(g, h), _mul(f, g), _mul(e, h)


def _dbl32(q):
    X, Y, Z, _ = q
    for _ in range(32):
        X, Y, Z, T = _dbl(X, Y, Z)
    return X % P, Y % P, Z % P, T % P


def _put(buf, o, *vals):
    for v in vals:
        buf[o:o + 32] = (v % P).to_bytes(32, "little")
        o += 32


def _get(buf, o, n):
    return [int.from_bytes(buf[i:i + 32], "little") for i in range(o, o + 32 * n, 32)]


def madd_table(pt):
    """Comb table of an extended point (2 combs x 4 teeth, 32 columns: covers 256 bits).

    One bytes-like of 30 entries x 96 bytes, (y+x, y-x, 2dxy) little-endian, entry
    (c, e) at offset 96 * (15 c + e - 1): 2880 bytes, where 90 separate ints cost ~10 KB.
    The extended entries wait in one 1920-byte scratch buffer (not 60 ints) until the batch
    inversion, so building a table needs little more heap than the table itself."""
    out = bytearray(_TAB_BYTES)
    tmp = bytearray(1920)  # 15 extended points (X, Y, Z, T) % p of the comb being built
    mv = memoryview(tmp)
    g = pt
    for c in (0, 1):
        teeth = [g]  # 2^(32 (4c + j)) pt
        for _ in range(3):
            teeth.append(_dbl32(teeth[-1]))
        if c == 0:
            g = _dbl32(teeth[3])
        for e in range(1, 16):
            top = 3 if e >= 8 else 2 if e >= 4 else 1 if e >= 2 else 0
            low = e ^ (1 << top)
            q = teeth[top] if not low else _add(_get(mv, 128 * (low - 1), 4), teeth[top])
            _put(tmp, 128 * (e - 1), *q)
        teeth = q = None
        # batch inversion of the 15 Z (Montgomery's trick): one inversion per comb; the
        # running products wait in the output slots (overwritten on the way back)
        o0 = 1440 * c
        acc = 1
        for e in range(1, 16):
            acc = acc * int.from_bytes(mv[128 * e - 64:128 * e - 32], "little") % P
            _put(out, o0 + 96 * (e - 1), acc)
        zi = inv(acc)
        for e in range(15, 0, -1):
            X, Y, Z, _ = _get(mv, 128 * (e - 1), 4)
            prev = int.from_bytes(out[o0 + 96 * (e - 2):o0 + 96 * (e - 2) + 32], "little") \
                if e > 1 else 1
            iz = zi * prev % P
            zi = zi * Z % P
            x = X * iz % P
            y = Y * iz % P
            _put(out, o0 + 96 * (e - 1), y + x, y - x, D2 * x % P * y)
    return out


def mul_vartime(k, pa, ib, tb):
    """[k]A + [s]B for a one-off key (no comb table for A): A = pa affine (x, y), k < 2^256
    in 4-bit windows (252 doublings, up to 63 additions of a 15-entry table kept as bytes,
    1920 B), and [s]B by the base comb (ib, tb) folded into the same doublings.
    Returns projective (X, Y, Z) with reduced coordinates."""
    m = M
    fb = int.from_bytes
    # table of j*A, j = 1..15, as (Y+X, Y-X, 2dT, 2Z) % p: the cached form of add-2008-hwcd-3
    x, y = pa
    a1 = (x, y, 1, x * y % P)
    tab = bytearray(1920)
    q = a1
    for j in range(1, 16):
        if j == 2:
            q = _dbl(a1[0], a1[1], 1)
        elif j > 2:
            q = _add(q, a1)
        X, Y, Z, T = q
        _put(tab, 128 * (j - 1), Y + X, Y - X, D2 * T, 2 * Z)
    q = a1 = None
    ta = memoryview(tab)
    tbv = memoryview(tb)
    kb = k.to_bytes(32, "little")
    X = 0
    Y = 1
    Z = 1
    T = 0
    started = False
    for pos in range(255, -1, -1):
        if started:
            a = X * X
            a = (a >> 255) * 19 + (a & m)
            b = Y * Y
            b = (b >> 255) * 19 + (b & m)
            c = Z * Z
            c = ((c >> 255) * 19 + (c & m)) * 2
            h = a + b
            e = X + Y
            e = e * e
            e = h - ((e >> 255) * 19 + (e & m))
            g = a - b
            f = c + g
            X = e * f
            X = (X >> 255) * 19 + (X & m)
            X = (X >> 255) * 19 + (X & m)
            Y = g * h
            Y = (Y >> 255) * 19 + (Y & m)
            Y = (Y >> 255) * 19 + (Y & m)
            T = e * h
            T = (T >> 255) * 19 + (T & m)
            T = (T >> 255) * 19 + (T & m)
            Z = f * g
            Z = (Z >> 255) * 19 + (Z & m)
            Z = (Z >> 255) * 19 + (Z & m)
        if not pos & 3:
            j = (kb[pos >> 3] >> (pos & 4)) & 15
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
                o = 1440 * cc + 96 * e - 96
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
    return _mul(e, f), _mul(g, h), _mul(f, g), _mul(e, h)


def mul2(ib, tb, ia, ta):
    """[s]B (+ [k]A): comb indices ib/ia (from ed25519._scalar_idx), tables tb/ta.

    Returns projective (X, Y, Z) with reduced (not canonical) coordinates."""
    m = M
    fb = int.from_bytes
    X = 0
    Y = 1
    Z = 1
    T = 0
    pairs = ((ib, memoryview(tb)),) if ia is None else (
        (ib, memoryview(tb)), (ia, memoryview(ta)))
    for i in range(31, -1, -1):
        if i != 31:
            # dbl-2008-hwcd: 4 squarings (folded once) + 4 products (folded twice)
            a = X * X
            a = (a >> 255) * 19 + (a & m)
            b = Y * Y
            b = (b >> 255) * 19 + (b & m)
            c = Z * Z
            c = ((c >> 255) * 19 + (c & m)) * 2
            h = a + b
            e = X + Y
            e = e * e
            e = h - ((e >> 255) * 19 + (e & m))
            g = a - b
            f = c + g
            X = e * f
            X = (X >> 255) * 19 + (X & m)
            X = (X >> 255) * 19 + (X & m)
            Y = g * h
            Y = (Y >> 255) * 19 + (Y & m)
            Y = (Y >> 255) * 19 + (Y & m)
            T = e * h
            T = (T >> 255) * 19 + (T & m)
            T = (T >> 255) * 19 + (T & m)
            Z = f * g
            Z = (Z >> 255) * 19 + (Z & m)
            Z = (Z >> 255) * 19 + (Z & m)
        j = 2 * i
        for idx, tab in pairs:
            for c in (0, 1):
                e = idx[j + c]
                if not e:
                    continue
                o = 1440 * c + 96 * e - 96
                # madd-2008-hwcd-3 with a precomputed affine (y+x, y-x, 2dxy)
                a = (Y - X) * fb(tab[o + 32:o + 64], "little")
                a = (a >> 255) * 19 + (a & m)
                b = (Y + X) * fb(tab[o:o + 32], "little")
                b = (b >> 255) * 19 + (b & m)
                c2 = T * fb(tab[o + 64:o + 96], "little")
                c2 = (c2 >> 255) * 19 + (c2 & m)
                d = Z + Z
                e = b - a
                f = d - c2
                g = d + c2
                h = b + a
                X = e * f
                X = (X >> 255) * 19 + (X & m)
                X = (X >> 255) * 19 + (X & m)
                Y = g * h
                Y = (Y >> 255) * 19 + (Y & m)
                Y = (Y >> 255) * 19 + (Y & m)
                T = e * h
                T = (T >> 255) * 19 + (T & m)
                T = (T >> 255) * 19 + (T & m)
                Z = f * g
                Z = (Z >> 255) * 19 + (Z & m)
                Z = (Z >> 255) * 19 + (Z & m)
    return X, Y, Z
