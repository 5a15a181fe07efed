"""QR images of certificates: `gerbang qr TEXT|- --out cert.png [--scale N]`.

Alphanumeric mode (base45 is QR's alphanumeric alphabet), error correction M, at most version 10
so cheap scanner modules read it at a glance (docs/PROTOCOL.md §2).
"""

import argparse
import sys

import segno

MAX_VERSION = 10


def make(text: str) -> segno.QRCode:
    qr = segno.make_qr(text, error="m", boost_error=False)
    if qr.version > MAX_VERSION:
        raise ValueError(f"QR version {qr.version} is over {MAX_VERSION}: the text is too long")
    return qr


def cmd_qr(a: argparse.Namespace) -> int:
    text = sys.stdin.read().strip() if a.text == "-" else a.text
    try:
        qr = make(text)
    except ValueError as e:
        print(f"gerbang qr: {e}", file=sys.stderr)
        return 2
    qr.save(a.out, scale=a.scale, border=4)
    print(f"{a.out}: QR version {qr.version}-{qr.error.upper()}, {qr.mode} mode, "
          f"{len(text)} characters")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    from gerbang_cli.cli import subcommand

    p = subcommand(sub, "qr", "render a certificate QR text as an image", __doc__)
    p.add_argument("text", help="the QR text (GB1:...), or - to read it from standard input")
    p.add_argument("--out", required=True, help="image file (.png or .svg)")
    p.add_argument("--scale", type=int, default=6, help="pixels per module (default 6)")
    p.set_defaults(func=cmd_qr)


if __name__ == "__main__":
    from gerbang_cli.cli import run_module

    sys.exit(run_module("qr"))
