"""`gerbang`: the operators' and technicians' command line (one tool, one subcommand per job).

Each subcommand lives in its own module with a `register(subparsers)` function.
"""

import argparse
import importlib
import sys
from importlib.metadata import entry_points

COMMAND_MODULES = [
    "gerbang_cli.keytool",
    "gerbang_cli.qr",
    "gerbang_cli.provision",
]
# Developer tools (gerbang_dev) add their subcommands through this entry point group, so the
# shipped CLI never imports the developer package.
DEV_COMMANDS = "gerbang.dev_commands"


def subcommand(sub: argparse._SubParsersAction, name: str, help: str,
               doc: str | None) -> argparse.ArgumentParser:
    """A subcommand whose --help shows its module's docstring as written."""
    return sub.add_parser(name, help=help, description=doc,
                          formatter_class=argparse.RawDescriptionHelpFormatter)


def run_module(command: str) -> int:
    """`python -m gerbang_cli.X ARGS` is `gerbang COMMAND ARGS`."""
    return main([command, *sys.argv[1:]])


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="gerbang", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    for ep in sorted(entry_points(group=DEV_COMMANDS), key=lambda e: e.name):
        ep.load()(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args) or 0


if __name__ == "__main__":
    sys.exit(main())
