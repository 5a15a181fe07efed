"""Resident Ed25519 arithmetic under gerbang.ed25519 (edwards25519, a = -1, extended
coordinates): the field, the scan path's point loop mul2, the scalar's comb indices, the
encoding of a result, and the base point's table buffer. Everything the resident verify
(gerbang.ed25519), the load-time table building (gerbang.ed25519_tables) and the one-off
verify (gerbang.ed25519_oneoff) share lives here: they import this module, never one another
in a loop (gerbang.ed25519 imports the other two on first use, they import neither back).

Reduction bounds (p = 2^255 - 19, fold(x) = (x >> 255) * 19 + (x & M), x = fold(x) mod p):
- "reduced" values lie in (-2^24, 2^255 + 2^24) (negative values are fine: ints are signed
  and >> floors, so the fold stays exact).
- a product of two reduced values, or of sums of two or three of them, is < 2^524 in size;
  one fold leaves < 2^274, a second fold leaves a reduced value again.
- first-stage products (that only feed one more product) are folded once (< 2^261 when the
  inputs are reduced); second-stage products of those (< 2^524) are folded twice.
Table points are stored affine as (y + x, y - x, 2*d*x*y) mod p, packed in two 1440-byte
buffers per base point (one per comb: 15 entries x 3 x 32 bytes; two halves fit a fragmented
heap where one 2880-byte block may not) and read back with int.from_bytes (~1 k instructions
each, cheaper in RAM than 90 resident big ints of ~115 bytes each).
"""

from micropython import const

P = 2**255 - 19
M = 2**255 - 1
TAB_BYTES = const(2880)  # a whole table: two combs
HALF_BYTES = const(1440)  # one comb
D2 = 16295367250680780974490674513165176452449235426866156013048779062215315747161  # 2d
L = 2**252 + 27742317777372353535851937790883648493  # the group order


def _sqn(x, n):
    for _ in range(n):
        x = x * x
        x = (x >> 255) * 19 + (x & M)
        x = (x >> 255) * 19 + (x & M)
    return x


def mul(a, b):
    # product of reduced values, folded twice: reduced again
    x = a * b
    x = (x >> 255) * 19 + (x & M)
    return (x >> 255) * 19 + (x & M)


def inv(z):
    """z^(p-2) mod p by the 254-squaring, 11-multiplication chain (ref10); 0 for 0."""
    z2 = mul(z, z)
    z9 = mul(_sqn(z2, 2), z)
    z11 = mul(z9, z2)
    t = mul(mul(z11, z11), z9)  # z^(2^5 - 1)
    t10 = mul(_sqn(t, 5), t)
    t20 = mul(_sqn(t10, 10), t10)
    t = mul(_sqn(t20, 20), t20)
    t50 = mul(_sqn(t, 10), t10)
    t100 = mul(_sqn(t50, 50), t50)
    t = mul(_sqn(t100, 100), t100)
    t = mul(_sqn(t, 50), t50)
    return mul(_sqn(t, 5), z11) % P


def new_table():
    """An empty comb table: one buffer per comb."""
    return (bytearray(HALF_BYTES), bytearray(HALF_BYTES))


_btab = new_table()  # the base point's table, allocated at import while the heap is empty
_bready = False


def base_buffer(ready):
    """The base point's table buffer, for its writers (gerbang.ed25519_tables builds it, the
    trust cache reads it from flash): call with ready=False before writing into it,
    ready=True once what was written is complete."""
    global _bready
    _bready = ready
    return _btab


def base_ready():
    """The base point's table when it is filled, else None."""
    return _btab if _bready else None


def encode_int(X, Y, Z):
    """Projective (X, Y, Z) -> its encoding as an int (y | sign of x << 255)."""
    zi = inv(Z)
    x = X * zi % P
    y = Y * zi % P
    return y | ((x & 1) << 255)


def scalar_idx(s):
    """Comb indices of s < 2^256 for mul2: out[2*i + c] = sum_j bit((4c + j) * 32 + i) << j."""
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


def mul2(ib, tb, ia, ta):
    """[s]B (+ [k]A): comb indices ib/ia (scalar_idx), tables tb/ta (pairs of
    comb buffers, new_table()).

    Returns projective (X, Y, Z) with reduced (not canonical) coordinates."""
    # The scan's hot loop: doubling and mixed addition are written out here on purpose (the
    # same formulas as ed25519_tables._dbl/_add, which the load-time code calls), so the ~160
    # point operations of a scan pay no call and tuple overhead; keep the two in step.
    m = M
    fb = int.from_bytes
    X = 0
    Y = 1
    Z = 1
    T = 0
    pairs = ((ib, memoryview(tb[0]), memoryview(tb[1])),) if ia is None else (
        (ib, memoryview(tb[0]), memoryview(tb[1])), (ia, memoryview(ta[0]), memoryview(ta[1])))
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
        for idx, tab0, tab1 in pairs:
            for c in (0, 1):
                e = idx[j + c]
                if not e:
                    continue
                tab = tab1 if c else tab0
                o = 96 * e - 96
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
