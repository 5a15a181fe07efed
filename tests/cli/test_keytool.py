"""`gerbang keys`: files, permissions, a key certificate that verifies under the root."""

import os
import stat
import subprocess
import sys

from gerbang_protocol import open_keycert
from tests.conftest import ROOT


def gerbang(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "gerbang_cli.cli", "--lang", "en", *args], cwd=ROOT,
                          capture_output=True, text=True)


def test_root_signer_device_chain(tmp_path) -> None:
    d = str(tmp_path)
    assert gerbang("keys", "init-root", "--dir", d).returncode == 0
    p = gerbang("keys", "certify-signer", "--dir", d, "--days", "30")
    assert p.returncode == 0, p.stderr
    assert gerbang("keys", "device", "gb-01-0001", "--dir", d).returncode == 0
    for name in ("root.key", "signer.key", "devices/gb-01-0001.key"):
        assert stat.S_IMODE(os.stat(tmp_path / name).st_mode) == 0o600
    root_pub = bytes.fromhex((tmp_path / "root.pub").read_text().strip())
    kc = open_keycert((tmp_path / "signer.keycert").read_bytes(), root_pub, None)
    assert kc.role == 1 and kc.not_after - kc.not_before == 31 * 86400
    shown = gerbang("keys", "show", str(tmp_path / "devices" / "gb-01-0001.pub"))
    assert (tmp_path / "devices" / "gb-01-0001.pub").read_text().strip() in shown.stdout


def test_refuses_to_overwrite_a_private_key(tmp_path) -> None:
    assert gerbang("keys", "init-root", "--dir", str(tmp_path)).returncode == 0
    before = (tmp_path / "root.key").read_text()
    p = gerbang("keys", "init-root", "--dir", str(tmp_path))
    assert p.returncode != 0 and "refusing" in p.stderr
    assert (tmp_path / "root.key").read_text() == before
