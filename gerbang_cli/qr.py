"""Certificate QR images and printable cards: `gerbang qr TEXT|- --out FILE [--card]`.

Alphanumeric mode (base45 is QR's alphanumeric alphabet), error correction M, at most version
10 so cheap scanner modules read it at a glance (docs/PROTOCOL.md §2); checked before anything
is written. Whitespace around the text (a pasted line's newline) is stripped.

Outputs: .png, .pdf (Pillow) and .svg (plain QR only). A card (--card, and every `gerbang
issue`) holds the QR, the area's name, the validity in WIB and a short instruction in
Indonesian and English; the dates are read from the certificate itself.
"""

from __future__ import annotations

import os
import sys
from datetime import datetime, timedelta, timezone

import click
import segno

from .errors import failed, refused
from .messages import add, t

MAX_VERSION = 10
PREFIX = "GB1:"
ALNUM = set("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:")
FORMATS = (".png", ".pdf", ".svg")
WIB = timezone(timedelta(hours=7), "WIB")  # Asia/Jakarta: UTC+7, no daylight saving

add({
    "help.qr": ("gambar QR (atau kartu cetak) dari teks sertifikat GB1:...",
                "a QR image (or a printable card) of a GB1:... certificate text"),
    "opt.qr_text": ("teks QR (GB1:...), atau - untuk membaca dari standard input",
                    "the QR text (GB1:...), or - to read it from standard input"),
    "opt.out": ("berkas keluaran: .png, .pdf atau .svg", "output file: .png, .pdf or .svg"),
    "opt.scale": ("piksel per modul (1..40)", "pixels per module (1..40)"),
    "opt.card": ("kartu cetak: QR, nama area, masa berlaku (WIB), petunjuk",
                 "printable card: QR, area name, validity (WIB), instructions"),
    "opt.area_name": ("nama area di kartu (bawaan: dari server untuk --area, atau penerbit)",
                      "area name on the card (default: from the server for --area, or the issuer)"),
    "opt.area": ("nomor area (1..18)", "area number (1..18)"),
    "qr.empty": ("teks QR kosong: tempel teks GB1:... atau beri - dan kirim lewat standard input",
                 "empty QR text: paste the GB1:... text, or give - and send it on standard input"),
    "qr.prefix": ("teks QR harus diawali GB1: (teks sertifikat Gerbang), bukan {start!r}",
                  "the QR text must start with GB1: (a Gerbang certificate text), not {start!r}"),
    "qr.char": ("karakter {char!r} di posisi {pos} bukan bagian teks sertifikat (A-Z 0-9 $%*+-./: "
                "dan spasi); salin teksnya lagi",
                "character {char!r} at position {pos} is not part of a certificate text (A-Z 0-9 "
                "$%*+-./: and space); copy the text again"),
    "qr.version": ("QR versi {version} melebihi {max} ({n} karakter): sertifikat terlalu panjang "
                   "untuk pemindai pintu",
                   "QR version {version} is over {max} ({n} characters): the certificate is too "
                   "long for the door's scanner"),
    "qr.format": ("berkas keluaran {path!r}: pilih akhiran .png, .pdf atau .svg",
                  "output file {path!r}: use a .png, .pdf or .svg name"),
    "qr.svg_card": ("kartu hanya sebagai .png atau .pdf", "a card is written as .png or .pdf only"),
    "qr.write": ("tidak dapat menulis {path}: {detail}", "cannot write {path}: {detail}"),
    "qr.written": ("{path}: QR versi {version}-{ec}, mode {mode}, {n} karakter",
                   "{path}: QR version {version}-{ec}, {mode} mode, {n} characters"),
    "qr.stdin": ("tidak ada teks di standard input", "no text on standard input"),
    "card.title": ("Sertifikat Gerbang", "Gerbang certificate"),
    "card.area": ("Area", "Area"),
})

CARD_TEXT = {  # both languages on every card, Indonesian first
    "valid": "Berlaku / Valid",
    "until": "s.d. / until",
    "how_id": "Tunjukkan kode ini ke pemindai di pintu. Jangan dilipat pada kode.",
    "how_en": "Show this code to the scanner at the door. Do not fold across the code.",
}


def clean(text: str) -> str:
    """The text as the scanner must read it: surrounding whitespace (a pasted newline) off."""
    text = text.strip()
    if not text:
        raise refused("qr.empty")
    if not text.startswith(PREFIX):
        raise refused("qr.prefix", start=text[:8])
    for i, ch in enumerate(text):
        if ch not in ALNUM:
            raise refused("qr.char", char=ch, pos=i + 1)
    return text


def make(text: str) -> segno.QRCode:
    qr = segno.make_qr(text, error="m", boost_error=False)
    if qr.version > MAX_VERSION or qr.mode != "alphanumeric":
        raise refused("qr.version", version=qr.version, max=MAX_VERSION, n=len(text))
    return qr


def output_kind(path: str, card: bool) -> str:
    ext = os.path.splitext(path)[1].lower()
    if ext not in FORMATS:
        raise refused("qr.format", path=path)
    if card and ext == ".svg":
        raise refused("qr.svg_card")
    return ext


def wib(unix: int) -> str:
    return datetime.fromtimestamp(unix, WIB).strftime("%Y-%m-%d %H:%M WIB")


def validity(text: str) -> tuple[int, int] | None:
    """(nbf, exp) read from the certificate (not verified: for printing only)."""
    from gerbang_protocol import ProtocolError, decode_claims, decode_qr, decode_sign1

    try:
        c = decode_claims(decode_sign1(decode_qr(text)).payload)
    except (ProtocolError, ValueError):
        return None
    return c.nbf, c.exp


def qr_image(qr: segno.QRCode, scale: int):  # type: ignore[no-untyped-def]
    """The QR as a 1-bit Pillow image, 4 modules of quiet zone."""
    from PIL import Image

    border = 4
    n = qr.symbol_size(scale=1, border=border)[0]
    img = Image.new("1", (n, n), 1)
    px = img.load()
    for y, row in enumerate(qr.matrix_iter(scale=1, border=border)):
        for x, dark in enumerate(row):
            if dark:
                px[x, y] = 0
    return img.resize((n * scale, n * scale), Image.NEAREST)


def card_image(text: str, area_name: str):  # type: ignore[no-untyped-def]
    """An A6 card at 300 dpi (1240 x 1748 px): title, area, QR, validity, instructions."""
    from PIL import Image, ImageDraw, ImageFont

    qr = make(text)
    w, h = 1240, 1748
    img = Image.new("RGB", (w, h), "white")
    d = ImageDraw.Draw(img)

    def font(size: int):  # type: ignore[no-untyped-def]
        return ImageFont.load_default(size=size)

    def centred(y: int, s: str, size: int, fill: str = "black") -> int:
        f = font(size)
        while d.textlength(s, font=f) > w - 80 and size > 14:
            size -= 2
            f = font(size)
        d.text(((w - d.textlength(s, font=f)) / 2, y), s, font=f, fill=fill)
        return y + int(size * 1.35)

    y = centred(50, "Sertifikat Gerbang / Gerbang certificate", 52)
    y = centred(y + 10, area_name, 64)
    scale = max(1, min(16, (w - 160) // qr.symbol_size(scale=1, border=4)[0]))
    q = qr_image(qr, scale).convert("RGB")
    img.paste(q, ((w - q.width) // 2, y + 20))
    y += 40 + q.height
    v = validity(text)
    if v is not None:
        y = centred(y, f"{CARD_TEXT['valid']}: {wib(v[0])}", 38)
        y = centred(y, f"{CARD_TEXT['until']} {wib(v[1])}", 38)
    y = centred(y + 20, CARD_TEXT["how_id"], 30)
    centred(y, CARD_TEXT["how_en"], 30, fill="#333333")
    return img, qr


def write(text: str, out: str, scale: int = 6, card: bool = False,
          area_name: str | None = None) -> segno.QRCode:
    """Check the text and write the QR or the card; -> the QR (its version is <= 10)."""
    ext = output_kind(out, card)
    text = clean(text)
    try:
        if card:
            img, qr = card_image(text, area_name or "")
            if ext == ".pdf":
                img.save(out, "PDF", resolution=300.0)
            else:
                img.save(out, "PNG", dpi=(300, 300))
        else:
            qr = make(text)
            if ext == ".svg":
                qr.save(out, scale=scale, border=4)
            else:
                img = qr_image(qr, scale)
                if ext == ".pdf":
                    img.convert("RGB").save(out, "PDF", resolution=72.0)
                else:
                    img.save(out, "PNG")
    except OSError as e:
        raise failed("qr.write", path=out, detail=e.strerror or str(e)) from None
    return qr


def area_name_for(area: int | None, text: str) -> str:
    """The area's name from the server when it can be asked, else the certificate's issuer."""
    if area is not None:
        try:
            from .api import Api

            a = Api().areas().get(area)
            if a:
                return f"{t('card.area')} {area}: {a['name']}"
        except Exception:  # noqa: BLE001 - no server at hand: the number still says it
            pass
        return f"{t('card.area')} {area}"
    from gerbang_protocol import ProtocolError, decode_claims, decode_qr, decode_sign1

    try:
        return decode_claims(decode_sign1(decode_qr(text)).payload).iss
    except (ProtocolError, ValueError):
        return ""


def commands() -> list[click.Command]:
    @click.command("qr", help=t("help.qr"))
    @click.argument("text")
    @click.option("--out", required=True, type=click.Path(dir_okay=False), help=t("opt.out"))
    @click.option("--scale", type=click.IntRange(1, 40), default=6, show_default=True,
                  help=t("opt.scale"))
    @click.option("--card", is_flag=True, help=t("opt.card"))
    @click.option("--area", type=click.IntRange(1, 18), help=t("opt.area"))
    @click.option("--area-name", help=t("opt.area_name"))
    def qr_cmd(text: str, out: str, scale: int, card: bool, area: int | None,
               area_name: str | None) -> None:
        output_kind(out, card)  # refuse a bad name before reading standard input
        if text == "-":
            text = sys.stdin.read()
            if not text.strip():
                raise refused("qr.stdin")
        text = text.strip()
        name = area_name if area_name is not None else (area_name_for(area, text) if card
                                                        else "")
        qr = write(text, out, scale, card, name)
        click.echo(t("qr.written", path=out, version=qr.version, ec=qr.error.upper(),
                     mode=qr.mode, n=len(text)))

    return [qr_cmd]


if __name__ == "__main__":
    from gerbang_cli.cli import run_module

    sys.exit(run_module("qr"))
