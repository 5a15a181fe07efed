"""A table of bad invocations (acceptance 2 of the CLI issue): each one gets the right exit
status (2: a refused input; 1: a failed operation), exactly one line of output, and never a
traceback. Includes every case the issue lists. Run as a person would: the real `gerbang` (and
`flask --app gerbang_server`) in a subprocess, no server configured unless the case says."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LONG = "x" * 300
DEAD = {"GERBANG_SERVER": "http://127.0.0.1:1", "GERBANG_TOKEN": "t0ken"}  # nothing listens

# (id, argv after `gerbang`, expected status, extra env, stdin, a word the line must hold)
CASES: list[tuple[str, list[str], int, dict, str, str]] = [
    # -- listed in the issue --
    ("qr-jpg", ["qr", "GB1:ABC", "--out", "c.jpg"], 2, {}, "", ".png"),
    ("vb-create-missing-config", ["virtual-board", "create", "--config", "missing", "DIR"], 2, {}, "", "missing"),
    ("vb-run-nodir", ["virtual-board", "run", "nodir"], 2, {}, "", "create"),
    ("emu-bad-port", ["scanner-emulator", "--port", "/dev/pts/99", "send", "CODE"], 2, {}, "", "/dev/pts/99"),
    ("energy-missing-profile", ["energy", "--profile", "missing"], 2, {}, "", "missing"),
    ("certify-days-0", ["keys", "certify-signer", "--days", "0"], 2, {}, "", "--days"),
    ("init-root-long-dir", ["keys", "init-root", "--dir", LONG], 2, {}, "", "root.key"),
    # -- the command line itself --
    ("no-such-command", ["frobnicate"], 2, {}, "", "frobnicate"),
    ("no-such-option", ["--frobnicate"], 2, {}, "", "--frobnicate"),
    ("bad-lang", ["--lang", "fr", "fleet"], 2, {}, "", "fr"),
    ("unit-no-such-action", ["unit", "repair"], 2, {}, "", "repair"),
    # -- unit --
    ("add-no-area", ["unit", "add"], 2, {}, "", "--area"),
    ("add-area-0", ["unit", "add", "--area", "0"], 2, {}, "", "--area"),
    ("add-area-text", ["unit", "add", "--area", "satu"], 2, {}, "", "--area"),
    ("add-no-root", ["unit", "add", "--area", "1"], 2, {}, "", "setup"),
    ("add-bad-root", ["unit", "add", "--area", "1", "--root-pub", "abc"], 2, {}, "", "abc"),
    ("add-no-server", ["unit", "add", "--area", "1", "--root-pub", "ab" * 32], 2, {}, "", "login"),
    ("add-dead-server", ["unit", "add", "--area", "1", "--root-pub", "ab" * 32], 1, DEAD, "", "127.0.0.1:1"),
    ("add-bad-door-server", ["unit", "add", "--area", "1", "--door-server", "ftp://x"], 2, {}, "", "ftp://x"),
    ("provision-no-port", ["unit", "provision", "gb-01-0001"], 2, {}, "", "--port"),
    ("provision-no-files", ["unit", "provision", "--port", "/dev/ttyNOPE9", "gb-01-0001"], 2, {}, "", "unit add"),
    ("check-wrong-port", ["unit", "check", "--port", "/dev/ttyNOPE9"], 1, {}, "", "mpremote connect list"),
    ("sync-wrong-port", ["unit", "sync-now", "--port", "/dev/ttyNOPE9"], 1, {}, "", "dialout"),
    ("log-wrong-port", ["unit", "log", "--port", "/dev/ttyNOPE9"], 1, {}, "", "USB"),
    ("log-n-0", ["unit", "log", "--port", "/dev/ttyNOPE9", "-n", "0"], 2, {}, "", "-n"),
    ("check-bad-arch", ["unit", "check", "--port", "/dev/ttyNOPE9", "--arch", "arm"], 2, {}, "", "--arch"),
    # -- operator --
    ("fleet-no-server", ["fleet"], 2, {}, "", "login"),
    ("fleet-dead-server", ["fleet"], 1, DEAD, "", "127.0.0.1:1"),
    ("fleet-damaged-config", ["fleet"], 1, {"GERBANG_CONFIG": "@damaged"}, "", "login"),
    ("export-bad-date", ["export", "--from", "2026-13-01"], 2, {}, "", "2026-13-01"),
    ("export-unix-seconds", ["export", "--from", "1796000000"], 2, {}, "", "YYYY-MM-DD"),
    ("export-dates-reversed", ["export", "--from", "2026-12-10", "--to", "2026-12-01"], 2, {}, "", "--to"),
    ("export-bad-decision", ["export", "--decision", "maybe"], 2, {}, "", "--decision"),
    ("export-area-19", ["export", "--area", "19"], 2, {}, "", "--area"),
    ("issue-no-area", ["issue"], 2, {}, "", "--area"),
    ("issue-jpg", ["issue", "--area", "1", "--out", "card.jpg"], 2, {}, "", "card.jpg"),
    ("issue-days-0", ["issue", "--area", "1", "--days", "0"], 2, {}, "", "--days"),
    ("issue-category-9", ["issue", "--area", "1", "--category", "9"], 2, {}, "", "--category"),
    # -- qr --
    ("qr-empty", ["qr", "", "--out", "x.png"], 2, {}, "", "GB1:"),
    ("qr-empty-stdin", ["qr", "-", "--out", "x.png"], 2, {}, "\n", "standard input"),
    ("qr-not-gerbang", ["qr", "hello", "--out", "x.png"], 2, {}, "", "GB1:"),
    ("qr-lowercase", ["qr", "GB1:abc", "--out", "x.png"], 2, {}, "", "'a'"),
    ("qr-too-long", ["qr", "GB1:" + "0" * 500, "--out", "x.png"], 2, {}, "", "10"),
    ("qr-svg-card", ["qr", "GB1:ABC", "--out", "x.svg", "--card"], 2, {}, "", ".png"),
    ("qr-unwritable", ["qr", "GB1:ABC", "--out", "/nonexistent/dir/x.png"], 1, {}, "", "/nonexistent"),
    ("qr-no-out", ["qr", "GB1:ABC"], 2, {}, "", "--out"),
    ("qr-scale-0", ["qr", "GB1:ABC", "--out", "x.png", "--scale", "0"], 2, {}, "", "--scale"),
    # -- keys --
    ("keys-show-missing", ["keys", "show", "missing.key"], 2, {}, "", "missing.key"),
    ("keys-show-garbage", ["keys", "show", "@garbage.key"], 2, {}, "", "garbage.key"),
    ("keys-device-bad-id", ["keys", "device", "bad id!"], 2, {}, "", "bad id!"),
    ("keys-init-root-exists", ["keys", "init-root", "--dir", "@keys"], 2, {}, "", "--force"),
    ("certify-no-root", ["keys", "certify-signer", "--dir", "empty"], 2, {}, "", "root.key"),
    # -- low-level provisioning --
    ("provision-missing-config", ["provision", "--port", "/dev/ttyNOPE9", "--config", "missing", "--bundle", "missing"], 2, {}, "", "--config"),
    ("provision-config-not-json", ["provision", "--port", "/dev/ttyNOPE9", "--config", "@notjson", "--bundle", "@notjson"], 2, {}, "", "JSON"),
    # -- login --
    ("login-bad-url", ["login", "--server", "notaurl"], 2, {}, "tok\n", "notaurl"),
    ("login-empty-token", ["login", "--server", "http://127.0.0.1:1"], 2, {}, "\n", "token"),
    ("login-dead-server", ["login", "--server", "http://127.0.0.1:1"], 1, {}, "tok\n", "127.0.0.1:1"),
    # -- developer tools --
    ("vb-create-not-json", ["virtual-board", "create", "DIR", "--config", "@notjson"], 2, {}, "", "JSON"),
    ("vb-run-bad-heap", ["virtual-board", "run", "DIR", "--heap", "lots"], 2, {}, "", "--heap"),
    ("emu-no-port", ["scanner-emulator", "send", "CODE"], 2, {}, "", "--port"),
    ("emu-board-not-running", ["scanner-emulator", "--board", "empty", "send", "CODE"], 2, {}, "", "virtual-board run"),
    ("emu-bad-action", ["scanner-emulator", "--port", "/dev/null", "shout"], 2, {}, "", "shout"),
    ("emu-send-nothing", ["scanner-emulator", "--port", "/dev/null", "send"], 2, {}, "", "CODE"),
    ("energy-negative-scans", ["energy", "--scans", "-1"], 2, {}, "", "--scans"),
    ("energy-profile-not-json", ["energy", "--profile", "@notjson"], 2, {}, "", "JSON"),
    ("energy-profile-empty", ["energy", "--profile", "@emptyprofile"], 2, {}, "", "--profile"),
    ("demo-4-units", ["demo", "--units", "4"], 2, {}, "", "--units"),
]


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    d = tmp_path_factory.mktemp("bad")
    (d / "notjson").write_text("{not json")
    (d / "garbage.key").write_text("not a key\n")
    (d / "damaged.json").write_text("[1, 2")
    (d / "emptyprofile").write_text(json.dumps({"seconds": {}}))
    (d / "empty").mkdir()
    (d / "keys").mkdir()
    (d / "keys" / "root.key").write_text("00" * 32 + "\n")
    return d


def test_the_table_is_large_enough() -> None:
    assert len(CASES) >= 40
    assert len({c[0] for c in CASES}) == len(CASES)


@pytest.mark.parametrize("name, argv, status, extra, stdin, word", CASES,
                         ids=[c[0] for c in CASES])
def test_bad_invocation(work, name, argv, status, extra, stdin, word) -> None:
    def at(a: str) -> str:
        return str(work / a[1:]) if a.startswith("@") else a

    argv = [at(a) for a in argv]
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("GERBANG_") and k not in ("LANG", "LC_ALL", "LC_MESSAGES")}
    env["GERBANG_CONFIG"] = str(work / "no-config.json")
    env.update({k: at(v) if k == "GERBANG_CONFIG" else v for k, v in extra.items()})
    if env["GERBANG_CONFIG"].endswith("damaged"):
        env["GERBANG_CONFIG"] = str(work / "damaged.json")
    r = subprocess.run([sys.executable, "-m", "gerbang_cli.cli", *argv], cwd=work, env=env,
                       input=stdin, capture_output=True, text=True, timeout=60,
                       start_new_session=True)
    out = r.stdout + r.stderr
    lines = [ln for ln in out.splitlines() if ln.strip()]
    assert "Traceback" not in out, out
    assert r.returncode == status, (r.returncode, out)
    assert len(lines) == 1, out
    assert word in lines[0], lines[0]


@pytest.mark.parametrize("lang, word", [("id", "tidak sah"), ("en", "bad value")])
def test_errors_speak_the_chosen_language(work, lang, word) -> None:
    r = subprocess.run([sys.executable, "-m", "gerbang_cli.cli", "unit", "add", "--area", "0",
                        "--lang", lang], cwd=work, capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and word in r.stderr, r.stderr


def test_locale_picks_english_and_anything_else_indonesian(work) -> None:
    for env_lang, word in (("en_US.UTF-8", "is required"), ("id_ID.UTF-8", "wajib diisi"),
                           ("C.UTF-8", "wajib diisi")):
        env = {k: v for k, v in os.environ.items() if not k.startswith(("LC_", "GERBANG_"))}
        env["LANG"] = env_lang
        r = subprocess.run([sys.executable, "-m", "gerbang_cli.cli", "issue"], cwd=work,
                           env=env, capture_output=True, text=True, timeout=60)
        assert r.returncode == 2 and word in r.stderr, (env_lang, r.stderr)


def test_flask_import_keycert_with_a_missing_key(work) -> None:
    env = {**os.environ, "DATABASE_URL": "sqlite:///" + str(work / "s.sqlite3"),
           "GERBANG_SECRET_KEY": "k" * 32}  # no dashboard warning in the way
    env.pop("GERBANG_DB_SCHEMA", None)
    r = subprocess.run([sys.executable, "-m", "flask", "--app", "gerbang_server",
                        "import-keycert", "--key", "missing", "--keycert", "missing"],
                       cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    out = r.stdout + r.stderr
    assert "Traceback" not in out and r.returncode == 2, out
    lines = [ln for ln in out.splitlines() if ln.strip() and not ln.startswith("[")]  # log lines
    assert lines == ["Error: cannot read missing: No such file or directory; give the file's path"]
