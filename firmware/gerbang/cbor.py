"""Small strict CBOR (RFC 8949) decoder for the door unit (Gerbang's profile, PROTOCOL.md).

Decoder: one well-formed item and nothing after it, or Reject(CBOR). Rejects reserved
additional info (28-30), every indefinite length (Gerbang's profile, PROTOCOL.md: definite
lengths only), stray breaks, two-byte simple values < 32, invalid UTF-8, duplicate map keys,
keys other than integers, text or byte strings, nesting deeper than MAX_DEPTH and any length
larger than the bytes left (checked before allocating). Every tag decodes to a Tag object (no bignum conversion:
a claim that must be an integer is never a tag).
The encoder is gerbang.cbor_enc and float decoding gerbang.cbor_float: neither is on the scan
path, and this module imports neither (cbor_float on the first float only), so decoding never
brings the encoder into RAM and there is no import circle. Non-ASCII text is checked by
gerbang.cbor_utf8, imported on the first one (the golden list at 64K has no room to spare)."""

from micropython import const

from gerbang.reasons import CBOR, Reject

MAX_DEPTH = const(16)


class Tag:
    __slots__ = ("tag", "value")

    def __init__(self, tag, value):
        self.tag = tag
        self.value = value

    def __eq__(self, other):
        return isinstance(other, Tag) and self.tag == other.tag and self.value == other.value

    def __repr__(self):
        return "Tag(%d, %r)" % (self.tag, self.value)


class Simple:
    """An unassigned simple value (0..19, 32..255) or undefined (23)."""

    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value

    def __eq__(self, other):
        return isinstance(other, Simple) and self.value == other.value

    def __repr__(self):
        return "simple(%d)" % self.value


UNDEFINED = Simple(23)
class _Decoder:
    def __init__(self, buf, views):
        self.b = buf
        self.p = 0
        self.views = views

    def _need(self, n):
        if n > len(self.b) - self.p:
            raise Reject(CBOR, "truncated CBOR")

    def _arg(self, ai):
        # Argument of a head with additional info `ai` (0..27); caller handled 28..31.
        if ai < 24:
            return ai
        b = self.b
        p = self.p
        if ai == 24:
            self._need(1)
            self.p = p + 1
            return b[p]
        if ai == 25:
            self._need(2)
            self.p = p + 2
            return b[p] << 8 | b[p + 1]
        n = 4 if ai == 26 else 8
        self._need(n)
        v = 0
        for i in range(p, p + n):
            v = v << 8 | b[i]
        self.p = p + n
        return v

    def _head(self):
        self._need(1)
        ib = self.b[self.p]
        self.p += 1
        return ib >> 5, ib & 0x1F

    def _string(self, major, ai):
        n = self._arg(ai)
        self._need(n)
        p = self.p
        self.p = p + n
        if major == 2 and self.views:
            return self.b[p : p + n]
        raw = bytes(self.b[p : p + n])
        if major == 2:
            return raw
        # MicroPython's decode() accepts overlong forms, surrogates, code points above U+10FFFF
        # and cut sequences: check first. ASCII (all of Gerbang's own text) takes one C-level max()
        if n and max(raw) > 0x7F:
            from gerbang import cbor_utf8  # not resident: Gerbang's own text is ASCII

            if not cbor_utf8.valid(raw):
                raise Reject(CBOR, "invalid UTF-8")
        try:
            return raw.decode("utf-8")
        except UnicodeError:
            raise Reject(CBOR, "invalid UTF-8") from None

    def item(self, depth):
        if depth > MAX_DEPTH:
            raise Reject(CBOR, "CBOR nested too deep")
        major, ai = self._head()
        if ai > 27:
            if ai < 31 or major in (0, 1, 6):
                raise Reject(CBOR, "reserved or invalid additional info")
            if major == 7:
                raise Reject(CBOR, "unexpected break")
            # the profile takes definite lengths only (PROTOCOL.md): a chunked string or an
            # indefinite array or map is refused, never joined
            raise Reject(CBOR, "indefinite length (the profile takes definite lengths only)")
        if major == 0:
            return self._arg(ai)
        if major == 1:
            return -1 - self._arg(ai)
        if major <= 3:
            return self._string(major, ai)
        if major == 4:
            out = []
            n = self._arg(ai)
            self._need(n)  # every item takes at least one byte
            for _ in range(n):
                out.append(self.item(depth + 1))
            return out
        if major == 5:
            out = {}
            n = self._arg(ai)
            self._need(2 * n)
            for _ in range(n):
                self._pair(out, depth)
            return out
        if major == 6:
            tag = self._arg(ai)
            return Tag(tag, self.item(depth + 1))
        # major 7
        if ai < 20 or ai == 23:
            return UNDEFINED if ai == 23 else Simple(ai)
        if ai == 20:
            return False
        if ai == 21:
            return True
        if ai == 22:
            return None
        if ai == 24:
            v = self._arg(24)
            if v < 32:
                raise Reject(CBOR, "two-byte simple value below 32")
            return Simple(v)
        n = 2 if ai == 25 else 4 if ai == 26 else 8
        self._need(n)
        p = self.p
        self.p = p + n
        from gerbang import cbor_float  # floats are rare (never in Gerbang's own data)

        return cbor_float.float_of(self.b[p : p + n])

    def _pair(self, out, depth):
        # keys are integers, text or byte strings only (PROTOCOL.md): Python takes 1, 1.0 and
        # True as one key, CBOR as three; among these three kinds == is CBOR's equality
        self._need(1)
        if self.b[self.p] > 0x7F:  # major type above 3
            raise Reject(CBOR, "map key must be an integer, text or byte string")
        k = self.item(depth + 1)
        if type(k) is memoryview:
            k = bytes(k)  # a view (views=True) is not a dict key
        v = self.item(depth + 1)
        if k in out:
            raise Reject(CBOR, "duplicate map key")
        out[k] = v


def loads(buf, reason=CBOR, views=False):
    """Decode exactly one item from bytes/bytearray/memoryview; errors raise Reject(reason).

    views=True (buf must be a memoryview): definite byte strings come back as memoryview
    slices of buf instead of copies, for large inputs (trust bundles) and the scan path."""
    d = _Decoder(buf, views)
    try:
        v = d.item(0)
        if d.p != len(buf):
            raise Reject(reason, "trailing bytes after CBOR item")
    except Reject as e:
        if e.reason != reason:
            raise Reject(reason, e.args[0]) from None
        raise
    except (TypeError, ValueError, IndexError, KeyError):
        # never reached by any input the tests know (tests/firmware/host/test_cbor_property.py
        # fails on this text): a decoder fault must still be the one error type for callers
        raise Reject(reason, "CBOR decoder fault") from None
    return v

