"""The one module that knows the database: SQLAlchemy Core tables, the engine, query functions.

SQLite file by default (WAL, foreign keys on), PostgreSQL via ``DATABASE_URL``. All times are
unix seconds (UTC) stored as integers; binary values (keys, kids, tags, bundles) as bytes.
Functions take a ``Connection`` so callers choose the transaction (``with begin() as conn``).
Table and column names are stable: the sync engine (server/sync.py, gerbang_server/sync_db.py) builds
on them, and Alembic migrations (server/migrations/) create them.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import current_app
from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Connection,
    Engine,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Table,
    UniqueConstraint,
    create_engine,
    event,
    func,
    insert,
    select,
    update,
)

metadata = MetaData()

# JSON documents; Python None is SQL NULL (not JSON null).
JSONDoc = JSON(none_as_null=True)

# The 18 areas (server/areas.json), with the per-area policy and subject-tag key.

areas = Table(
    "areas",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("slug", String(64), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    # {"min_doses", "categories", "clock_policy", "max_unsynced", "reuse_window"}
    Column("policy", JSONDoc, nullable=False),
    Column("tag_key", LargeBinary, nullable=False),  # 16 bytes, goes into the trust list
    Column("created_at", BigInteger, nullable=False),
)

# Door units. kid = SHA-256(public_key)[:8]: indexed, NOT unique (collisions happen).
devices = Table(
    "devices",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("area_id", Integer, ForeignKey("areas.id"), nullable=False, index=True),
    Column("public_key", LargeBinary, nullable=False),  # raw Ed25519, 32 bytes
    Column("kid", LargeBinary, nullable=False, index=True),  # 8 bytes
    Column("state", String(16), nullable=False, default="active"),  # active | retired
    Column("firmware", String(32)),
    Column("registered_at", BigInteger, nullable=False),
    Column("retired_at", BigInteger),
    Column("last_sync_at", BigInteger),  # server time of the last accepted sync
    Column("last_device_time", BigInteger),  # device_time reported at that sync
    Column("health", JSONDoc),  # the last health map {"1": free_heap, ...}
    Column("last_counter", BigInteger, nullable=False, default=0),  # replay protection
    Column("acked_seq", BigInteger, nullable=False, default=0),  # all seqs <= it are stored
    Column("max_seq", BigInteger, nullable=False, default=0),  # highest seq stored
    Column("gaps", JSONDoc),  # list of [first, last] missing seq ranges above acked_seq
    Column("trust_serial", BigInteger, nullable=False, default=0),  # serial the device holds
    Column("config", JSONDoc),  # device config {"sync_interval_s": s, ...} (gerbang_protocol.device_config)
)

# Per-area issuer keys. Private seeds are AES-GCM encrypted under the KEK (server/keys.py).
# accept_from/activates_at drive rotation; the trust list computes accept_until from the
# successor key and the certificates issued (see gerbang_server/keys.py).
issuer_keys = Table(
    "issuer_keys",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("area_id", Integer, ForeignKey("areas.id"), nullable=False, index=True),
    Column("kid", LargeBinary, nullable=False, index=True),
    Column("public_key", LargeBinary, nullable=False),
    Column("private_key_enc", LargeBinary, nullable=False),  # nonce(12) + AES-GCM ciphertext
    Column("created_at", BigInteger, nullable=False),
    Column("activates_at", BigInteger, nullable=False),  # issuing starts; published before
    Column("accept_from", BigInteger, nullable=False),  # activates_at - clock skew allowance
    Column("revoked_at", BigInteger),
    Column("revoke_reason", String(200)),
)

# The server's trust-list signer (imported with its root-signed key certificate).
signer_keys = Table(
    "signer_keys",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kid", LargeBinary, nullable=False),
    Column("public_key", LargeBinary, nullable=False),
    Column("private_key_enc", LargeBinary, nullable=False),
    Column("keycert", LargeBinary, nullable=False),  # tagged COSE_Sign1 (PROTOCOL.md §3)
    Column("not_before", BigInteger, nullable=False),
    Column("not_after", BigInteger, nullable=False),
    Column("imported_at", BigInteger, nullable=False),
)

# Every signed trust list, per area; the highest serial is the current one.
trustlists = Table(
    "trustlists",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("area_id", Integer, ForeignKey("areas.id"), nullable=False),
    Column("serial", BigInteger, nullable=False),
    Column("issued", BigInteger, nullable=False),
    Column("expires", BigInteger, nullable=False),
    Column("content_hash", LargeBinary, nullable=False),  # what changed -> serial + 1
    Column("bundle", LargeBinary, nullable=False),  # PROTOCOL.md §4 bundle bytes
    Column("etag", String(64), nullable=False),
    Column("signer_id", Integer, ForeignKey("signer_keys.id"), nullable=False),
    UniqueConstraint("area_id", "serial", name="uq_trustlists_area_serial"),
)

# Certificates issued: no personal data, only SHA-256(cti), area, key and validity.
issued_certs = Table(
    "issued_certs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("cti_hash", LargeBinary, nullable=False, unique=True),  # SHA-256(cti), 32 bytes
    Column("area_id", Integer, ForeignKey("areas.id"), nullable=False),
    Column("key_id", Integer, ForeignKey("issuer_keys.id"), nullable=False, index=True),
    Column("iat", BigInteger, nullable=False),
    Column("exp", BigInteger, nullable=False),
    Column("category", SmallInteger, nullable=False),
)

# Revoked certificates (per area trust list); dropped from lists once exp has passed.
revocations = Table(
    "revocations",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("area_id", Integer, ForeignKey("areas.id"), nullable=False),
    Column("cti_hash", LargeBinary, nullable=False),  # SHA-256(cti), 32 bytes
    Column("exp", BigInteger, nullable=False),
    Column("revoked_at", BigInteger, nullable=False),
    Column("reason", String(200)),
    UniqueConstraint("area_id", "cti_hash", name="uq_revocations_area_cti"),
)

# Scan records from the doors (PROTOCOL.md §5), stored idempotently on (device_id, seq).
scan_records = Table(
    "scan_records",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
           autoincrement=True),
    Column("device_id", String(32), ForeignKey("devices.id"), nullable=False),
    Column("area_id", Integer, nullable=False),  # the device's area when received
    Column("seq", BigInteger, nullable=False),
    Column("time", BigInteger, nullable=False),
    Column("decision", SmallInteger, nullable=False),
    Column("reason", SmallInteger, nullable=False),
    Column("clock", SmallInteger, nullable=False),
    Column("flags", SmallInteger, nullable=False),
    Column("kid", LargeBinary, nullable=False),  # 8 bytes
    Column("tag", LargeBinary, nullable=False),  # 8 bytes
    Column("received_at", BigInteger, nullable=False),
    UniqueConstraint("device_id", "seq", name="uq_scan_records_device_seq"),
    Index("ix_scan_records_area_time", "area_id", "time"),
    Index("ix_scan_records_time", "time"),
)

# Admin API tokens, stored as SHA-256 hex of the token.
admin_tokens = Table(
    "admin_tokens",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(100), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_at", BigInteger, nullable=False),
    Column("last_used_at", BigInteger),
    Column("revoked_at", BigInteger),
)

# Every admin action (API and CLI).
audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", BigInteger, nullable=False, index=True),
    Column("actor", String(100), nullable=False),
    Column("action", String(100), nullable=False),
    Column("target", String(200)),
    Column("status", Integer),
    Column("details", JSONDoc),
)


# --- engine --------------------------------------------------------------------------------

def make_engine(url: str, schema: str | None = None) -> Engine:
    """Engine for ``url``; ``schema`` sets the PostgreSQL search_path (tests isolate with it)."""
    kwargs: dict[str, Any] = {"future": True}
    if url.startswith("sqlite"):
        kwargs["connect_args"] = {"timeout": 30, "check_same_thread": False}
    elif schema:
        kwargs["connect_args"] = {"options": f"-csearch_path={schema}"}
    if url.startswith("postgresql"):
        kwargs["pool_pre_ping"] = True
    engine = create_engine(url, json_serializer=dumps, **kwargs)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def engine() -> Engine:
    return current_app.extensions["gerbang_engine"]


@contextmanager
def begin() -> Iterator[Connection]:
    """One transaction on the app's engine (commit on success, rollback on error)."""
    with engine().begin() as conn:
        yield conn


# --- small helpers ---------------------------------------------------------------------------

def dumps(obj: Any) -> str:
    """JSON columns' text: compact, keys sorted (the engine's json_serializer)."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"))


def row_dict(row: Any) -> dict[str, Any]:
    return dict(row._mapping) if row is not None else None


# --- areas -----------------------------------------------------------------------------------

def list_areas(conn: Connection) -> list[dict[str, Any]]:
    return [dict(r._mapping) for r in conn.execute(select(areas).order_by(areas.c.id))]


def get_area(conn: Connection, area_id: int) -> dict[str, Any] | None:
    return row_dict(conn.execute(select(areas).where(areas.c.id == area_id)).first())


def upsert_area(conn: Connection, area_id: int, slug: str, name: str, policy: dict,
                tag_key: bytes, now: int) -> None:
    """Insert an area if missing; rename it if present (policy and tag key are kept)."""
    if get_area(conn, area_id) is None:
        conn.execute(insert(areas).values(id=area_id, slug=slug, name=name, policy=policy,
                                          tag_key=tag_key, created_at=now))
    else:
        conn.execute(update(areas).where(areas.c.id == area_id).values(slug=slug, name=name))


def set_area(conn: Connection, area_id: int, **values: Any) -> None:
    conn.execute(update(areas).where(areas.c.id == area_id).values(**values))


# --- devices ---------------------------------------------------------------------------------

def get_device(conn: Connection, device_id: str) -> dict[str, Any] | None:
    return row_dict(conn.execute(select(devices).where(devices.c.id == device_id)).first())


def devices_by_kid(conn: Connection, kid: bytes, active_only: bool = True) -> list[dict]:
    """Every device whose key has this kid (collisions: the caller tries each)."""
    q = select(devices).where(devices.c.kid == kid)
    if active_only:
        q = q.where(devices.c.state == "active")
    return [dict(r._mapping) for r in conn.execute(q.order_by(devices.c.id))]


def list_devices(conn: Connection, area_id: int | None = None,
                 state: str | None = None) -> list[dict[str, Any]]:
    q = select(devices).order_by(devices.c.id)
    if area_id is not None:
        q = q.where(devices.c.area_id == area_id)
    if state is not None:
        q = q.where(devices.c.state == state)
    return [dict(r._mapping) for r in conn.execute(q)]


def insert_device(conn: Connection, device_id: str, area_id: int, public_key: bytes,
                  kid: bytes, now: int, firmware: str | None = None) -> None:
    conn.execute(insert(devices).values(
        id=device_id, area_id=area_id, public_key=public_key, kid=kid, state="active",
        firmware=firmware, registered_at=now, last_counter=0, acked_seq=0, max_seq=0,
        trust_serial=0))


def update_device(conn: Connection, device_id: str, **values: Any) -> None:
    conn.execute(update(devices).where(devices.c.id == device_id).values(**values))


# --- issuer keys -----------------------------------------------------------------------------

def area_keys(conn: Connection, area_id: int) -> list[dict[str, Any]]:
    """All issuer keys of an area, oldest activation first."""
    q = (select(issuer_keys).where(issuer_keys.c.area_id == area_id)
         .order_by(issuer_keys.c.activates_at, issuer_keys.c.id))
    return [dict(r._mapping) for r in conn.execute(q)]


def unrevoked_keys_outside(conn: Connection, area_id: int) -> list[dict[str, Any]]:
    """Kid and area of every issuer key of the *other* areas not revoked, newest activation
    first."""
    q = (select(issuer_keys.c.kid, issuer_keys.c.area_id)
         .where(issuer_keys.c.area_id != area_id, issuer_keys.c.revoked_at.is_(None))
         .order_by(issuer_keys.c.activates_at.desc(), issuer_keys.c.id.desc()))
    return [dict(r._mapping) for r in conn.execute(q)]


def get_issuer_key(conn: Connection, key_id: int) -> dict[str, Any] | None:
    return row_dict(conn.execute(select(issuer_keys).where(issuer_keys.c.id == key_id)).first())


def insert_issuer_key(conn: Connection, **values: Any) -> int:
    return conn.execute(insert(issuer_keys).values(**values)).inserted_primary_key[0]


def revoke_issuer_key(conn: Connection, key_id: int, now: int, reason: str | None) -> None:
    conn.execute(update(issuer_keys).where(issuer_keys.c.id == key_id)
                 .values(revoked_at=now, revoke_reason=reason))


def max_exp_by_key(conn: Connection, area_id: int) -> dict[int, int]:
    q = (select(issued_certs.c.key_id, func.max(issued_certs.c.exp))
         .where(issued_certs.c.area_id == area_id).group_by(issued_certs.c.key_id))
    return {k: e for k, e in conn.execute(q)}


# --- signer ----------------------------------------------------------------------------------

def insert_signer(conn: Connection, **values: Any) -> int:
    return conn.execute(insert(signer_keys).values(**values)).inserted_primary_key[0]


def current_signer(conn: Connection, now: int) -> dict[str, Any] | None:
    """The newest imported signer whose key certificate is valid now."""
    q = (select(signer_keys)
         .where(signer_keys.c.not_before <= now, signer_keys.c.not_after > now)
         .order_by(signer_keys.c.imported_at.desc(), signer_keys.c.id.desc()).limit(1))
    return row_dict(conn.execute(q).first())


def list_signers(conn: Connection) -> list[dict[str, Any]]:
    return [dict(r._mapping) for r in conn.execute(select(signer_keys).order_by(signer_keys.c.id))]


# --- trust lists -----------------------------------------------------------------------------

def get_trustlist(conn: Connection, area_id: int, serial: int) -> dict[str, Any] | None:
    q = select(trustlists).where(trustlists.c.area_id == area_id, trustlists.c.serial == serial)
    return row_dict(conn.execute(q).first())


def latest_trustlist(conn: Connection, area_id: int) -> dict[str, Any] | None:
    """The area's current trust list row (highest serial): serial, issued, expires, bundle..."""
    q = (select(trustlists).where(trustlists.c.area_id == area_id)
         .order_by(trustlists.c.serial.desc()).limit(1))
    return row_dict(conn.execute(q).first())


def insert_trustlist(conn: Connection, **values: Any) -> int:
    return conn.execute(insert(trustlists).values(**values)).inserted_primary_key[0]


# --- certificates and revocations ------------------------------------------------------------

def insert_issued_cert(conn: Connection, **values: Any) -> int:
    return conn.execute(insert(issued_certs).values(**values)).inserted_primary_key[0]


def get_issued_cert(conn: Connection, cti_hash: bytes) -> dict[str, Any] | None:
    q = select(issued_certs).where(issued_certs.c.cti_hash == cti_hash)
    return row_dict(conn.execute(q).first())


def insert_revocation(conn: Connection, **values: Any) -> int:
    return conn.execute(insert(revocations).values(**values)).inserted_primary_key[0]


def get_revocation(conn: Connection, area_id: int, cti_hash: bytes) -> dict[str, Any] | None:
    q = select(revocations).where(revocations.c.area_id == area_id,
                                  revocations.c.cti_hash == cti_hash)
    return row_dict(conn.execute(q).first())


def list_revocations(conn: Connection, area_id: int | None = None,
                     live_at: int | None = None) -> list[dict[str, Any]]:
    """Revocations (of an area; only those whose certificate has not expired at ``live_at``)."""
    q = select(revocations).order_by(revocations.c.id)
    if area_id is not None:
        q = q.where(revocations.c.area_id == area_id)
    if live_at is not None:
        q = q.where(revocations.c.exp > live_at)
    return [dict(r._mapping) for r in conn.execute(q)]


# --- tokens and audit ------------------------------------------------------------------------

def insert_token(conn: Connection, name: str, token_hash: str, now: int) -> int:
    return conn.execute(insert(admin_tokens).values(
        name=name, token_hash=token_hash, created_at=now)).inserted_primary_key[0]


def token_by_hash(conn: Connection, token_hash: str) -> dict[str, Any] | None:
    q = select(admin_tokens).where(admin_tokens.c.token_hash == token_hash,
                                   admin_tokens.c.revoked_at.is_(None))
    return row_dict(conn.execute(q).first())


def touch_token(conn: Connection, token_id: int, now: int) -> None:
    conn.execute(update(admin_tokens).where(admin_tokens.c.id == token_id)
                 .values(last_used_at=now))


def audit(conn: Connection, now: int, actor: str, action: str, target: str | None = None,
          status: int | None = None, details: Any = None) -> None:
    conn.execute(insert(audit_log).values(
        at=now, actor=actor, action=action, target=target, status=status,
        details=details))


def list_audit(conn: Connection, after: int = 0, limit: int = 100) -> list[dict[str, Any]]:
    q = select(audit_log).where(audit_log.c.id > after).order_by(audit_log.c.id).limit(limit)
    return [dict(r._mapping) for r in conn.execute(q)]


# --- scan records (export side; the sync engine inserts them) ---------------------------------

def scan_query(area_id: int | None = None, device_id: str | None = None,
               since: int | None = None, until: int | None = None,
               decision: int | None = None, after: int = 0, limit: int | None = None):
    """SELECT of scan records by filters, ordered by id, cursor ``after`` (exclusive id)."""
    q = select(scan_records).where(scan_records.c.id > after).order_by(scan_records.c.id)
    if area_id is not None:
        q = q.where(scan_records.c.area_id == area_id)
    if device_id is not None:
        q = q.where(scan_records.c.device_id == device_id)
    if since is not None:
        q = q.where(scan_records.c.time >= since)
    if until is not None:
        q = q.where(scan_records.c.time < until)
    if decision is not None:
        q = q.where(scan_records.c.decision == decision)
    if limit is not None:
        q = q.limit(limit)
    return q


# --- migrations and seeding --------------------------------------------------------------------

MIGRATIONS = os.path.join(os.path.dirname(__file__), "migrations")
AREAS_FILE = os.path.join(os.path.dirname(__file__), "areas.json")
_MIGRATE_LOCK = 0x6762_6462  # pg advisory lock id ("gbdb"): one migrator at a time

DEFAULT_POLICY = {"min_doses": 0, "categories": 0b111110, "clock_policy": 1,
                  "max_unsynced": 7 * 86400, "reuse_window": 0}


def upgrade(eng: Engine, revision: str = "head") -> None:
    """Alembic upgrade on ``eng`` (PostgreSQL: under an advisory lock, so several server
    processes starting at once migrate exactly once)."""
    from alembic import command

    _migrate(eng, command.upgrade, revision)


def downgrade(eng: Engine, revision: str) -> None:
    from alembic import command

    _migrate(eng, command.downgrade, revision)


def _migrate(eng: Engine, step: Any, revision: str) -> None:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", MIGRATIONS)
    with eng.connect() as conn:
        sqlite = conn.dialect.name == "sqlite"
        if sqlite:
            # SQLite alters a column by rebuilding its table; dropping the old copy of a table
            # that others reference fails while foreign keys are enforced. The pragma only
            # works outside a transaction; the check below keeps the migration honest.
            conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
            conn.commit()
        try:
            with conn.begin():
                if conn.dialect.name == "postgresql":
                    conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_MIGRATE_LOCK})")
                cfg.attributes["connection"] = conn
                step(cfg, revision)
                if sqlite:
                    broken = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                    if broken:
                        raise RuntimeError(f"migration left foreign keys broken: {broken[:5]}")
        finally:
            if sqlite:
                conn.exec_driver_sql("PRAGMA foreign_keys=ON")
                conn.commit()


def init_db(now: int) -> int:
    """Upgrade the app's database to the newest migration and load the areas; returns the
    area count (app start with GERBANG_AUTO_MIGRATE, and ``flask ... db-upgrade``)."""
    upgrade(engine())
    with begin() as conn:
        return seed_areas(conn, now)


def head_revision() -> str:
    """The newest migration's revision id."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option("script_location", MIGRATIONS)
    return ScriptDirectory.from_config(cfg).get_current_head()


def current_revision(eng: Engine) -> str | None:
    from alembic.migration import MigrationContext

    with eng.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def seed_areas(conn: Connection, now: int) -> int:
    """Load gerbang_server/areas.json into the areas table (new areas get the default policy and a
    fresh random tag key; existing ones are renamed only). Returns the number of areas."""
    with open(AREAS_FILE, encoding="utf-8") as f:
        data = json.load(f)["areas"]
    for a in data:
        upsert_area(conn, int(a["id"]), a["slug"], a["name"], DEFAULT_POLICY,
                    secrets.token_bytes(16), now)
    return len(data)


# === Dashboard (gerbang_server/dashboard/) ======================================================
# Staff accounts, login throttling, per-hour scan counts kept at ingest (the overview and the
# area day chart read these, never the raw scan table) and one row per accepted sync (a unit's
# history). Created by migration 0003_dashboard; the queries live in gerbang_server/dashboard/.

dashboard_users = Table(
    "dashboard_users",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("username", String(64), nullable=False, unique=True),
    Column("password_hash", String(255), nullable=False),  # werkzeug scrypt
    Column("role", String(16), nullable=False),  # pic | viewer | admin
    Column("areas", JSONDoc),  # list of area ids (role pic only)
    Column("created_at", BigInteger, nullable=False),
    Column("disabled_at", BigInteger),
)

# Failed log-ins per user name (known or not, so the answer tells nothing about which exist).
login_failures = Table(
    "login_failures",
    metadata,
    Column("username", String(64), primary_key=True),
    Column("failures", Integer, nullable=False),
    Column("last_at", BigInteger, nullable=False),
)

# Scan records counted per area, UTC hour (start, unix s), unit, decision and reason.
scan_hourly = Table(
    "scan_hourly",
    metadata,
    Column("area_id", Integer, primary_key=True, autoincrement=False),
    Column("hour", BigInteger, primary_key=True, autoincrement=False),
    Column("device_id", String(32), primary_key=True),
    Column("decision", SmallInteger, primary_key=True, autoincrement=False),
    Column("reason", SmallInteger, primary_key=True, autoincrement=False),
    Column("n", BigInteger, nullable=False),
    Index("ix_scan_hourly_hour", "hour"),
)

# Every accepted sync: what the unit reported (the health map, like devices.health).
device_syncs = Table(
    "device_syncs",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
           autoincrement=True),
    Column("device_id", String(32), nullable=False),
    Column("at", BigInteger, nullable=False),
    Column("device_time", BigInteger),
    Column("firmware", String(32)),
    Column("trust_serial", BigInteger),
    Column("acked_seq", BigInteger),
    Column("health", JSONDoc),  # the health map as the unit sent it
    Index("ix_device_syncs_device_at", "device_id", "at"),
)
