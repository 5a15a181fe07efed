"""One device-id rule: the door's sync boot (gerbang.sync.valid_device_id, written out for
MicroPython) decides every id as gerbang_protocol.device_id does."""

import pytest

from gerbang import sync  # firmware (tests/firmware/conftest.py puts it on sys.path)
from gerbang_protocol.device_id import is_device_id

IDS = ["gb-01-0001", "a", "A.b_c-9", "x" * 32, "x" * 33, "", "-a", ".a", "_a", "a b", "a/b",
       "../x", "é", "a\x00", "ａ", "1", "9-", None, 5, b"gb"]


@pytest.mark.parametrize("value", IDS)
def test_door_and_protocol_agree(value) -> None:
    assert sync.valid_device_id(value) == is_device_id(value)
