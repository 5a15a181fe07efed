"""`gerbang login` / `setup` / `logout`: the server address and admin token in the config file.

The token is asked for with hidden input (read from standard input when that is not a terminal,
or with --token-stdin: for scripts), never taken as an argument; it is checked against the
server before it is saved.
"""

from __future__ import annotations

import os
import sys

import click

from . import settings
from .api import Api
from .errors import refused
from .messages import add, t

add({
    "help.login": ("simpan alamat server dan token admin (token diminta tersembunyi)",
                   "save the server address and the admin token (the token is asked hidden)"),
    "help.setup": ("login, lalu kunci publik root untuk unit baru",
                   "login, then the root public key for new units"),
    "help.logout": ("hapus token dari berkas konfigurasi", "remove the token from the config file"),
    "opt.server": ("alamat server, mis. https://gerbang.example.go.id",
                   "server address, e.g. https://gerbang.example.go.id"),
    "opt.token_stdin": ("baca token dari standard input (untuk skrip)",
                        "read the token from standard input (for scripts)"),
    "opt.root_pub": ("kunci publik root: 64 digit hex atau berkas root.pub",
                     "root public key: 64 hex digits or a root.pub file"),
    "prompt.server": ("Alamat server", "Server address"),
    "prompt.token": ("Token admin (tidak ditampilkan)", "Admin token (not shown)"),
    "prompt.root": ("Kunci publik root (hex atau berkas)", "Root public key (hex or file)"),
    "login.empty_token": ("token kosong: salin token dari `flask --app gerbang_server create-token`",
                          "empty token: copy it from `flask --app gerbang_server create-token`"),
    "login.ok": ("tersimpan di {path} (mode 0600): server {url}, {areas} area terlihat",
                 "saved to {path} (mode 0600): server {url}, {areas} areas visible"),
    "setup.ok": ("kunci publik root tersimpan: {root}", "root public key saved: {root}"),
    "logout.ok": ("token dihapus dari {path}", "token removed from {path}"),
})


def _login(server: str | None, token_stdin: bool) -> tuple[str, str]:
    url = settings.check_url(server or click.prompt(
        t("prompt.server"), default=settings.load().get("server") or None))
    if token_stdin or not sys.stdin.isatty():  # piped in: no terminal to hide it on
        tok = sys.stdin.readline().strip()
    else:
        tok = click.prompt(t("prompt.token"), hide_input=True).strip()
    if not tok:
        raise refused("login.empty_token")
    areas = Api(url, tok).areas()  # proves both before anything is saved
    p = settings.save({"server": url, "token": tok})
    click.echo(t("login.ok", path=p, url=url, areas=len(areas)))
    return url, tok


def commands() -> list[click.Command]:
    server_opt = click.option("--server", help=t("opt.server"))
    stdin_opt = click.option("--token-stdin", is_flag=True, help=t("opt.token_stdin"))

    @click.command("login", help=t("help.login"))
    @server_opt
    @stdin_opt
    def login(server: str | None, token_stdin: bool) -> None:
        _login(server, token_stdin)

    @click.command("setup", help=t("help.setup"))
    @server_opt
    @stdin_opt
    @click.option("--root-pub", help=t("opt.root_pub"))
    def setup(server: str | None, token_stdin: bool, root_pub: str | None) -> None:
        _login(server, token_stdin)
        value = root_pub or click.prompt(t("prompt.root"),
                                         default=settings.load().get("root_pub") or
                                         (os.path.join("keys", "root.pub")
                                          if os.path.exists(os.path.join("keys", "root.pub"))
                                          else None))
        root = settings.root_pub(value)
        settings.save({"root_pub": root})
        click.echo(t("setup.ok", root=root))

    @click.command("logout", help=t("help.logout"))
    def logout() -> None:
        data = settings.load()
        data.pop("token", None)
        p = settings.path()
        if os.path.exists(p):
            os.remove(p)
        settings.save(data)
        click.echo(t("logout.ok", path=p))

    return [login, setup, logout]
