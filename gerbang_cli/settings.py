"""Where the CLI finds its server, token and root key: the environment, then the config file.

GERBANG_SERVER and GERBANG_TOKEN (and GERBANG_ROOT_PUB) win over the file that `gerbang login`
and `gerbang setup` write: `$GERBANG_CONFIG`, else `<user config dir>/gerbang/config.json`
(click.get_app_dir: ~/.config/gerbang on Linux), mode 0600. The token is never taken from the
command line, where it would land in the shell history.
"""

from __future__ import annotations

import json
import os
import re
from typing import Any

import click

from .errors import failed, refused
from .messages import add

add({
    "cfg.unreadable": ("berkas konfigurasi {path} rusak ({detail}); jalankan `gerbang login` lagi",
                       "config file {path} is damaged ({detail}); run `gerbang login` again"),
    "cfg.no_server": ("alamat server belum diatur: jalankan `gerbang login` atau atur GERBANG_SERVER",
                      "no server set: run `gerbang login` or set GERBANG_SERVER"),
    "cfg.no_token": ("token admin belum diatur: jalankan `gerbang login` atau atur GERBANG_TOKEN",
                     "no admin token: run `gerbang login` or set GERBANG_TOKEN"),
    "cfg.bad_server": ("alamat server {url!r} tidak sah: tulis http://HOST:PORT atau https://HOST",
                       "server address {url!r} is not valid: write http://HOST:PORT or https://HOST"),
    "cfg.no_root": ("kunci publik root belum diatur: jalankan `gerbang setup`, beri --root-pub, "
                    "atau atur GERBANG_ROOT_PUB",
                    "no root public key: run `gerbang setup`, give --root-pub, or set "
                    "GERBANG_ROOT_PUB"),
    "cfg.bad_root": ("kunci publik root {value!r} tidak sah: 64 digit hex atau berkas root.pub",
                     "root public key {value!r} is not valid: 64 hex digits or a root.pub file"),
})

URL = re.compile(r"^https?://[A-Za-z0-9.\-\[\]:]+(/[^\s]*)?$")
HEX64 = re.compile(r"^[0-9a-f]{64}$")


def path() -> str:
    return os.environ.get("GERBANG_CONFIG") or os.path.join(click.get_app_dir("gerbang"),
                                                            "config.json")


def load() -> dict[str, Any]:
    p = path()
    try:
        with open(p) as f:
            data = json.load(f)
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as e:
        raise failed("cfg.unreadable", path=p, detail=str(e)) from None
    if not isinstance(data, dict):
        raise failed("cfg.unreadable", path=p, detail="not a JSON object")
    return data


def save(values: dict[str, Any]) -> str:
    """Merge values into the config file, written 0600 (tmp + rename)."""
    p = path()
    data = {**load(), **values}
    os.makedirs(os.path.dirname(p) or ".", mode=0o700, exist_ok=True)
    tmp = p + ".tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(data, f, indent=1)
    os.chmod(tmp, 0o600)
    os.replace(tmp, p)
    return p


def check_url(url: str) -> str:
    url = url.strip().rstrip("/")
    if not URL.match(url):
        raise refused("cfg.bad_server", url=url)
    return url


def server() -> str:
    url = os.environ.get("GERBANG_SERVER") or load().get("server")
    if not url:
        raise refused("cfg.no_server")
    return check_url(url)


def token() -> str:
    tok = os.environ.get("GERBANG_TOKEN") or load().get("token")
    if not tok:
        raise refused("cfg.no_token")
    return str(tok).strip()


def root_pub(value: str | None = None) -> str:
    """The pinned root public key as 64 hex digits: --root-pub (hex or a file), the
    environment, the config file, or keys/root.pub when it exists."""
    v = value or os.environ.get("GERBANG_ROOT_PUB") or load().get("root_pub")
    if not v and os.path.exists(os.path.join("keys", "root.pub")):
        v = os.path.join("keys", "root.pub")
    if not v:
        raise refused("cfg.no_root")
    text = v.strip().lower()
    if not HEX64.match(text):
        try:
            with open(v) as f:
                text = f.read().strip().lower()
        except (OSError, UnicodeDecodeError):
            raise refused("cfg.bad_root", value=v) from None
    if not HEX64.match(text):
        raise refused("cfg.bad_root", value=v)
    return text
