"""Private keys never enter git, at any depth: ask git itself (git check-ignore)."""

import os
import shutil
import subprocess

import pytest

from gerbang_cli.keytool import device_key

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.mark.skipif(shutil.which("git") is None or not os.path.isdir(os.path.join(ROOT, ".git"))
                    and not os.path.isfile(os.path.join(ROOT, ".git")),
                    reason="not a git checkout")
@pytest.mark.parametrize("path", ["keys/root.key", "keys/signer.key", "keys/devices/gb-01-0001.key",
                                  "keys/a/b/c/deep.key", "units/gb-01-0001/unit.json",
                                  "keys/x.pem", "elsewhere/some.key"])
def test_git_ignores_private_keys_at_any_depth(path: str) -> None:
    r = subprocess.run(["git", "check-ignore", "-q", "--no-index", path], cwd=ROOT)
    assert r.returncode == 0, f"git would add {path}"


def test_public_halves_are_not_ignored() -> None:
    r = subprocess.run(["git", "check-ignore", "-q", "--no-index", "keys/devices/gb-01-0001.pub"],
                       cwd=ROOT)
    assert r.returncode == 1


@pytest.mark.parametrize("bad", ["../../etc/x", "", "a/b", ".hidden", "x" * 33, "gb 01"])
def test_device_key_refuses_ids_that_are_not_device_ids(tmp_path, bad: str) -> None:
    from gerbang_cli.errors import CliError

    with pytest.raises(CliError):
        device_key(str(tmp_path), bad, force=False, quiet=True)
    assert not any(p.is_file() for p in tmp_path.rglob("*"))
