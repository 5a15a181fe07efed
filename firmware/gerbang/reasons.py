"""Reason codes of a door decision (docs/PROTOCOL.md §7) and the one rejection exception."""

from micropython import const

OK = const(0)
PREFIX = const(1)
BASE45 = const(2)
INFLATE = const(3)
CBOR = const(4)
COSE = const(5)
UNKNOWN_KID = const(6)
KEY_WINDOW = const(7)
SIGNATURE = const(8)
CLAIMS = const(9)
NOT_YET_VALID = const(10)
EXPIRED = const(11)
WRONG_AREA = const(12)
REVOKED = const(13)
DOSES = const(14)
CATEGORY = const(15)
CLOCK = const(16)
NO_TRUST = const(17)
TOO_LONG = const(18)
REUSE = const(19)
INTERNAL = const(20)

NAMES = (
    "OK", "PREFIX", "BASE45", "INFLATE", "CBOR", "COSE", "UNKNOWN_KID", "KEY_WINDOW",
    "SIGNATURE", "CLAIMS", "NOT_YET_VALID", "EXPIRED", "WRONG_AREA", "REVOKED", "DOSES",
    "CATEGORY", "CLOCK", "NO_TRUST", "TOO_LONG", "REUSE", "INTERNAL",
)


def name(reason):
    if 0 <= reason < len(NAMES):
        return NAMES[reason]
    return "UNKNOWN(%d)" % reason


class Reject(ValueError):
    """Every rejected input raises this; `reason` is the §7 code. A ValueError, so generic
    decoders (base45, cbor) can be used and tested like any other strict decoder."""

    def __init__(self, reason, msg=None):
        super().__init__(msg or name(reason))
        self.reason = reason
