"""The periodic job: due key rotations, then trust-list re-signing, for every area.

Run it from cron (``flask --app gerbang_server run-jobs``) or in-process (``GERBANG_JOBS_IN_PROCESS``
= true: a daemon thread every ``GERBANG_JOBS_INTERVAL`` seconds). Both are safe to run in
several processes at once (area rows are locked while a key is made or a list is signed).
As long as it runs more often than ``RESIGN_BEFORE`` (7 days), no list reaches its expiry.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from flask import Flask
from sqlalchemy import select

from . import db, keys, trustlists
from .config import now
from .errors import ApiError

log = logging.getLogger("gerbang.jobs")


def run_jobs(t: int | None = None) -> dict[str, Any]:
    """One pass (inside an app context). Returns what was done, per area."""
    t = now() if t is None else t
    report: dict[str, Any] = {"now": t, "rotations": [], "signed": [], "errors": []}
    with db.begin() as conn:
        area_ids = [a["id"] for a in db.list_areas(conn)]
    for area_id in area_ids:
        try:
            with db.begin() as conn:
                conn.execute(select(db.areas.c.id).where(db.areas.c.id == area_id)
                             .with_for_update())
                report["rotations"] += keys.rotate_due(conn, area_id, t)
        except ApiError as e:
            report["errors"].append(f"area {area_id}: rotation: {e.message}")
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
    return report


class JobTimer:
    """Runs ``run_jobs`` every ``interval`` seconds on a daemon thread."""

    def __init__(self, app: Flask, interval: float) -> None:
        self.app = app
        self.interval = interval
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=self._loop, name="gerbang-jobs", daemon=True)
        self.runs = 0

    def start(self) -> JobTimer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.stop_event.set()
        self.thread.join(timeout=10)

    def _loop(self) -> None:
        while not self.stop_event.is_set():
            try:
                with self.app.app_context():
                    report = run_jobs()
                for err in report["errors"]:
                    log.warning("%s", err)
            except Exception:  # keep the timer alive; the next pass retries
                log.exception("job pass failed")
            self.runs += 1
            self.stop_event.wait(self.interval)
