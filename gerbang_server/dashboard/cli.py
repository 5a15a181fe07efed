"""``flask --app gerbang_server create-user|set-password|list-users``: dashboard accounts.

The password is asked twice on a terminal (never on the command line, where ``ps`` and the
shell history would see it); ``--password-stdin`` reads one line from standard input for
scripts."""

from __future__ import annotations

import sys

import click
from flask import Flask

from .. import db
from ..config import now
from . import accounts


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return click.prompt("password", hide_input=True, confirmation_prompt=True)


def register(app: Flask) -> None:
    @app.cli.command("create-user")
    @click.argument("username")
    @click.option("--role", type=click.Choice(accounts.ROLES), required=True,
                  help="pic: one office's areas; viewer: every area, read only; admin: also "
                       "rotates, revokes and edits")
    @click.option("--area", "areas", type=int, multiple=True,
                  help="area id a pic account sees (repeat for several)")
    @click.option("--password-stdin", is_flag=True, help="read the password from stdin")
    def create_user(username: str, role: str, areas: tuple[int, ...],
                    password_stdin: bool) -> None:
        """Create a dashboard account USERNAME (lower case) with a role."""
        password = _password(password_stdin)
        try:
            with db.begin() as conn:
                user = accounts.create_user(conn, username, password, role, list(areas), now())
        except ValueError as e:
            raise click.ClickException(str(e)) from None
        where = f" areas {','.join(map(str, user.areas))}" if user.areas else ""
        click.echo(f"user {user.username} created: {user.role}{where}")

    @app.cli.command("set-password")
    @click.argument("username")
    @click.option("--password-stdin", is_flag=True, help="read the password from stdin")
    def set_password(username: str, password_stdin: bool) -> None:
        """Set USERNAME's dashboard password (ends their sessions, clears a lock-out)."""
        password = _password(password_stdin)
        try:
            with db.begin() as conn:
                accounts.set_password(conn, username, password, now())
        except ValueError as e:
            raise click.ClickException(str(e)) from None
        click.echo(f"password of {username} set")

    @app.cli.command("list-users")
    def list_users() -> None:
        """The dashboard accounts: name, role, areas."""
        with db.begin() as conn:
            for u in accounts.list_users(conn):
                click.echo(f"{u.username}\t{u.role}\t{','.join(map(str, u.areas)) or '*'}")
