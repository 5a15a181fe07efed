"""Strict base45 decoder (RFC 9285): the QR text of a certificate is base45."""

from micropython import const

from gerbang.reasons import BASE45, Reject

_ALPHABET = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
_BAD = const(255)

# byte -> digit value, 255 for bytes outside the alphabet (built once at import)
_TABLE = bytearray(b"\xff" * 256)
for _i in range(45):
    _TABLE[_ALPHABET[_i]] = _i


def decode(text, start=0):
    """Decode `text[start:]` (bytes, bytearray, memoryview or ASCII str) into a bytearray.

    Rejects characters outside the alphabet, a length of 1 mod 3, and chunks that overflow
    (> 0xFFFF for a triplet, > 0xFF for a trailing pair) with Reject(BASE45)."""
    if isinstance(text, str):
        text = text.encode()
    n = len(text) - start
    if n < 0 or n % 3 == 1:
        raise Reject(BASE45, "bad base45 length")
    out = bytearray(n // 3 * 2 + (1 if n % 3 else 0))
    t = _TABLE
    i = start
    end = start + n - n % 3
    o = 0
    while i < end:
        a = t[text[i]]
        b = t[text[i + 1]]
        c = t[text[i + 2]]
        if a == _BAD or b == _BAD or c == _BAD:
            raise Reject(BASE45, "bad base45 character")
        v = a + b * 45 + c * 2025
        if v > 0xFFFF:
            raise Reject(BASE45, "base45 triplet overflows")
        out[o] = v >> 8
        out[o + 1] = v & 0xFF
        o += 2
        i += 3
    if n % 3:
        a = t[text[i]]
        b = t[text[i + 1]]
        if a == _BAD or b == _BAD:
            raise Reject(BASE45, "bad base45 character")
        v = a + b * 45
        if v > 0xFF:
            raise Reject(BASE45, "base45 pair overflows")
        out[o] = v
    return out  # bytearray: saves a copy on the scan path


def encode(data):
    """Encoder for tests and tools (the door never encodes base45)."""
    out = bytearray()
    a = _ALPHABET
    for i in range(0, len(data) - 1, 2):
        v = (data[i] << 8) | data[i + 1]
        out.append(a[v % 45])
        out.append(a[v // 45 % 45])
        out.append(a[v // 2025])
    if len(data) % 2:
        v = data[-1]
        out.append(a[v % 45])
        out.append(a[v // 45])
    return out.decode()
