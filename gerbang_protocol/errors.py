"""Reason codes (docs/PROTOCOL.md §7) and the one exception every strict decoder raises."""

from enum import IntEnum


class Reason(IntEnum):
    OK = 0
    PREFIX = 1
    BASE45 = 2
    INFLATE = 3
    CBOR = 4
    COSE = 5
    UNKNOWN_KID = 6
    KEY_WINDOW = 7
    SIGNATURE = 8
    CLAIMS = 9
    NOT_YET_VALID = 10
    EXPIRED = 11
    WRONG_AREA = 12
    REVOKED = 13
    DOSES = 14
    CATEGORY = 15
    CLOCK = 16
    NO_TRUST = 17
    TOO_LONG = 18
    REUSE = 19
    INTERNAL = 20


class ProtocolError(ValueError):
    """Any rejected input: `reason` says which rule it broke, the message says how."""

    def __init__(self, reason: Reason, message: str) -> None:
        super().__init__(f"{reason.name}: {message}")
        self.reason = reason
        self.message = message
