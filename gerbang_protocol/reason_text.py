"""Reason codes (docs/PROTOCOL.md §7) in words a person reads, Indonesian first, English second.

The one host-side catalogue of reason texts: the CLI, the dashboard and CSV exports all take
them from here, so a door's decision reads the same everywhere. The door itself keeps only
the codes (a table of names would cost heap on every unit)."""

from __future__ import annotations

from .errors import Reason

LANGS = ("id", "en")
DEFAULT_LANG = "id"

# reason -> (Indonesian, English): short, for a log line or a table cell.
_TEXT: dict[Reason, tuple[str, str]] = {
    Reason.OK: ("diizinkan", "allowed"),
    Reason.PREFIX: ("bukan kode Gerbang", "not a Gerbang code"),
    Reason.BASE45: ("kode rusak (base45)", "damaged code (base45)"),
    Reason.INFLATE: ("kode rusak (kompresi)", "damaged code (compression)"),
    Reason.CBOR: ("kode rusak (CBOR)", "damaged code (CBOR)"),
    Reason.COSE: ("kode rusak (tanda tangan)", "damaged code (signature envelope)"),
    Reason.UNKNOWN_KID: ("penanda tangan tidak dikenal", "unknown signer"),
    Reason.KEY_WINDOW: ("kunci di luar masa berlaku", "key outside its validity window"),
    Reason.SIGNATURE: ("tanda tangan tidak sah", "invalid signature"),
    Reason.CLAIMS: ("isi sertifikat tidak sah", "malformed certificate contents"),
    Reason.NOT_YET_VALID: ("belum berlaku", "not yet valid"),
    Reason.EXPIRED: ("kedaluwarsa", "expired"),
    Reason.WRONG_AREA: ("sah, tetapi bukan untuk area ini", "valid, but not for this area"),
    Reason.REVOKED: ("dicabut", "revoked"),
    Reason.DOSES: ("jumlah dosis kurang", "too few doses"),
    Reason.CATEGORY: ("kategori tidak diterima", "category not accepted"),
    Reason.CLOCK: ("jam pintu belum sinkron", "door clock not synced"),
    Reason.NO_TRUST: ("pintu belum punya daftar kunci", "door has no trust list"),
    Reason.TOO_LONG: ("kode terlalu panjang", "code too long"),
    Reason.REUSE: ("dipakai ulang terlalu cepat", "used again too soon"),
    Reason.INTERNAL: ("kesalahan internal pintu", "internal door error"),
}


def reason_name(code: int) -> str:
    """The §7 name (EXPIRED), or UNKNOWN_<n> for a code this version does not know."""
    try:
        return Reason(code).name
    except ValueError:
        return f"UNKNOWN_{code}"


def reason_text(code: int, lang: str = DEFAULT_LANG) -> str:
    """A short text for the code in `lang` ('id' or 'en'; anything else falls back to 'id')."""
    try:
        pair = _TEXT[Reason(code)]
    except ValueError:
        return f"unknown reason code {code}" if lang == "en" else f"kode alasan tidak dikenal {code}"
    return pair[1] if lang == "en" else pair[0]
