"""A scripted day for the dashboard's browser tests: a real server database with a signer,
keys and trust lists for the 18 areas, door units, staff accounts made with the ``flask``
command, and scan records sent as signed sync requests over HTTP to the server under test.

Units: area 1 door-1a, door-1b (reports dropped records), door-1c (stale: its last sync is
moved two days back after it synced), area 2 door-2a, area 3 door-3a (never syncs).
Records: every hour of yesterday (WIB) and the hours of today so far, allows and denies with
several reasons; door-1a sends one batch twice (a retried sync) to prove nothing counts twice.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from typing import Any

from gerbang_dev.bench.server import KEK_HEX, ROOT
from gerbang_protocol import (
    KeyCertificate,
    Reason,
    ScanRecord,
    SyncRequest,
    kid_of,
    make_keycert,
    make_sync_request,
    new_private_key,
    public_key_bytes,
)

WIB_OFFSET = 7 * 3600
UNITS = {"door-1a": 1, "door-1b": 1, "door-1c": 1, "door-2a": 2, "door-3a": 3}
USERS = {"admin": ("admin", []), "viewer": ("viewer", []), "pic2": ("pic", [2])}
PASSWORD = "correct horse battery"
DENY_REASONS = [Reason.EXPIRED, Reason.REVOKED, Reason.WRONG_AREA, Reason.SIGNATURE,
                Reason.CATEGORY]


def wib_day_start(t: int) -> int:
    return (t + WIB_OFFSET) // 86400 * 86400 - WIB_OFFSET


@dataclass
class Day:
    url: str
    schema: str | None
    now: int
    today0: int
    yesterday0: int
    serial: dict[int, int]
    keys: dict[str, Any] = field(default_factory=dict)  # unit -> private key


def flask_env(url: str, schema: str | None, secret: str) -> dict[str, str]:
    env = {**os.environ, "DATABASE_URL": url, "GERBANG_KEK": KEK_HEX,
           "GERBANG_AUTO_MIGRATE": "0", "GERBANG_SECRET_KEY": secret,
           "PYTHONPATH": ROOT + os.pathsep + os.environ.get("PYTHONPATH", "")}
    env.pop("GERBANG_DB_SCHEMA", None)
    if schema:
        env["GERBANG_DB_SCHEMA"] = schema
    return env


def provision(url: str, schema: str | None, secret: str) -> Day:
    """Migrate, signer valid now, a key and a signed list for every area, units registered,
    accounts created with ``flask --app gerbang_server create-user``."""
    from gerbang_server import create_app, db, keys, trustlists

    app = create_app({"DATABASE_URL": url, "GERBANG_DB_SCHEMA": schema, "GERBANG_KEK": KEK_HEX,
                      "GERBANG_AUTO_MIGRATE": True, "SECRET_KEY": secret})
    t = int(time.time())
    day = Day(url, schema, t, wib_day_start(t), wib_day_start(t) - 86400, {})
    try:
        with app.app_context():
            root, signer = new_private_key(), new_private_key()
            kc = make_keycert(root, KeyCertificate(1, public_key_bytes(signer), t - 86400,
                                                   t + 365 * 86400))
            with db.begin() as conn:
                keys.import_signer(conn, signer, kc, t, public_key_bytes(root))
                for area in range(1, 19):
                    keys.rotate_due(conn, area, t)
            for area in range(1, 19):
                day.serial[area] = trustlists.refresh(area)["serial"]
            with db.begin() as conn:
                for unit, area in UNITS.items():
                    priv = new_private_key()
                    pub = public_key_bytes(priv)
                    db.insert_device(conn, unit, area, pub, kid_of(pub), t, "0.9.0")
                    day.keys[unit] = priv
    finally:
        app.extensions["gerbang_engine"].dispose()
    env = flask_env(url, schema, secret)
    for name, (role, areas) in USERS.items():
        cmd = [sys.executable, "-m", "flask", "--app", "gerbang_server", "create-user", name,
               "--role", role, "--password-stdin"]
        for a in areas:
            cmd += ["--area", str(a)]
        out = subprocess.run(cmd, input=PASSWORD + "\n", env=env, cwd=ROOT, text=True,
                             capture_output=True, timeout=120)
        if out.returncode != 0 or f"user {name} created" not in out.stdout:
            raise RuntimeError(f"create-user {name}: {out.stdout}{out.stderr}")
    return day


def records_for(unit: str, day: Day) -> list[tuple[int, int, int]]:
    """(time, decision, reason) of the unit's scripted records, in time order."""
    if unit == "door-3a":
        return []
    salt = sum(map(ord, unit))
    out = []
    for start, hours in ((day.yesterday0, 24), (day.today0, (day.now - day.today0) // 3600 + 1)):
        for h in range(hours):
            allows = (h * 7 + salt) % 9 + 1
            denies = (h * 5 + salt) % 4
            for i in range(allows + denies):
                t = start + h * 3600 + (i * 97 + salt) % 3600
                if t > day.now:
                    continue
                if i < allows:
                    out.append((t, 1, Reason.OK))
                else:
                    out.append((t, 0, DENY_REASONS[(h + i + salt) % len(DENY_REASONS)]))
    out.sort()
    return out


def _post(base: str, body: bytes) -> int:
    req = urllib.request.Request(base + "/api/v1/sync", body,
                                 {"Content-Type": "application/cose"})
    with urllib.request.urlopen(req, timeout=60) as r:
        return r.status


def sync_day(base: str, day: Day) -> None:
    """Every unit's records as signed syncs of <= 500 records (door-1a retries one batch)."""
    for unit, priv in day.keys.items():
        recs = records_for(unit, day)
        if unit == "door-3a":
            continue
        area = UNITS[unit]
        counter = 0
        size = 100 if unit == "door-1b" else 500  # door-1b: several syncs, a health trend
        batches = [(i, recs[i:i + size]) for i in range(0, len(recs), size)]
        if unit == "door-1a":
            batches.insert(1, batches[0])  # the same batch again: must not count twice
        for first, batch in batches:
            packed = b"".join(ScanRecord(first + 1 + j, t, dec, int(r), 0, 0,
                                         bytes([area]) * 8, (first + j).to_bytes(8, "big")).pack()
                              for j, (t, dec, r) in enumerate(batch))
            counter += 1
            health = {1: 81000 - first * 3 % 2000, 2: 1_200_000 - first * 40,
                      3: 3 if unit == "door-1b" else 0, 4: 86400 + first, 5: 0}
            req = SyncRequest(unit, counter, os.urandom(16), int(time.time()), first + 1, packed,
                              day.serial[area], "0.9.1", health)
            status = _post(base, make_sync_request(priv, req))
            if status != 200:
                raise RuntimeError(f"sync of {unit} answered {status}")


def make_stale(day: Day, unit: str = "door-1c") -> None:
    """Set-up, not the sync path: the unit's last sync becomes two days old."""
    from sqlalchemy import update

    from gerbang_server import db

    eng = db.make_engine(day.url, day.schema)
    with eng.begin() as conn:
        conn.execute(update(db.devices).where(db.devices.c.id == unit)
                     .values(last_sync_at=day.now - 2 * 86400))
    eng.dispose()
