"""The CBOR encoder (deterministic: shortest heads, definite lengths, keys sorted like cbor2
canonical=True), apart from gerbang.cbor's decoder: the door's scan path never encodes, so only
the modules that encode import it (cose.sign, the device's sync request, tests). It depends on
the decoder module for Tag; the decoder never imports it (no import circle)."""

from gerbang.cbor import Tag


def _head_into(out, major, n):
    m = major << 5
    if n < 24:
        out.append(m | n)
    elif n < 0x100:
        out.append(m | 24)
        out.append(n)
    elif n < 0x10000:
        out.append(m | 25)
        out.extend(n.to_bytes(2, "big"))
    elif n < 0x100000000:
        out.append(m | 26)
        out.extend(n.to_bytes(4, "big"))
    else:
        out.append(m | 27)
        out.extend(n.to_bytes(8, "big"))


def encode_into(out, v):
    """Append the deterministic encoding of v (int, bytes, str, list/tuple, dict, Tag, bool,
    None) to the bytearray `out`."""
    if v is True or v is False:
        out.append(0xF5 if v else 0xF4)
    elif v is None:
        out.append(0xF6)
    elif isinstance(v, int):
        if v >= 0:
            _head_into(out, 0, v)
        else:
            _head_into(out, 1, -1 - v)
    elif isinstance(v, (bytes, bytearray, memoryview)):
        _head_into(out, 2, len(v))
        out.extend(v)
    elif isinstance(v, str):
        b = v.encode()
        _head_into(out, 3, len(b))
        out.extend(b)
    elif isinstance(v, (list, tuple)):
        _head_into(out, 4, len(v))
        for x in v:
            encode_into(out, x)
    elif isinstance(v, dict):
        _head_into(out, 5, len(v))
        items = []
        for k in v:
            kb = bytearray()
            encode_into(kb, k)
            items.append((bytes(kb), v[k]))
        # length-first, then bytewise (RFC 8949 §4.2.3, cbor2's canonical): the host's order;
        # for every Gerbang map it equals the §4.2.1 bytewise order
        items.sort(key=lambda kv: (len(kv[0]), kv[0]))
        for kb, x in items:
            out.extend(kb)
            encode_into(out, x)
    elif isinstance(v, Tag):
        _head_into(out, 6, v.tag)
        encode_into(out, v.value)
    else:
        raise TypeError("cannot encode %r" % type(v))


def dumps(v):
    out = bytearray()
    encode_into(out, v)
    return bytes(out)
