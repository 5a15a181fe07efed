"""The CLI's message catalogue: every text a person reads, in Indonesian and English.

Language rule (README "Bahasa / Language"): `--lang id|en` wins; else GERBANG_LANG; else the
locale (LC_ALL, LC_MESSAGES, LANG: the first one set) when it starts with `en` gives English;
everything else gives Indonesian, the product's first language. Reason codes take their texts
from gerbang_protocol.reason_text (one catalogue for CLI, dashboard and exports).

`t(key, **fields)` formats the entry with str.format; a key missing in a language falls back to
the other one, and a missing key shows itself (a test checks every key used exists).
"""

from __future__ import annotations

import os
from typing import Any

LANGS = ("id", "en")
_lang = "id"


def locale_lang(env: dict[str, str] | None = None) -> str:
    env = dict(os.environ) if env is None else env
    if env.get("GERBANG_LANG") in LANGS:
        return env["GERBANG_LANG"]
    for var in ("LC_ALL", "LC_MESSAGES", "LANG"):
        v = env.get(var)
        if v:
            return "en" if v.lower().startswith("en") else "id"
    return "id"


def choose(lang: str | None) -> bool:
    """Set the language (None: from the environment). False for an unknown language."""
    global _lang
    if lang is None:
        _lang = locale_lang()
        return True
    if lang not in LANGS:
        _lang = locale_lang()
        return False
    _lang = lang
    return True


def lang() -> str:
    return _lang


def t(key: str, /, **fields: Any) -> str:
    pair = CATALOGUE.get(key)
    if pair is None:
        return key + (" " + repr(fields) if fields else "")
    text = pair[1] if _lang == "en" else pair[0]
    try:
        return text.format(**fields)
    except (KeyError, IndexError, ValueError):
        return text


# key -> (Indonesian, English)
CATALOGUE: dict[str, tuple[str, str]] = {
    # -- help: the root and its sections --
    "help.root": (
        "Gerbang: memeriksa sertifikat di pintu gedung tanpa jaringan. Alat untuk teknisi "
        "(memasang unit pintu) dan operator (armada, ekspor, sertifikat).",
        "Gerbang: offline certificate checking at building doors. The tool for technicians "
        "(setting up door units) and operators (fleet, export, certificates)."),
    "help.lang": ("bahasa pesan: id (Indonesia) atau en (English)",
                  "message language: id (Indonesian) or en (English)"),
    "sec.technician": ("Teknisi: unit pintu", "Technician: door units"),
    "sec.operator": ("Operator", "Operator"),
    "sec.account": ("Akun server", "Server account"),
    "sec.keys": ("Kunci dan pemasangan tingkat rendah", "Keys and low-level provisioning"),
    "sec.dev": ("Alat pengembang (gerbang_dev)", "Developer tools (gerbang_dev)"),
    "sec.other": ("Lainnya", "Other"),
    # -- generic errors --
    "usage.line": ("{where}: {what} (lihat: {where} --help)", "{where}: {what} (see: {where} --help)"),
    "usage.no_such_option": ("opsi {option} tidak dikenal", "no such option {option}"),
    "usage.missing": ("{param} wajib diisi", "{param} is required"),
    "usage.bad_value": ("nilai {param} tidak sah: {detail}", "bad value for {param}: {detail}"),
    "usage.no_such_command": ("perintah {detail} tidak dikenal", "no such command {detail}"),
    "usage.bad_lang": ("gerbang: bahasa {lang!r} tidak dikenal; pilih {langs}",
                       "gerbang: unknown language {lang!r}; choose {langs}"),
    "aborted": ("gerbang: dihentikan", "gerbang: stopped"),
    "os_error": ("gerbang: gagal: {detail}", "gerbang: failed: {detail}"),
    "internal_error": ("gerbang: kesalahan internal ({detail}); laporkan ke pengembang",
                       "gerbang: internal error ({detail}); please report it"),
}


# gettext style for the lower layers (provisioning): the English template is the key.
ID_TEXT: dict[str, str] = {}


def tr(template: str, /, **fields: Any) -> str:
    """The English template in the chosen language, formatted."""
    text = ID_TEXT.get(template, template) if _lang == "id" else template
    try:
        return text.format(**fields)
    except (KeyError, IndexError, ValueError):
        return template.format(**fields)


def add(entries: dict[str, tuple[str, str]]) -> None:
    """Modules add their own entries next to the code that uses them."""
    CATALOGUE.update(entries)
