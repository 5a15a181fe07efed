"""The firmware test harness itself: fwtest helpers behave the same on CPython and MicroPython."""

from fwtest import check, raises


def test_raises_returns_the_exception():
    e = raises(ValueError, int, "x")
    check(isinstance(e, ValueError))


def test_raises_fails_when_nothing_is_raised():
    e = raises(AssertionError, raises, ValueError, int, "1")
    check("expected ValueError" in str(e))
