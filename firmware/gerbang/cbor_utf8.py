"""UTF-8 validation for gerbang.cbor's text strings (MicroPython's decode() is lax). Imported on
the first non-ASCII text only: Gerbang's own text is ASCII, so the scan path keeps it out of RAM."""


def valid(b):
    """True if b is well-formed UTF-8 (RFC 3629, Unicode table 3-7): shortest forms only, no
    surrogates (ED A0..BF), nothing above U+10FFFF (F4 90.., F5..FF), no cut sequence."""
    i = 0
    n = len(b)
    while i < n:
        c = b[i]
        i += 1
        if c < 0x80:
            continue
        if c < 0xC2 or c > 0xF4:  # continuation byte, overlong 2-byte lead, or beyond U+10FFFF
            return False
        lo = 0x80
        hi = 0xBF
        if c < 0xE0:
            k = 1
        elif c < 0xF0:
            k = 2
            if c == 0xE0:
                lo = 0xA0  # overlong below U+0800
            elif c == 0xED:
                hi = 0x9F  # surrogates
        else:
            k = 3
            if c == 0xF0:
                lo = 0x90  # overlong below U+10000
            elif c == 0xF4:
                hi = 0x8F  # above U+10FFFF
        if i + k > n:
            return False
        c = b[i]
        if c < lo or c > hi:
            return False
        for j in range(i + 1, i + k):
            if b[j] & 0xC0 != 0x80:
                return False
        i += k
    return True
