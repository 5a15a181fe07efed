"""Interface text in Indonesian (default) and English, and local time (WIB).

Reason names and texts come from ``gerbang_protocol.reason_text`` (one catalogue for CLI,
dashboard and exports); every other string a page shows is a message id in
``messages.MESSAGES``. The language is the ``lang`` cookie ('id' or 'en')."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

from flask import g, request

from gerbang_protocol.reason_text import reason_name, reason_text

from .messages import MESSAGES

LANGS = ("id", "en")
DEFAULT = "id"
COOKIE = "lang"
WIB = timezone(timedelta(hours=7), "WIB")  # Asia/Jakarta: UTC+7, no daylight saving


def lang() -> str:
    cached = getattr(g, "lang", None)
    if cached is None:
        raw = request.cookies.get(COOKIE, DEFAULT)
        cached = g.lang = raw if raw in LANGS else DEFAULT
    return cached


def t(msg_id: str, **params: object) -> str:
    """The message in the current language (its id when missing, so a gap shows, not crashes)."""
    pair = MESSAGES.get(msg_id)
    text = msg_id if pair is None else pair[1 if lang() == "en" else 0]
    return text.format(**params) if params else text


def reason(code: int) -> str:
    return reason_text(code, lang())


def reason_label(code: int) -> str:
    return f"{reason_name(code)} — {reason_text(code, lang())}"


# --- WIB time -------------------------------------------------------------------------------

def local(ts: int) -> datetime:
    return datetime.fromtimestamp(ts, WIB)


def fmt_time(ts: int | None, seconds: bool = False) -> str:
    if ts is None:
        return t("never")
    return local(ts).strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


def today(now: int) -> date:
    return local(now).date()


def day_start(day: date) -> int:
    """Unix time of 00:00 WIB on ``day``."""
    return int(datetime(day.year, day.month, day.day, tzinfo=WIB).timestamp())


def parse_day(raw: str | None) -> date | None:
    """YYYY-MM-DD, or None when absent or malformed."""
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        return None


def fmt_duration(seconds: int | None) -> str:
    """A short age or remaining time: '3 h', '2 d', '-1 d' (past)."""
    if seconds is None:
        return "—"
    sign = "-" if seconds < 0 else ""
    s = abs(seconds)
    if s < 3600:
        return f"{sign}{s // 60} {t('unit_min')}"
    if s < 2 * 86400:
        return f"{sign}{s // 3600} {t('unit_hour')}"
    return f"{sign}{s // 86400} {t('unit_day')}"


def utc_iso(ts: int) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat()
