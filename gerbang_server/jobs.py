"""The periodic job: due key rotations, then trust-list re-signing, for every area — and the
server's own timer that runs it, so lists never lapse while the server runs (docs/SERVER.md
"Jobs").

The timer is on by default (``GERBANG_JOBS_IN_PROCESS``; off for a ``TESTING`` app unless asked
for): every process of the server (each gunicorn worker, on every machine) runs one, every
``GERBANG_JOBS_INTERVAL`` seconds, and a pass first takes the job lease, so only one process at a
time does the work and the others skip that round: on PostgreSQL a session advisory lock (held
across machines sharing the database), on SQLite an exclusive ``flock`` on ``<db file>.jobs``
(one machine holds a SQLite file). Cron (``flask --app gerbang_server run-jobs``) still works
beside it. A pass is idempotent either way (area rows are locked while a key is
made or a list is signed), so a lost lease costs nothing but a skipped round.

Every pass also looks ahead: a list that would lapse within ``lapse_window`` (the re-sign point
minus a day: a working job never gets there) or a signer key certificate that ends within 30
days is a *lapse warning* — logged at WARNING by the pass, and in ``GET /api/v1/admin/fleet``
(``lapse_warnings``) for the CLI and the dashboard.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import threading
import zlib
from collections.abc import Iterator
from typing import Any

from flask import Flask, current_app
from sqlalchemy import Connection, select, text

from . import db, keys, trustlists
from .config import DAY, now
from .errors import ApiError

log = logging.getLogger("gerbang.jobs")

LEASE_KEY = 0x6762_6A6F  # "gbjo": the advisory-lock id of the job lease (PostgreSQL; + schema)
SIGNER_WARN_BEFORE = 30 * DAY  # a new signer needs the offline root: give a month's notice


def run_jobs(t: int | None = None) -> dict[str, Any]:
    """One pass (inside an app context). Returns what was done, per area, and the warnings."""
    t = now() if t is None else t
    report: dict[str, Any] = {"now": t, "rotations": [], "signed": [], "errors": []}
    with db.begin() as conn:
        area_ids = [a["id"] for a in db.list_areas(conn)]
    rotated = set(area_ids)
    for area_id in area_ids:  # every rotation first: each list names the others' kids
        try:
            with db.begin() as conn:
                conn.execute(select(db.areas.c.id).where(db.areas.c.id == area_id)
                             .with_for_update())
                report["rotations"] += keys.rotate_due(conn, area_id, t)
        except ApiError as e:
            report["errors"].append(f"area {area_id}: rotation: {e.message}")
            rotated.discard(area_id)
    for area_id in area_ids:
        if area_id not in rotated:
            continue
        try:
            with db.begin() as conn:
                before = db.latest_trustlist(conn, area_id)
            row = trustlists.refresh(area_id, t=t)
            if before is None or row["serial"] != before["serial"]:
                report["signed"].append({"area": area_id, "serial": row["serial"],
                                         "expires": row["expires"]})
        except ApiError as e:
            report["errors"].append(f"area {area_id}: trust list: {e.message}")
    with db.begin() as conn:
        report["warnings"] = lapse_warnings(conn, t)
    return report


def lapse_window() -> int:
    """Warn when a list has less than this left: a day past the point where the job re-signs."""
    cfg = current_app.config
    return max(cfg["GERBANG_FLEET_WARN_BEFORE"], cfg["GERBANG_TRUSTLIST_RESIGN_BEFORE"] - DAY)


def lapse_warnings(conn: Connection, t: int) -> list[dict[str, Any]]:
    """What would lapse soon: lists of areas in use (devices or keys) and the signer's key
    certificate. Each: kind, area (or None), expires, seconds left, a message for people."""
    out: list[dict[str, Any]] = []
    window = lapse_window()
    used = {d["area_id"] for d in db.list_devices(conn, state="active")}
    for a in db.list_areas(conn):
        tl = db.latest_trustlist(conn, a["id"])
        if tl is None:
            if a["id"] in used:
                out.append({"kind": "trustlist", "area": a["id"], "expires": None, "left": None,
                            "message": f"area {a['id']} has doors but no trust list: "
                                       "every door there denies everyone (NO_TRUST)"})
            continue
        left = tl["expires"] - t
        if left < window:
            state = "has lapsed" if left <= 0 else f"lapses in {left / DAY:.1f} days"
            out.append({"kind": "trustlist", "area": a["id"], "expires": tl["expires"],
                        "left": left,
                        "message": f"area {a['id']} trust list (serial {tl['serial']}) {state}; "
                                   "its doors then deny everyone (NO_TRUST): is the job "
                                   "running and the signer valid?"})
    s = db.current_signer(conn, t)
    if s is None:
        out.append({"kind": "signer", "area": None, "expires": None, "left": None,
                    "message": "no valid trust-list signer: no list can be signed "
                               "(certify one with the offline root and import-keycert)"})
    elif s["not_after"] - t < SIGNER_WARN_BEFORE:
        left = s["not_after"] - t
        out.append({"kind": "signer", "area": None, "expires": s["not_after"], "left": left,
                    "message": f"the signer's key certificate ends in {left / DAY:.1f} days; "
                               "every list ends with it: certify a new signer with the offline "
                               "root (gerbang keys certify-signer) and import it"})
    return out


@contextlib.contextmanager
def job_lease(wait: bool = False) -> Iterator[bool]:
    """Yields True when this process holds the job lease (run the pass), False when another
    process does (skip this round). With ``wait`` (``flask run-jobs``: cron on two machines
    at the same minute) it waits for the lease instead and always yields True: the second
    pass then finds nothing due. Released on exit."""
    eng = db.engine()
    if eng.dialect.name == "postgresql":
        # one lease per schema: deployments (or test runs) in other schemas never block this one
        key = LEASE_KEY << 32 | zlib.crc32((current_app.config["GERBANG_DB_SCHEMA"] or "").encode())
        with eng.connect() as conn:
            if wait:
                conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": key})
                got = True
            else:
                got = bool(conn.execute(text("SELECT pg_try_advisory_lock(:k)"),
                                        {"k": key}).scalar())
            conn.commit()
            try:
                yield got
            finally:
                if got:
                    conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
                    conn.commit()
        return
    path = eng.url.database
    if eng.dialect.name != "sqlite" or not path or path == ":memory:":
        yield True  # one process owns an in-memory database
        return
    with open(path + ".jobs", "a") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


class JobTimer:
    """Runs ``run_jobs`` under the lease every ``interval`` seconds on a daemon thread."""

    def __init__(self, app: Flask, interval: float) -> None:
        self.app = app
        self.interval = interval
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=self._loop, name="gerbang-jobs", daemon=True)
        self.runs = 0  # rounds (passes run or skipped)
        self.passes = 0  # passes this process ran (it held the lease)
        self.last: dict[str, Any] | None = None
        self._started = threading.Lock()

    def start(self) -> JobTimer:
        with self._started:
            if not self.thread.is_alive() and not self.stop_event.is_set():
                self.thread.start()
        return self

    def start_once(self) -> None:
        """A before_request hook (``flask run``): the first request starts the timer."""
        if not self.thread.is_alive():
            self.start()

    def stop(self) -> None:
        self.stop_event.set()
        if self.thread.is_alive():
            self.thread.join(timeout=10)

    def tick(self) -> dict[str, Any] | None:
        """One round: the pass if this process gets the lease. -> its report, or None."""
        with self.app.app_context(), job_lease() as mine:
            if not mine:
                return None
            report = run_jobs()
            self.passes += 1
            self.last = report
        for err in report["errors"]:
            log.warning("%s", err)
        for w in report["warnings"]:
            log.warning("lapse warning: %s", w["message"])
        return report

    def _loop(self) -> None:
        while not self.stop_event.is_set():
            try:
                self.tick()
            except Exception:  # keep the timer alive; the next round retries
                log.exception("job pass failed")
            self.runs += 1
            self.stop_event.wait(self.interval)


def start_in_process(app: Flask, wanted: bool) -> None:
    """The app factory's hook: the server keeps its own lists and keys current. Under the
    ``flask`` CLI only ``flask run`` serves requests: the first one starts the timer there, so
    one-shot commands (db-upgrade, run-jobs, ...) never run it."""
    if not wanted:
        return
    timer = JobTimer(app, app.config["GERBANG_JOBS_INTERVAL"])
    app.extensions["gerbang_jobs"] = timer
    if os.environ.get("FLASK_RUN_FROM_CLI") == "true":
        app.before_request(timer.start_once)
    else:
        timer.start()
