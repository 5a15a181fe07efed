"""Server test fixtures, every one parametrized over SQLite (a temp file) and the real
PostgreSQL (``GERBANG_TEST_POSTGRES_URL``; each test gets its own schema, dropped after).

Reusable by every server test module:
- ``clock``: the app's clock (``GERBANG_NOW``); ``clock.t`` is settable, ``clock.advance(s)``.
- ``app``, ``client``: a fresh app (schema migrated, 18 areas seeded) and its test client.
- ``admin_token`` / ``auth``: a token and the headers carrying it.
- ``pki``: root key, signer key and root-signed key certificate (not imported).
- ``area_ready``: ``pki`` imported as the signer, area 1 with an issuer key and a signed list.
- ``register_device``: ``register_device(device_id="door-1", area=1)`` -> (private key, json).
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from gerbang_protocol import (
    KeyCertificate,
    make_keycert,
    new_private_key,
    public_key_bytes,
)
from gerbang_server import create_app

T0 = 1_780_000_000  # 2026-05-28, a fixed start for the test clock
DAY = 86400
KEK_HEX = "5a" * 32
PG_ENV = "GERBANG_TEST_POSTGRES_URL"
PG_SKIP = "GERBANG_TEST_POSTGRES_URL not set (no PostgreSQL here)"


class Clock:
    """Injectable clock: the app calls it for the current unix time."""

    def __init__(self, t: int = T0) -> None:
        self.t = t

    def __call__(self) -> int:
        return self.t

    def advance(self, seconds: int) -> int:
        self.t += seconds
        return self.t


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database(request: pytest.FixtureRequest, tmp_path) -> Any:
    """(url, schema) of an empty database for one test."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/gerbang.sqlite3", None
        return
    url = os.environ.get(PG_ENV)
    if not url:
        pytest.skip(PG_SKIP)
    schema = "gbtest_" + uuid.uuid4().hex[:16]
    eng = create_engine(url)
    with eng.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield url, schema
    finally:
        with eng.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        eng.dispose()


def make_test_app(database: tuple[str, str | None], clock: Clock, **extra: Any):
    url, schema = database
    cfg = {"TESTING": True, "DATABASE_URL": url, "GERBANG_DB_SCHEMA": schema,
           "GERBANG_KEK": KEK_HEX, "GERBANG_NOW": clock, **extra}
    return create_app(cfg)


@pytest.fixture
def app(database, clock) -> Any:
    app = make_test_app(database, clock)
    yield app
    timer = app.extensions.get("gerbang_jobs")
    if timer is not None:
        timer.stop()
    app.extensions["gerbang_engine"].dispose()


@pytest.fixture
def client(app) -> Any:
    return app.test_client()


@pytest.fixture
def admin_token(app) -> str:
    from gerbang_server import auth, db

    with app.app_context(), db.begin() as conn:
        return auth.create_token(conn, "tester", app.config["GERBANG_NOW"]())


@pytest.fixture
def auth(admin_token) -> dict[str, str]:
    return {"Authorization": f"Bearer {admin_token}"}


@dataclass
class Pki:
    root: Any
    root_pub: bytes
    signer: Any
    signer_pub: bytes
    keycert: bytes


def make_pki(not_before: int = T0 - DAY, not_after: int = T0 + 365 * DAY) -> Pki:
    root, signer = new_private_key(), new_private_key()
    kc = make_keycert(root, KeyCertificate(1, public_key_bytes(signer), not_before, not_after))
    return Pki(root, public_key_bytes(root), signer, public_key_bytes(signer), kc)


@pytest.fixture
def pki() -> Pki:
    return make_pki()


def import_signer(app, pki: Pki) -> int:
    from gerbang_server import db, keys

    with app.app_context(), db.begin() as conn:
        return keys.import_signer(conn, pki.signer, pki.keycert, app.config["GERBANG_NOW"](),
                                  pki.root_pub)


@pytest.fixture
def area_ready(app, pki) -> dict[str, Any]:
    """Signer imported, area 1 has an active issuer key and a signed trust list."""
    from gerbang_server import db, keys, trustlists

    import_signer(app, pki)
    with app.app_context():
        t = app.config["GERBANG_NOW"]()
        with db.begin() as conn:
            keys.rotate_due(conn, 1, t)
        row = trustlists.refresh(1)
    return {"area": 1, "pki": pki, "root_pub": pki.root_pub, "signer": pki.signer,
            "keycert": pki.keycert, "serial": row["serial"], "bundle": bytes(row["bundle"])}


@pytest.fixture
def register_device(client, auth) -> Any:
    def register(device_id: str = "door-1", area: int = 1, firmware: str | None = "0.1.0"):
        priv = new_private_key()
        body: dict[str, Any] = {"id": device_id, "area": area,
                                "public_key": public_key_bytes(priv).hex()}
        if firmware is not None:
            body["firmware"] = firmware
        r = client.post("/api/v1/admin/devices", json=body, headers=auth)
        assert r.status_code == 201, r.get_json()
        return priv, r.get_json()

    return register
