"""flask CLI commands: db-upgrade, create-token, import-keycert, run-jobs, rotate-now,
revoke-key, revoke-cert, issue."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from gerbang_protocol import Reason, check_qr, private_key_bytes
from gerbang_server import db, keys

from .conftest import KEK_HEX, T0, make_pki

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def write_pki(tmp_path, pki, form="raw"):
    key = tmp_path / "signer.key"
    seed = private_key_bytes(pki.signer)
    if form == "raw":
        key.write_bytes(seed)
    elif form == "hex":
        key.write_text(seed.hex() + "\n")
    else:
        key.write_bytes(pki.signer.private_bytes(serialization.Encoding.PEM,
                                                 serialization.PrivateFormat.PKCS8,
                                                 serialization.NoEncryption()))
    kc = tmp_path / "signer.keycert"
    kc.write_bytes(pki.keycert)
    return str(key), str(kc)


def test_db_upgrade_idempotent(runner):
    r = runner.invoke(args=["db-upgrade"])
    assert r.exit_code == 0, r.output
    assert f"revision {db.head_revision()}, 18 areas" in r.output


def test_create_token_prints_working_token(runner, client):
    r = runner.invoke(args=["create-token", "ops"])
    assert r.exit_code == 0
    token = r.output.strip()
    assert token.startswith("gbt_")
    resp = client.get("/api/v1/admin/areas", headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 200
    assert runner.invoke(args=["create-token", "x" * 101]).exit_code != 0


@pytest.mark.parametrize("form", ["raw", "hex", "pem"])
def test_import_keycert(app, runner, tmp_path, form):
    pki = make_pki()
    key, kc = write_pki(tmp_path, pki, form)
    r = runner.invoke(args=["import-keycert", "--key", key, "--keycert", kc,
                            "--root-pub", pki.root_pub.hex()])
    assert r.exit_code == 0, r.output
    with app.app_context(), db.begin() as conn:
        s = keys.signer(conn, T0)
    assert s is not None and s[0]["public_key"] == pki.signer_pub


def test_import_keycert_refusals(app, runner, tmp_path):
    pki, other = make_pki(), make_pki()
    key, kc = write_pki(tmp_path, pki)
    base = ["import-keycert", "--key", key, "--keycert", kc]
    r = runner.invoke(args=base)  # no root given, none configured
    assert r.exit_code != 0 and "root" in r.output
    r = runner.invoke(args=base + ["--root-pub", other.root_pub.hex()])  # wrong root
    assert r.exit_code != 0 and "key certificate" in r.output
    (tmp_path / "other.keycert").write_bytes(other.keycert)
    r = runner.invoke(args=["import-keycert", "--key", key, "--keycert",
                            str(tmp_path / "other.keycert"), "--root-pub", other.root_pub.hex()])
    assert r.exit_code != 0 and "another key" in r.output
    (tmp_path / "bad.key").write_bytes(b"short")
    r = runner.invoke(args=["import-keycert", "--key", str(tmp_path / "bad.key"), "--keycert", kc,
                            "--root-pub", pki.root_pub.hex()])
    assert r.exit_code != 0
    app.config["GERBANG_ROOT_PUB"] = pki.root_pub.hex()  # configured root works
    app.config["GERBANG_KEK"] = None
    r = runner.invoke(args=base)
    assert r.exit_code != 0 and "GERBANG_KEK" in r.output  # refuses without a KEK
    app.config["GERBANG_KEK"] = KEK_HEX
    assert runner.invoke(args=base).exit_code == 0
    with app.app_context(), db.begin() as conn:
        assert len(db.list_signers(conn)) == 1


def test_run_jobs_issue_rotate_revoke(app, runner, client, tmp_path, clock):
    pki = make_pki()
    key, kc = write_pki(tmp_path, pki)
    assert runner.invoke(args=["import-keycert", "--key", key, "--keycert", kc,
                               "--root-pub", pki.root_pub.hex()]).exit_code == 0
    r = runner.invoke(args=["run-jobs"])
    assert r.exit_code == 0, r.output
    assert r.output.count("first key") == 18 and r.output.count("trust list serial 1") == 18
    r = runner.invoke(args=["run-jobs"])
    assert r.exit_code == 0 and r.output == ""  # nothing due
    r = runner.invoke(args=["issue", "3", "--category", "1", "--doses", "2", "--json"])
    assert r.exit_code == 0, r.output
    cert = json.loads(r.output)
    bundle = client.get("/api/v1/areas/3/trustlist").data
    assert check_qr(cert["qr"], bundle, pki.root_pub, 3, clock.t).allow
    r = runner.invoke(args=["revoke-cert", cert["cti"], "--reason", "lost"])
    assert r.exit_code == 0 and "trust list serial 2" in r.output
    bundle = client.get("/api/v1/areas/3/trustlist").data
    assert check_qr(cert["qr"], bundle, pki.root_pub, 3, clock.t).reason == Reason.REVOKED
    clock.advance(60)
    r = runner.invoke(args=["rotate-now", "3"])
    assert r.exit_code == 0 and "trust list serial 3" in r.output
    r = runner.invoke(args=["revoke-key", str(cert["key_id"]), "--reason", "test"])
    assert r.exit_code == 0 and "revoked" in r.output and "serial 4" in r.output
    qr = runner.invoke(args=["issue", "3", "--category", "5"]).output.strip()
    assert qr.startswith("GB1:")
    audit = client.application
    with audit.app_context(), db.begin() as conn:
        actions = [e["action"] for e in db.list_audit(conn, 0, 100) if e["actor"] == "cli"]
    for a in ("signer.import", "jobs.run", "cert.issue", "cert.revoke", "key.rotate",
              "key.revoke"):
        assert a in actions


@pytest.mark.parametrize("args", [
    ["rotate-now", "99"], ["rotate-now", "x"], ["revoke-key", "12345"],
    ["revoke-cert", "nothex"], ["revoke-cert", "00" * 16], ["issue", "99", "--category", "1"],
    ["issue", "1", "--category", "9"], ["issue", "1", "--category", "1", "--areas", "a,b"],
])
def test_cli_errors(runner, args):
    r = runner.invoke(args=args)
    assert r.exit_code != 0


def test_run_jobs_without_signer_fails_loudly(runner):
    r = runner.invoke(args=["run-jobs"])
    assert r.exit_code == 1
    assert "no valid trust-list signer" in r.output


def test_real_flask_command(tmp_path):
    """The documented command line, in a subprocess, on a fresh SQLite file."""
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path}/g.sqlite3",
           "GERBANG_KEK": KEK_HEX, "PYTHONPATH": str(ROOT)}
    flask = [sys.executable, "-m", "flask", "--app", "gerbang_server"]
    r = subprocess.run(flask + ["db-upgrade"], env=env, cwd=tmp_path, capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert "18 areas" in r.stdout
    r = subprocess.run(flask + ["create-token", "ops"], env=env, cwd=tmp_path,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and r.stdout.startswith("gbt_")
