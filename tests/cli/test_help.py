"""`gerbang --help`: the everyday jobs first, the developer tools apart and last; the shipped CLI
imports neither the server nor the developer package (they come in by entry point only)."""

from __future__ import annotations

import ast
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _help(lang: str) -> list[str]:
    r = subprocess.run([sys.executable, "-m", "gerbang_cli.cli", "--lang", lang, "--help"],
                       cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return r.stdout.splitlines()


def _sections(lines: list[str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    cur = None
    for ln in lines:
        if ln and not ln.startswith(" ") and ln.endswith(":"):
            cur = ln[:-1]
            out[cur] = []
        elif cur and ln.startswith("  ") and not ln.startswith("   "):
            out[cur].append(ln.split()[0])
    return out


def test_everyday_jobs_first_and_developer_tools_apart() -> None:
    s = _sections(_help("en"))
    titles = [k for k in s if k not in ("Options",)]
    assert titles[0] == "Technician: door units" and titles[-1] == "Developer tools (gerbang_dev)"
    assert s["Technician: door units"] == ["unit"]
    assert s["Operator"] == ["fleet", "export", "issue", "qr"]
    assert s["Server account"] == ["login", "setup", "logout"]
    assert set(s["Developer tools (gerbang_dev)"]) == {"demo", "energy", "scanner-emulator",
                                                       "vectors", "virtual-board"}
    r = subprocess.run([sys.executable, "-m", "gerbang_cli.cli", "--lang", "en", "unit",
                        "--help"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert {"add", "provision", "check", "sync-now", "log"} <= set(_sections(
        r.stdout.splitlines())["Commands"])


def test_the_help_speaks_indonesian_by_default() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LC_", "LANG", "GERBANG_"))}
    r = subprocess.run([sys.executable, "-m", "gerbang_cli.cli", "--help"], cwd=ROOT, env=env,
                       capture_output=True, text=True, timeout=60)
    assert "Teknisi: unit pintu:" in r.stdout and "Pemakaian:" in r.stdout, r.stdout


def test_the_shipped_cli_imports_neither_server_nor_dev_tools() -> None:
    cli = os.path.join(ROOT, "gerbang_cli")
    bad = []
    for name in sorted(os.listdir(cli)):
        if not name.endswith(".py"):
            continue
        with open(os.path.join(cli, name)) as f:
            tree = ast.parse(f.read())
        for node in ast.walk(tree):
            mods = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            bad += [f"{name}: {m}" for m in mods
                    if m.split(".")[0] in ("gerbang_server", "gerbang_dev")]
    assert not bad, bad
