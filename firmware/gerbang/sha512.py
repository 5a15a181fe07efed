"""SHA-512 (FIPS 180-4) for the door unit: the ESP32's hashlib has no sha512.

The compression function is @micropython.viper code on 32-bit halves of the 64-bit words.
Overflow reasoning (why the same code is right on the ESP32 and on unix x64):
- viper `uint` is a 32-bit machine word on the ESP32 (xtensawin) and 64-bit on unix x64; every
  value is kept below 2^32 by masking with _m (built from 16-bit pieces: 0xffffffff is not a
  small int on the ESP32, so viper would treat the literal as an object). On the ESP32 the
  mask is a no-op; on unix it throws away exactly the bits the ESP32 never had.
- On the hashed data only `+`, `^`, `&`, `|`, `<<` and logical `>>` on uint are used (no
  comparisons, no signed shifts, no multiplication), and the low 32 bits of those are the same
  in both word sizes (loop counters are small ints and compare the same everywhere).
- Carries between the halves come from 16-bit partial sums (at most 5 terms of < 2^16, so
  < 2^19), never from an unsigned compare.
Under CPython (tests) the viper decorator is an identity and ptr8/ptr32/uint come from the
shim; the explicit masks make the results equal there too.
"""

import sys

import micropython

if sys.implementation.name != "micropython":  # CPython: the viper builtins as plain helpers
    from micropython import ptr8, ptr32, uint  # noqa: F401

# Round constants: first 64 bits of the fractional parts of the cube roots of the first 80
# primes (FIPS 180-4, 4.2.3), big-endian hex.
_KHEX = (
    "428a2f98d728ae227137449123ef65cdb5c0fbcfec4d3b2fe9b5dba58189dbbc3956c25bf348b538"
    "59f111f1b605d019923f82a4af194f9bab1c5ed5da6d8118d807aa98a303024212835b0145706fbe"
    "243185be4ee4b28c550c7dc3d5ffb4e272be5d74f27b896f80deb1fe3b1696b19bdc06a725c71235"
    "c19bf174cf692694e49b69c19ef14ad2efbe4786384f25e30fc19dc68b8cd5b5240ca1cc77ac9c65"
    "2de92c6f592b02754a7484aa6ea6e4835cb0a9dcbd41fbd476f988da831153b5983e5152ee66dfab"
    "a831c66d2db43210b00327c898fb213fbf597fc7beef0ee4c6e00bf33da88fc2d5a79147930aa725"
    "06ca6351e003826f142929670a0e6e7027b70a8546d22ffc2e1b21385c26c9264d2c6dfc5ac42aed"
    "53380d139d95b3df650a73548baf63de766a0abb3c77b2a881c2c92e47edaee692722c851482353b"
    "a2bfe8a14cf10364a81a664bbc423001c24b8b70d0f89791c76c51a30654be30d192e819d6ef5218"
    "d69906245565a910f40e35855771202a106aa07032bbd1b819a4c116b8d2d0c81e376c085141ab53"
    "2748774cdf8eeb9934b0bcb5e19b48a8391c0cb3c5c95a634ed8aa4ae3418acb5b9cca4f7763e373"
    "682e6ff3d6b2b8a3748f82ee5defb2fc78a5636f43172f6084c87814a1f0ab728cc702081a6439ec"
    "90befffa23631e28a4506cebde82bde9bef9a3f7b2c67915c67178f2e372532bca273eceea26619c"
    "d186b8c721c0c207eada7dd6cde0eb1ef57d4f7fee6ed17806f067aa72176fba0a637dc5a2c898a6"
    "113f9804bef90dae1b710b35131c471b28db77f523047d8432caab7b40c724933c9ebe0a15c9bebc"
    "431d67c49c100d4c4cc5d4becb3e42b6597f299cfc657e2a5fcb6fab3ad6faec6c44198c4a475817"
)
_IV = (
    "6a09e667f3bcc908bb67ae8584caa73b3c6ef372fe94f82ba54ff53a5f1d36f1"
    "510e527fade682d19b05688c2b3e6c1f1f83d9abfb41bd6b5be0cd19137e2179"
)


def _words(hexstr):
    # big-endian hex -> bytearray of native 32-bit words (hi half first), read with ptr32
    raw = bytes.fromhex(hexstr)
    out = bytearray(len(raw))
    for i in range(0, len(raw), 4):
        out[i] = raw[i + 3]
        out[i + 1] = raw[i + 2]
        out[i + 2] = raw[i + 1]
        out[i + 3] = raw[i]
    return out


_K = _words(_KHEX)
_IVW = _words(_IV)
del _KHEX
_W = bytearray(640)  # message schedule, shared: _compress never yields, so one is enough


@micropython.viper
def _compress(state, block, kbuf, wbuf):
    # state: 16 words (a..h as hi, lo); block: 128 bytes; kbuf: 160 words; wbuf: 160 words
    st = ptr32(state)
    b = ptr8(block)
    kk = ptr32(kbuf)
    w = ptr32(wbuf)
    m = (uint(0xFFFF) << 16) | uint(0xFFFF)
    lo16 = uint(0xFFFF)
    i = 0
    while i < 32:
        j = i << 2
        w[i] = ((uint(b[j]) << 24) | (uint(b[j + 1]) << 16) | (uint(b[j + 2]) << 8)
                | uint(b[j + 3])) & m
        i += 1
    while i < 160:
        # W[t] = s1(W[t-2]) + W[t-7] + s0(W[t-15]) + W[t-16]
        xh = uint(w[i - 4])
        xl = uint(w[i - 3])
        s1h = (((xh >> 19) | (xl << 13)) ^ ((xl >> 29) | (xh << 3)) ^ (xh >> 6)) & m
        s1l = (((xl >> 19) | (xh << 13)) ^ ((xh >> 29) | (xl << 3))
               ^ ((xl >> 6) | (xh << 26))) & m
        xh = uint(w[i - 30])
        xl = uint(w[i - 29])
        s0h = (((xh >> 1) | (xl << 31)) ^ ((xh >> 8) | (xl << 24)) ^ (xh >> 7)) & m
        s0l = (((xl >> 1) | (xh << 31)) ^ ((xl >> 8) | (xh << 24))
               ^ ((xl >> 7) | (xh << 25))) & m
        yh = uint(w[i - 14])
        yl = uint(w[i - 13])
        zh = uint(w[i - 32])
        zl = uint(w[i - 31])
        s = (s1l & lo16) + (yl & lo16) + (s0l & lo16) + (zl & lo16)
        u = (s1l >> 16) + (yl >> 16) + (s0l >> 16) + (zl >> 16) + (s >> 16)
        w[i + 1] = ((u << 16) | (s & lo16)) & m
        w[i] = (s1h + yh + s0h + zh + (u >> 16)) & m
        i += 2
    ah = uint(st[0])
    al = uint(st[1])
    bh = uint(st[2])
    bl = uint(st[3])
    ch = uint(st[4])
    cl = uint(st[5])
    dh = uint(st[6])
    dl = uint(st[7])
    eh = uint(st[8])
    el = uint(st[9])
    fh = uint(st[10])
    fl = uint(st[11])
    gh = uint(st[12])
    gl = uint(st[13])
    hh = uint(st[14])
    hl = uint(st[15])
    i = 0
    while i < 160:
        # T1 = h + S1(e) + Ch(e, f, g) + K[t] + W[t]
        s1h = (((eh >> 14) | (el << 18)) ^ ((eh >> 18) | (el << 14))
               ^ ((el >> 9) | (eh << 23))) & m
        s1l = (((el >> 14) | (eh << 18)) ^ ((el >> 18) | (eh << 14))
               ^ ((eh >> 9) | (el << 23))) & m
        chh = ((fh ^ gh) & eh) ^ gh
        chl = ((fl ^ gl) & el) ^ gl
        kh = uint(kk[i])
        kl = uint(kk[i + 1])
        xh = uint(w[i])
        xl = uint(w[i + 1])
        s = (hl & lo16) + (s1l & lo16) + (chl & lo16) + (kl & lo16) + (xl & lo16)
        u = (hl >> 16) + (s1l >> 16) + (chl >> 16) + (kl >> 16) + (xl >> 16) + (s >> 16)
        t1l = ((u << 16) | (s & lo16)) & m
        t1h = (hh + s1h + chh + kh + xh + (u >> 16)) & m
        # T2 = S0(a) + Maj(a, b, c)
        s0h = (((ah >> 28) | (al << 4)) ^ ((al >> 2) | (ah << 30))
               ^ ((al >> 7) | (ah << 25))) & m
        s0l = (((al >> 28) | (ah << 4)) ^ ((ah >> 2) | (al << 30))
               ^ ((ah >> 7) | (al << 25))) & m
        mh = (ah & bh) | (ch & (ah | bh))
        ml = (al & bl) | (cl & (al | bl))
        hh = gh
        hl = gl
        gh = fh
        gl = fl
        fh = eh
        fl = el
        # e = d + T1
        s = (dl & lo16) + (t1l & lo16)
        u = (dl >> 16) + (t1l >> 16) + (s >> 16)
        el = ((u << 16) | (s & lo16)) & m
        eh = (dh + t1h + (u >> 16)) & m
        dh = ch
        dl = cl
        ch = bh
        cl = bl
        bh = ah
        bl = al
        # a = T1 + T2
        s = (t1l & lo16) + (s0l & lo16) + (ml & lo16)
        u = (t1l >> 16) + (s0l >> 16) + (ml >> 16) + (s >> 16)
        al = ((u << 16) | (s & lo16)) & m
        ah = (t1h + s0h + mh + (u >> 16)) & m
        i += 2
    # state += (a..h), 64-bit adds
    i = 0
    while i < 16:
        if i == 0:
            xh = ah
            xl = al
        elif i == 2:
            xh = bh
            xl = bl
        elif i == 4:
            xh = ch
            xl = cl
        elif i == 6:
            xh = dh
            xl = dl
        elif i == 8:
            xh = eh
            xl = el
        elif i == 10:
            xh = fh
            xl = fl
        elif i == 12:
            xh = gh
            xl = gl
        else:
            xh = hh
            xl = hl
        yh = uint(st[i])
        yl = uint(st[i + 1])
        s = (xl & lo16) + (yl & lo16)
        u = (xl >> 16) + (yl >> 16) + (s >> 16)
        st[i + 1] = ((u << 16) | (s & lo16)) & m
        st[i] = (xh + yh + (u >> 16)) & m
        i += 2


class SHA512:
    """Incremental SHA-512: update(data) any number of times, then digest() (once or more)."""

    def __init__(self, data=None):
        self._state = bytearray(_IVW)
        self._buf = bytearray(128)
        self._n = 0  # bytes buffered
        self._total = 0  # bytes hashed so far
        if data is not None:
            self.update(data)

    def update(self, data):
        mv = memoryview(data)
        ln = len(mv)
        self._total += ln
        pos = 0
        buf = self._buf
        n = self._n
        if n:
            take = min(128 - n, ln)
            buf[n:n + take] = mv[:take]
            n += take
            pos = take
            if n < 128:
                self._n = n
                return
            _compress(self._state, buf, _K, _W)
        while ln - pos >= 128:
            buf[:] = mv[pos:pos + 128]
            _compress(self._state, buf, _K, _W)
            pos += 128
        self._n = ln - pos
        buf[:self._n] = mv[pos:]

    def digest(self):
        # pad a copy, so the object can go on being updated
        state = bytearray(self._state)
        buf = bytearray(self._buf)
        n = self._n
        buf[n] = 0x80
        for i in range(n + 1, 128):
            buf[i] = 0
        if n >= 112:
            _compress(state, buf, _K, _W)
            for i in range(128):
                buf[i] = 0
        bits = self._total * 8
        for i in range(8):
            buf[127 - i] = (bits >> (8 * i)) & 0xFF
        _compress(state, buf, _K, _W)
        out = bytearray(64)
        for i in range(0, 64, 4):  # native 32-bit words back to big-endian bytes
            out[i] = state[i + 3]
            out[i + 1] = state[i + 2]
            out[i + 2] = state[i + 1]
            out[i + 3] = state[i]
        return bytes(out)


def sha512(data):
    """SHA-512 of bytes/bytearray/memoryview: 64 bytes."""
    return SHA512(data).digest()
