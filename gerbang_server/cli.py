"""``flask --app gerbang_server <command>``: database, tokens, signer import, jobs, keys, issuing.

Every command that changes something writes the audit log with actor ``cli``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import click
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from flask import Flask

from gerbang_protocol import load_private_key

from . import auth, db, keys, trustlists
from .config import now
from .errors import ApiError
from .issuing import issue, revoke_certificate
from .jobs import job_lease, run_jobs


def _fail(message: str) -> None:
    raise click.ClickException(message)


def _read(path: str) -> bytes:
    """A file's bytes; one line and exit 2 when it cannot be read (a bad argument)."""
    try:
        return Path(path).read_bytes()
    except OSError as e:
        err = click.ClickException(f"cannot read {path}: {e.strerror}; give the file's path")
        err.exit_code = 2
        raise err from None


def read_private_key(path: str) -> Ed25519PrivateKey:
    """A 32-byte seed file, 64 hex digits, or a PKCS#8 PEM."""
    data = _read(path)
    if data.lstrip().startswith(b"-----BEGIN"):
        key = serialization.load_pem_private_key(data, password=None)
        if not isinstance(key, Ed25519PrivateKey):
            _fail(f"{path}: not an Ed25519 private key")
        return key
    text = data.strip()
    if len(data) == 32:
        return load_private_key(data)
    if re.fullmatch(rb"[0-9a-fA-F]{64}", text):
        return load_private_key(bytes.fromhex(text.decode()))
    _fail(f"{path}: expected a 32-byte seed, 64 hex digits or a PEM private key")
    raise AssertionError


def read_bytes_or_hex(path: str) -> bytes:
    data = _read(path)
    text = data.strip()
    if text and re.fullmatch(rb"[0-9a-fA-F]+", text) and len(text) % 2 == 0:
        return bytes.fromhex(text.decode())
    return data


def parse_root_pub(value: str) -> bytes:
    """Hex on the command line, or a file holding 32 raw bytes / 64 hex digits."""
    if re.fullmatch(r"[0-9a-fA-F]{64}", value):
        return bytes.fromhex(value)
    if Path(value).is_file():
        pub = read_bytes_or_hex(value)
        if len(pub) == 32:
            return pub
    _fail("--root-pub must be 64 hex digits or a file with the 32-byte root public key")
    raise AssertionError


def register(app: Flask) -> None:
    @app.cli.command("db-upgrade")
    def db_upgrade() -> None:
        """Upgrade the database schema to the newest migration and load the 18 areas."""
        n = db.init_db(now())
        click.echo(f"database at revision {db.current_revision(db.engine())}, {n} areas")

    @app.cli.command("create-token")
    @click.argument("name")
    def create_token(name: str) -> None:
        """Create an admin API token (printed once; only its hash is stored)."""
        try:
            with db.begin() as conn:
                token = auth.create_token(conn, name, now())
        except ValueError as e:
            _fail(str(e))
        click.echo(token)

    @app.cli.command("import-keycert")
    @click.option("--key", "key_path", required=True, help="signer private key file")
    @click.option("--keycert", "keycert_path", required=True,
                  help="the root-signed key certificate (CBOR, or hex)")
    @click.option("--root-pub", default=None,
                  help="root public key (hex or file); default GERBANG_ROOT_PUB")
    def import_keycert(key_path: str, keycert_path: str, root_pub: str | None) -> None:
        """Import the trust-list signer: its private key (stored encrypted under the KEK) and
        its key certificate, which must verify under the root public key."""
        priv = read_private_key(key_path)
        keycert = read_bytes_or_hex(keycert_path)
        root = parse_root_pub(root_pub) if root_pub else keys.root_pub()
        if root is None:
            _fail("give --root-pub or set GERBANG_ROOT_PUB: the key certificate is verified")
        t = now()
        try:
            with db.begin() as conn:
                sid = keys.import_signer(conn, priv, keycert, t, root)
                db.audit(conn, t, "cli", "signer.import", str(sid))
        except ValueError as e:
            _fail(str(e))
        except ApiError as e:
            _fail(e.message)
        click.echo(f"signer {sid} imported")

    @app.cli.command("run-jobs")
    def run_jobs_cmd() -> None:
        """Due key rotations and trust-list re-signing for every area (run from cron). Waits
        for the job lease: two at once (cron on two servers) rotate and re-sign once."""
        with job_lease(wait=True):
            report = run_jobs()
        with db.begin() as conn:
            db.audit(conn, report["now"], "cli", "jobs.run", None, None,
                     {"rotations": len(report["rotations"]), "signed": len(report["signed"]),
                      "errors": len(report["errors"])})
        for line in report["rotations"]:
            click.echo(line)
        for s in report["signed"]:
            click.echo(f"area {s['area']}: trust list serial {s['serial']} "
                       f"expires {s['expires']}")
        for err in report["errors"]:
            click.echo(f"error: {err}", err=True)
        if report["errors"]:
            raise SystemExit(1)

    @app.cli.command("rotate-now")
    @click.argument("area", type=int)
    def rotate_now(area: int) -> None:
        """Make a new issuer key for AREA that issues from now on; re-sign its trust list."""
        t = now()
        try:
            with db.begin() as conn:
                if db.get_area(conn, area) is None:
                    _fail(f"no area {area}")
                key_id = keys.rotate_now(conn, area, t)
                db.audit(conn, t, "cli", "key.rotate", f"area {area}", None, {"key": key_id})
        except ApiError as e:
            _fail(e.message)
        click.echo(f"area {area}: key {key_id} active")
        _resign(area)

    @app.cli.command("revoke-key")
    @click.argument("key_id", type=int)
    @click.option("--reason", default=None)
    def revoke_key(key_id: int, reason: str | None) -> None:
        """Revoke issuer key KEY_ID (see the admin API's key list); re-sign at once."""
        t = now()
        try:
            with db.begin() as conn:
                row = keys.revoke_key(conn, key_id, t, reason)
                db.audit(conn, t, "cli", "key.revoke", str(key_id), None, {"reason": reason})
        except ApiError as e:
            _fail(e.message)
        click.echo(f"key {key_id} ({row['kid'].hex()}) revoked")
        _resign(row["area_id"])

    @app.cli.command("revoke-cert")
    @click.argument("cti")
    @click.option("--reason", default=None)
    def revoke_cert(cti: str, reason: str | None) -> None:
        """Revoke the certificate with id CTI (32 hex digits); re-sign its area's list."""
        if not re.fullmatch(r"[0-9a-fA-F]{32}", cti):
            _fail("CTI must be 32 hex digits")
        t = now()
        try:
            with db.begin() as conn:
                row = revoke_certificate(conn, bytes.fromhex(cti), t, reason)
                db.audit(conn, t, "cli", "cert.revoke", f"area {row['area_id']}", None,
                         {"revocation_hash": row["cti_hash"][:8].hex(), "reason": reason})
        except ApiError as e:
            _fail(e.message)
        click.echo(f"certificate revoked in area {row['area_id']}")
        _resign(row["area_id"])

    @app.cli.command("issue")
    @click.argument("area", type=int)
    @click.option("--category", type=click.IntRange(1, 5), required=True)
    @click.option("--doses", type=click.IntRange(0, 15), default=0)
    @click.option("--valid-days", type=click.IntRange(1, 3650), default=None)
    @click.option("--areas", "areas_opt", default=None, help="comma-separated area ids")
    @click.option("--json", "as_json", is_flag=True, help="print all fields as JSON")
    def issue_cmd(area: int, category: int, doses: int, valid_days: int | None,
                  areas_opt: str | None, as_json: bool) -> None:
        """Issue a certificate for AREA with its newest key; prints the QR text."""
        try:
            areas = [int(a) for a in areas_opt.split(",")] if areas_opt else None
        except ValueError:
            _fail("--areas must be comma-separated integers")
        try:
            with db.begin() as conn:
                if db.get_area(conn, area) is None:
                    _fail(f"no area {area}")
            out = issue(area, category, doses, areas,
                        None if valid_days is None else valid_days * 86400)
            with db.begin() as conn:
                db.audit(conn, out["iat"], "cli", "cert.issue", f"area {area}", None,
                         {"kid": out["kid"], "exp": out["exp"], "category": category})
        except ApiError as e:
            _fail(e.message)
        _resign(area, quiet=True)
        click.echo(json.dumps(out) if as_json else out["qr"])


def _resign(area_id: int, quiet: bool = False) -> None:
    try:
        row = trustlists.publish(area_id)
        if not quiet:
            click.echo(f"area {area_id}: trust list serial {row['serial']}")
    except ApiError as e:
        click.echo(f"area {area_id}: trust list not re-signed: {e.message}", err=True)
