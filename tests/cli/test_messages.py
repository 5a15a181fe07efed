"""The message catalogue: every message id the CLI uses exists in Indonesian and English, with
the same fields in both, and every English template given to tr() has its Indonesian text."""

from __future__ import annotations

import ast
import os
import string

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CLI = os.path.join(ROOT, "gerbang_cli")


def _fields(text: str) -> set[str]:
    return {f for _, f, _, _ in string.Formatter().parse(text) if f}


def _calls(func: str) -> list[str]:
    """First string arguments of every func(...) call in gerbang_cli (message ids/templates)."""
    found = []
    for name in os.listdir(CLI):
        if not name.endswith(".py"):
            continue
        with open(os.path.join(CLI, name)) as f:
            tree = ast.parse(f.read())
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == func and \
                    node.args and isinstance(node.args[0], ast.Constant) and \
                    isinstance(node.args[0].value, str):
                found.append(node.args[0].value)
    return found


def _load_all() -> None:
    import importlib

    from gerbang_cli import cli

    for m in cli.COMMAND_MODULES + ["gerbang_cli.api", "gerbang_cli.settings"]:
        importlib.import_module(m)


def test_every_message_id_used_exists_in_both_languages() -> None:
    from gerbang_cli import messages

    _load_all()
    used = set(_calls("t")) | set(_calls("refused")) | set(_calls("failed"))
    used = {u for u in used if "." in u or u in messages.CATALOGUE}
    missing = sorted(u for u in used if u not in messages.CATALOGUE)
    assert not missing, missing
    assert len(used) > 150
    for key, (idn, en) in messages.CATALOGUE.items():
        assert idn.strip() and en.strip(), key
        assert _fields(idn) == _fields(en), key


def test_every_tr_template_has_its_indonesian_text() -> None:
    from gerbang_cli import messages

    _load_all()
    templates = _calls("tr")
    assert len(templates) > 30
    missing = [x for x in templates if x not in messages.ID_TEXT]
    assert not missing, missing
    for en, idn in messages.ID_TEXT.items():
        assert _fields(en) == _fields(idn), en
