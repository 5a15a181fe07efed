"""Reason codes of a door decision (docs/PROTOCOL.md §7) and the one rejection exception.

Only the codes live on the device; their names are in docs/PROTOCOL.md §7 and the host's
`gerbang_protocol.Reason` enum (a table of names would cost heap on every door)."""

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

class Reject(ValueError):
    """Every rejected input raises this; `reason` is the §7 code. A ValueError, so generic
    decoders (base45, cbor) can be used and tested like any other strict decoder."""

    def __init__(self, reason, msg=None):
        super().__init__(msg or "reason %d" % reason)
        self.reason = reason
