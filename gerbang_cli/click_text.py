"""click's own words (help headings, its value errors) in Indonesian when the CLI speaks it.

click marks its texts for gettext (`from gettext import gettext as _` in each module); install()
points those module names at a lookup in the table below, so `--help` and a refused value read
in one language. English (and any text not in the table) stays click's own.
"""

from __future__ import annotations

from collections.abc import Callable

from . import messages

ID: dict[str, str] = {
    "Usage:": "Pemakaian:",
    "Options": "Opsi",
    "Commands": "Perintah",
    "Positional arguments": "Argumen",
    "Show this message and exit.": "Tampilkan pesan ini lalu keluar.",
    "Show the version and exit.": "Tampilkan versi lalu keluar.",
    "%(prog)s, version %(version)s": "%(prog)s, versi %(version)s",
    "default: {default}": "bawaan: {default}",
    "env var: {var}": "variabel lingkungan: {var}",
    "required": "wajib",
    "Aborted!": "Dibatalkan!",
    "{value!r} is not a valid {number_type}.": "{value!r} bukan {number_type} yang sah.",
    "{value} is not in the range {range}.": "{value} di luar rentang {range}.",
    "{value!r} is not {choice}.": "{value!r} bukan {choice}.",
    "{value!r} is not one of {choices}.": "{value!r} bukan salah satu dari {choices}.",
    "{name} {filename!r} does not exist.": "{name} {filename!r} tidak ada.",
    "{name} {filename!r} is a file.": "{name} {filename!r} adalah berkas.",
    "{name} {filename!r} is a directory.": "{name} {filename!r} adalah folder.",
    "{name} {filename!r} is not readable.": "{name} {filename!r} tidak dapat dibaca.",
    "{name} {filename!r} is not writable.": "{name} {filename!r} tidak dapat ditulis.",
    "file": "berkas", "directory": "folder", "path": "jalur",
    "integer": "bilangan bulat", "float": "bilangan",
    "Option {name!r} requires an argument.": "Opsi {name!r} perlu nilai.",
    "Got unexpected extra argument ({args})": "Argumen tambahan tak terduga ({args})",
    "Got unexpected extra arguments ({args})": "Argumen tambahan tak terduga ({args})",
}


def _gettext(message: str) -> str:
    return ID.get(message, message) if messages.lang() == "id" else message


def _ngettext(singular: str, plural: str, n: int) -> str:
    return _gettext(singular if n == 1 else plural)


def install() -> None:
    import click.core
    import click.decorators
    import click.exceptions
    import click.formatting
    import click.parser
    import click.types

    for mod in (click.core, click.decorators, click.exceptions, click.formatting,
                click.parser, click.types):
        g: Callable[[str], str] = _gettext
        if hasattr(mod, "_"):
            mod._ = g  # type: ignore[attr-defined]
        if hasattr(mod, "ngettext"):
            mod.ngettext = _ngettext  # type: ignore[attr-defined]
