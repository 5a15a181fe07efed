"""Every reason code has a name and a text in both languages, and unknown codes never raise."""

import pytest

from gerbang_protocol import Reason
from gerbang_protocol.reason_text import LANGS, reason_name, reason_text


@pytest.mark.parametrize("reason", list(Reason))
def test_every_reason_has_distinct_texts_in_both_languages(reason: Reason) -> None:
    texts = [reason_text(reason, lang) for lang in LANGS]
    assert all(texts) and len(set(texts)) == len(LANGS)
    assert reason_name(reason) == reason.name


def test_texts_differ_between_reasons() -> None:
    for lang in LANGS:
        assert len({reason_text(r, lang) for r in Reason}) == len(Reason)


def test_unknown_code_is_named_not_raised() -> None:
    assert reason_name(99) == "UNKNOWN_99"
    assert "99" in reason_text(99, "id") and "99" in reason_text(99, "en")
