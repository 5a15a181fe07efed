"""Every PNG and PDF page `gerbang` writes decodes, with zxing-cpp (PDF pages rendered by
poppler's pdftoppm), to exactly the certificate text (acceptance 3 of the CLI issue): plain QR
images, cards from `gerbang qr --card`, a pasted text with its trailing newline, and the cards
`gerbang issue` writes from a real server. The QR is checked to be version <= 10 at EC M."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest
import zxingcpp
from PIL import Image

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
GOLDEN = os.path.join(ROOT, "tests", "vectors", "golden.json")
NAMES = ("valid", "valid_listed_areas", "revoked", "claims_malformed")


def pages(path: str, tmp: str) -> list[Image.Image]:
    """The images of a PNG, or of every page of a PDF (pdftoppm at 150 dpi)."""
    if path.endswith(".png"):
        return [Image.open(path)]
    pdftoppm = shutil.which("pdftoppm")
    if pdftoppm is None:
        pytest.fail("pdftoppm (poppler-utils) is needed to read the PDF cards: apt-get install "
                    "poppler-utils (.ci/run does)")
    stem = os.path.join(tmp, os.path.basename(path) + "-page")
    subprocess.run([pdftoppm, "-r", "150", "-png", path, stem], check=True, timeout=60)
    out = sorted(p for p in os.listdir(tmp) if p.startswith(os.path.basename(stem)))
    assert out, "pdftoppm wrote no page"
    return [Image.open(os.path.join(tmp, p)) for p in out]


def decoded(path: str, tmp: str) -> list[list[str]]:
    return [[r.text for r in zxingcpp.read_barcodes(img)] for img in pages(path, tmp)]


def gerbang(*args: str, stdin: str = "", cwd: str = ROOT, env: dict | None = None):  # type: ignore[no-untyped-def]
    return subprocess.run([sys.executable, "-m", "gerbang_cli.cli", "--lang", "en", *args],
                          cwd=cwd, input=stdin, capture_output=True, text=True, timeout=120,
                          env=env)


def golden() -> dict[str, str]:
    with open(GOLDEN) as f:
        return {c["name"]: c["qr"] for c in json.load(f)["certificates"]}


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("ext, card", [(".png", False), (".pdf", False), (".png", True),
                                       (".pdf", True)])
def test_every_image_and_page_decodes_to_the_text(tmp_path, name, ext, card) -> None:
    text = golden()[name]
    out = str(tmp_path / ("c" + ext))
    r = gerbang("qr", text, "--out", out, *(["--card", "--area-name", "Area 1: Balai Kota"]
                                            if card else []))
    assert r.returncode == 0, r.stderr
    version = int(r.stdout.split("version ")[1].split("-")[0])
    assert version <= 10 and "-M," in r.stdout and "alphanumeric" in r.stdout
    assert decoded(out, str(tmp_path)) == [[text]]


def test_a_pasted_text_with_its_newline_is_stripped_not_blamed_on_length(tmp_path) -> None:
    text = golden()["valid"]
    out = str(tmp_path / "pasted.png")
    r = gerbang("qr", "-", "--out", out, stdin=text + "\n")
    assert r.returncode == 0, r.stderr
    assert decoded(out, str(tmp_path)) == [[text]]
    r = gerbang("qr", text + "\r\n", "--out", str(tmp_path / "arg.pdf"), "--card")
    assert r.returncode == 0, r.stderr
    assert decoded(str(tmp_path / "arg.pdf"), str(tmp_path)) == [[text]]


def test_the_card_says_area_validity_and_how_to_use_it() -> None:
    from gerbang_cli import qr

    text = golden()["valid"]
    nbf, exp = qr.validity(text)
    assert nbf < exp and qr.wib(exp).endswith("WIB")
    assert "pemindai" in qr.CARD_TEXT["how_id"] and "scanner" in qr.CARD_TEXT["how_en"]


def test_issue_writes_png_and_pdf_cards_that_decode(tmp_path) -> None:
    from gerbang_dev.demo import Lab

    with Lab(str(tmp_path / "lab")) as lab:
        os.makedirs(lab.base, exist_ok=True)
        lab.start_server()
        env = {**lab.env, "GERBANG_SERVER": lab.url, "GERBANG_TOKEN": lab.token,
               "GERBANG_CONFIG": str(tmp_path / "none.json")}
        r = gerbang("issue", "--area", "5", "--category", "1", "--doses", "2", "--days", "7",
                    cwd=str(tmp_path), env=env)
        assert r.returncode == 0, r.stderr
    text = r.stdout.strip().splitlines()[-1]
    cards = [ln.split("card: ")[1].split(" (")[0] for ln in r.stdout.splitlines()
             if ln.startswith("card: ")]
    assert sorted(os.path.splitext(c)[1] for c in cards) == [".pdf", ".png"]
    for c in cards:
        assert decoded(str(tmp_path / c), str(tmp_path)) == [[text]]
    assert "QR version" in r.stdout and all(int(ln.split("version ")[1].split("-")[0]) <= 10
                                            for ln in r.stdout.splitlines() if "version" in ln)
