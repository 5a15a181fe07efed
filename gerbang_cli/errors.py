"""The CLI's one kind of error: a message id from the catalogue and an exit status.

`gerbang_cli.cli.main` prints it as one line in the chosen language; nothing below main prints
a traceback. Exit status 2: the input was refused (fix it and run again); 1: the operation
failed (the server, the unit or the file system said no).
"""

from __future__ import annotations

from typing import Any

USAGE = 2
FAILED = 1


class CliError(Exception):
    def __init__(self, key: str, status: int = USAGE, **fields: Any) -> None:
        super().__init__(key)
        self.key = key
        self.status = status
        self.fields = fields

    def text(self) -> str:
        from .messages import t

        return t(self.key, **self.fields)


def refused(key: str, **fields: Any) -> CliError:
    return CliError(key, USAGE, **fields)


def failed(key: str, **fields: Any) -> CliError:
    return CliError(key, FAILED, **fields)
