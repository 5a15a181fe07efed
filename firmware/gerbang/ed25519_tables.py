"""Load-time Ed25519 table building: strict point decoding and comb tables (an issuer key's,
the base point's). Imported when a table must be built (a trust list installed or its cache
rebuilt, the one-off verify's base table, ed25519.PublicKey without a table) and dropped again
after it (when deployed as .mpy), so none of it stays in the heap during scans.
Kept small on purpose: compiling a module from source needs heap in proportion to its size.
See docs/CRYPTO.md."""

from gerbang.ed25519_field import D2, M, P, base_buffer, base_ready, inv, mul, new_table

_D = 37095705934669439343138083508754565189542113879843219016388785533085940283555
_SQRT_M1 = 19681161376707505956807079304988542015446066515923890162744021073123829784752
_BY = 46316835694926478169428394003475163141307993866256225615783033603165251855960
_BX = 15112221349535400772501151409588531511454012693041857206046113283949847762202


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


def to_extended(x, y):
    return x, y, 1, x * y % P


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
    return mul(e, f), mul(g, h), mul(f, g), mul(e, h)


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


def madd_table(pt, out=None):
    """Comb table of an extended point (2 combs x 4 teeth, 32 columns: covers 256 bits).

    Two buffers (one per comb) of 15 entries x 96 bytes, (y+x, y-x, 2dxy) little-endian,
    entry (c, e) at offset 96 * (e - 1) of buffer c: 2880 bytes, where 90 separate ints cost
    ~10 KB.
    The extended entries wait in one 1920-byte scratch buffer (not 60 ints) until the batch
    inversion, so building a table needs little more heap than the table itself. `out`: an
    empty table to fill (allocated by the caller before any arithmetic), or None."""
    if out is None:
        out = new_table()
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
        oc = out[c]
        acc = 1
        for e in range(1, 16):
            acc = acc * int.from_bytes(mv[128 * e - 64:128 * e - 32], "little") % P
            _put(oc, 96 * (e - 1), acc)
        zi = inv(acc)
        for e in range(15, 0, -1):
            X, Y, Z, _ = _get(mv, 128 * (e - 1), 4)
            prev = int.from_bytes(oc[96 * (e - 2):96 * (e - 2) + 32], "little") if e > 1 else 1
            iz = zi * prev % P
            zi = zi * Z % P
            x = X * iz % P
            y = Y * iz % P
            _put(oc, 96 * (e - 1), y + x, y - x, D2 * x % P * y)
    return out


def base_table_into(out):
    madd_table(to_extended(_BX, _BY), out)


def base_table():
    """The base point's table (gerbang.ed25519_field's buffer), built first if it is not."""
    t = base_ready()
    if t is None:
        t = base_buffer(False)
        base_table_into(t)
        base_buffer(True)
    return t


def point(pub):
    """Affine (x, y) of the 32-byte encoding pub; ValueError unless it is canonical and on
    the curve."""
    pt = _decode(pub)
    if pt is None:
        raise ValueError("bad public key")
    return pt


def key_table(pub, tab, pt=None):
    """Fill tab (new_table(), allocated by the caller) with the comb table of -A for the 32-byte
    encoding pub (pt: its point(), when already decoded); ValueError for a bad key."""
    x, y = point(pub) if pt is None else pt
    madd_table(to_extended(P - x if x else 0, y), tab)
