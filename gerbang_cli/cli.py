"""`gerbang`: the technicians' and operators' command line (click).

Everyday jobs come first in --help (unit, fleet, export, issue, qr, login/setup), then keys and
low-level provisioning, then the developer tools, which gerbang_dev adds through the
`gerbang.dev_commands` entry points (each one a click command): the shipped CLI never imports
the developer package, nor the server (it reaches a server over HTTP only).

Every refused input ends with exit status 2 and one line saying what to do; a failed operation
with 1; never a traceback (main below).
"""

from __future__ import annotations

import importlib
import os
import signal
import sys
from importlib.metadata import entry_points

import click

from . import messages
from .errors import CliError
from .messages import t

COMMAND_MODULES = ["gerbang_cli.unit", "gerbang_cli.operator", "gerbang_cli.qr",
                   "gerbang_cli.login", "gerbang_cli.keytool", "gerbang_cli.provision"]
DEV_COMMANDS = "gerbang.dev_commands"
# (section title, commands in it); commands not named here go under "other".
SECTIONS = [("sec.technician", ["unit"]),
            ("sec.operator", ["fleet", "export", "issue", "qr"]),
            ("sec.account", ["login", "setup", "logout"]),
            ("sec.keys", ["keys", "provision"])]


class SectionedGroup(click.Group):
    """A group whose --help lists commands under section titles, developer tools last."""

    dev_names: set[str] = set()
    dev_eps: dict[str, object] = {}  # name -> entry point, loaded when first asked for

    def _load_dev(self, name: str) -> None:
        ep = self.dev_eps.pop(name, None)
        if ep is None:
            return
        try:
            cmd = ep.load()  # type: ignore[attr-defined]
        except ImportError:
            self.dev_names.discard(name)
            return  # gerbang_dev not installed here: the shipped commands still work
        if callable(cmd) and not isinstance(cmd, click.Command):
            cmd = cmd()
        self.add_command(cmd, name)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands:
            self._load_dev(cmd_name)
        return self.commands.get(cmd_name)

    def list_commands(self, ctx: click.Context) -> list[str]:
        for name in list(self.dev_eps):
            self._load_dev(name)
        return list(self.commands)  # in the order they were added

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        self.list_commands(ctx)
        seen: set[str] = set()
        rows_by: list[tuple[str, list[str]]] = []
        for title, names in SECTIONS:
            rows_by.append((t(title), [n for n in names if n in self.commands]))
            seen.update(names)
        rows_by.append((t("sec.dev"), sorted(n for n in self.commands if n in self.dev_names)))
        other = [n for n in self.commands if n not in seen and n not in self.dev_names]
        if other:
            rows_by.append((t("sec.other"), other))
        width = formatter.width - 6 if formatter.width else 74
        for title, names in rows_by:
            rows = [(n, self.commands[n].get_short_help_str(width)) for n in names
                    if not self.commands[n].hidden]
            if rows:
                with formatter.section(title):
                    formatter.write_dl(rows)


def _take_lang(argv: list[str]) -> tuple[str | None, list[str]]:
    """--lang X anywhere on the line (before or after the command): the catalogue's language
    must be known before the commands' help texts are made."""
    lang, rest, i = None, [], 0
    while i < len(argv):
        a = argv[i]
        if a == "--":
            rest += argv[i:]
            break
        if a == "--lang":
            lang = argv[i + 1] if i + 1 < len(argv) else ""
            i += 2
            continue
        if a.startswith("--lang="):
            lang = a.split("=", 1)[1]
        else:
            rest.append(a)
        i += 1
    return lang, rest


def build() -> click.Group:
    @click.group(cls=SectionedGroup, help=t("help.root"),
                 context_settings={"help_option_names": ["-h", "--help"],
                                   "max_content_width": 100})
    @click.option("--lang", type=click.Choice(messages.LANGS), default=None,
                  help=t("help.lang"), expose_value=False)  # taken off the line by main
    @click.version_option(package_name="gerbang", message="gerbang %(version)s")
    def root() -> None:
        pass

    for name in COMMAND_MODULES:
        for cmd in importlib.import_module(name).commands():
            root.add_command(cmd)
    # developer tools: loaded only when one is run or the help lists them
    eps = {ep.name: ep for ep in sorted(entry_points(group=DEV_COMMANDS), key=lambda e: e.name)}
    root.dev_eps = eps  # type: ignore[attr-defined]
    root.dev_names = set(eps)  # type: ignore[attr-defined]
    return root


def _usage_line(e: click.UsageError) -> str:
    """click's usage errors in the chosen language, one line, with where to read more."""
    ctx = e.ctx
    where = ctx.command_path if ctx is not None else "gerbang"
    if isinstance(e, click.NoSuchOption):
        what = t("usage.no_such_option", option=e.option_name)
    elif isinstance(e, click.MissingParameter):
        p = e.param
        name = (p.opts[0] if p is not None and p.opts else "?") if p is not None else "?"
        if p is not None and p.param_type_name == "argument":
            name = (p.human_readable_name or name).upper()
        what = t("usage.missing", param=name)
    elif isinstance(e, click.BadParameter):
        p = e.param
        name = p.opts[0] if p is not None and p.opts else (e.param_hint or "?")
        if p is not None and p.param_type_name == "argument":
            name = (p.human_readable_name or name).upper()
        what = t("usage.bad_value", param=name, detail=" ".join(e.message.split()))
    elif e.message.startswith("No such command"):
        what = t("usage.no_such_command", detail=e.message.split("No such command", 1)[1]
                 .strip(" .'\""))
    else:
        what = " ".join(e.message.split())
    return t("usage.line", where=where, what=what)


def _on_sigterm(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # unwinds through every `finally`: children are stopped


def main(argv: list[str] | None = None) -> int:
    lang, args = _take_lang(list(sys.argv[1:] if argv is None else argv))
    if not messages.choose(lang):
        click.echo(t("usage.bad_lang", lang=lang, langs=", ".join(messages.LANGS)), err=True)
        return 2
    from . import click_text

    click_text.install()
    if threading_main():
        signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        root = build()
        rv = root.main(args=args, prog_name="gerbang", standalone_mode=False)
        return rv if isinstance(rv, int) else 0
    except CliError as e:
        click.echo(f"gerbang: {e.text()}", err=True)
        return e.status
    except click.exceptions.NoArgsIsHelpError as e:
        click.echo(e.ctx.get_help() if e.ctx is not None else e.message)  # `gerbang`: the help
        return 0
    except click.UsageError as e:
        click.echo(_usage_line(e), err=True)
        return 2
    except click.exceptions.Exit as e:
        return e.exit_code
    except click.Abort:
        click.echo(t("aborted"), err=True)
        return 130
    except KeyboardInterrupt:
        click.echo(t("aborted"), err=True)
        return 130
    except click.ClickException as e:
        click.echo(f"gerbang: {' '.join(e.format_message().split())}", err=True)
        return e.exit_code
    except OSError as e:
        where = f" ({e.filename})" if e.filename else ""
        click.echo(t("os_error", detail=(e.strerror or str(e)) + where), err=True)
        return 1
    except Exception as e:  # noqa: BLE001 - the last net: one line, never a traceback
        if os.environ.get("GERBANG_DEBUG"):
            raise
        click.echo(t("internal_error", detail=f"{type(e).__name__}: {e}"), err=True)
        return 1


def threading_main() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()


def run_module(command: str) -> int:
    """`python -m gerbang_x.Y ARGS` is `gerbang COMMAND ARGS`."""
    return main([command, *sys.argv[1:]])


if __name__ == "__main__":
    sys.exit(main())
