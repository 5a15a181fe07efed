"""Two ``flask --app gerbang_server run-jobs`` at the same moment (cron on two servers sharing
one database) rotate and re-sign once: each waits for the job lease (PostgreSQL advisory
lock, SQLite flock), so the second pass finds nothing due. Real processes, real database."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, text

from .conftest import KEK_HEX, import_signer

ROOT = Path(__file__).resolve().parents[2]


def _start(database: tuple[str, str | None], app_name: str) -> subprocess.Popen:
    url, schema = database
    env = {**os.environ, "DATABASE_URL": url, "GERBANG_KEK": KEK_HEX,
           "GERBANG_AUTO_MIGRATE": "0", "GERBANG_JOBS_IN_PROCESS": "0",
           "PGAPPNAME": app_name, "PYTHONPATH": str(ROOT)}
    env.pop("GERBANG_DB_SCHEMA", None)
    if schema:
        env["GERBANG_DB_SCHEMA"] = schema
    return subprocess.Popen([sys.executable, "-m", "flask", "--app", "gerbang_server",
                             "run-jobs"], env=env, cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def _waiting(app: Any, app_name: str, lease_file: str | None) -> int:
    """How many processes are blocked on the job lease right now."""
    if lease_file is None:  # PostgreSQL: sessions of our processes waiting on an advisory lock
        eng = app.extensions["gerbang_engine"]
        with eng.connect() as conn:
            return conn.execute(text(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = :n "
                "AND wait_event_type = 'Lock' AND wait_event = 'advisory'"),
                {"n": app_name}).scalar_one()
    ino = os.stat(lease_file).st_ino
    # /proc/locks: a blocked request is listed as "N: -> FLOCK ADVISORY WRITE pid maj:min:ino"
    lines = Path("/proc/locks").read_text().splitlines()
    return sum(1 for line in lines if " -> FLOCK " in line
               and line.split()[6].rsplit(":", 1)[1] == str(ino))


def _counts(app: Any) -> tuple[dict[int, int], dict[int, int]]:
    from gerbang_server import db

    with app.app_context(), db.begin() as conn:
        k = dict(conn.execute(select(db.issuer_keys.c.area_id, func.count())
                              .group_by(db.issuer_keys.c.area_id)).all())
        t = dict(conn.execute(select(db.trustlists.c.area_id, func.count())
                              .group_by(db.trustlists.c.area_id)).all())
    return k, t


def test_two_run_jobs_at_once_rotate_and_sign_once(app, database, pki):
    from gerbang_server import db, jobs

    import_signer(app, pki)
    app_name = "gbjobs-" + uuid.uuid4().hex[:12]
    lease_file = None
    if app.extensions["gerbang_engine"].dialect.name == "sqlite":
        lease_file = app.extensions["gerbang_engine"].url.database + ".jobs"
    procs: list[subprocess.Popen] = []
    try:
        # The test holds the lease while both start: both must wait for it, then take turns.
        with app.app_context(), jobs.job_lease(wait=True) as held:
            assert held
            procs = [_start(database, app_name) for _ in range(2)]
            deadline = time.monotonic() + 120
            while _waiting(app, app_name, lease_file) < 2:
                assert all(p.poll() is None for p in procs), [p.communicate() for p in procs]
                assert time.monotonic() < deadline, "the run-jobs processes never waited"
                time.sleep(0.2)
            assert _counts(app) == ({}, {})  # nothing done while the lease is held
        outs = [p.communicate(timeout=300) for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    assert [p.returncode for p in procs] == [0, 0], outs
    keys_per_area, lists_per_area = _counts(app)
    assert keys_per_area == {a: 1 for a in range(1, 19)}
    assert lists_per_area == {a: 1 for a in range(1, 19)}
    signed = [out.count("trust list serial 1 ") for out, _ in outs]
    assert sorted(signed) == [0, 18], outs  # one pass did it all, the other found nothing due
    with app.app_context(), db.begin() as conn:
        runs = [e for e in db.list_audit(conn, 0, 1000) if e["action"] == "jobs.run"]
    assert sorted(e["details"]["signed"] for e in runs) == [0, 18]
