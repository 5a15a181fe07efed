"""Base45 (RFC 9285): the QR alphanumeric alphabet, so a certificate is a compact QR."""

from .errors import ProtocolError, Reason

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
_VALUE = {c: i for i, c in enumerate(ALPHABET)}


def encode(data: bytes) -> str:
    out = []
    for i in range(0, len(data) - 1, 2):
        n = data[i] * 256 + data[i + 1]
        out += [ALPHABET[n % 45], ALPHABET[n // 45 % 45], ALPHABET[n // 2025]]
    if len(data) % 2:
        n = data[-1]
        out += [ALPHABET[n % 45], ALPHABET[n // 45]]
    return "".join(out)


def decode(text: str) -> bytes:
    if len(text) % 3 == 1:
        raise ProtocolError(Reason.BASE45, f"length {len(text)} leaves a single character")
    try:
        digits = [_VALUE[c] for c in text]
    except KeyError as e:
        raise ProtocolError(Reason.BASE45, f"{e.args[0]!r} is not a base45 character") from None
    out = bytearray()
    for i in range(0, len(digits), 3):
        chunk = digits[i:i + 3]
        n = sum(d * 45**k for k, d in enumerate(chunk))
        if len(chunk) == 3:
            if n > 0xFFFF:
                raise ProtocolError(Reason.BASE45, f"triplet value {n} is over 65535")
            out += bytes((n >> 8, n & 0xFF))
        else:
            if n > 0xFF:
                raise ProtocolError(Reason.BASE45, f"pair value {n} is over 255")
            out.append(n)
    return bytes(out)
