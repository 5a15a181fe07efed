"""Certificate QR images read back with a real decoder (zxing-cpp), as a scanner would."""

import json
import subprocess
import sys

import zxingcpp
from PIL import Image

from tests.conftest import GOLDEN, ROOT


def test_golden_certificate_round_trips_through_an_image(tmp_path) -> None:
    with open(GOLDEN) as f:
        qr_text = json.load(f)["certificates"][0]["qr"]
    out = tmp_path / "cert.png"
    p = subprocess.run([sys.executable, "-m", "gerbang_cli.cli", "--lang", "en", "qr", qr_text, "--out", str(out)],
                       cwd=ROOT, capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    assert "alphanumeric" in p.stdout
    version = int(p.stdout.split("version ")[1].split("-")[0])
    assert version <= 10
    results = zxingcpp.read_barcodes(Image.open(out))
    assert [r.text for r in results] == [qr_text]


def test_refuses_a_text_over_version_10(tmp_path) -> None:
    p = subprocess.run([sys.executable, "-m", "gerbang_cli.cli", "--lang", "en", "qr", "GB1:" + "0" * 500, "--out",
                        str(tmp_path / "x.png")], cwd=ROOT, capture_output=True, text=True)
    assert p.returncode == 2 and "over 10" in p.stderr
    assert not (tmp_path / "x.png").exists()
