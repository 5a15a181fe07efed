"""Kept at ingest: per-hour scan counts (``scan_hourly``) and one history row per sync
(``device_syncs``). The sync engine calls :func:`count_new` before it inserts a batch and
:func:`note_sync` when it writes the device row, inside its transaction (the device row is
locked by then, so no other request of this unit interleaves).

Only records not yet stored are counted: a batch that repeats seqs (a retried sync) would
otherwise count twice. The common batch lies wholly above the unit's stored seqs, and the
check is one index range read on ``(device_id, seq)``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, func, insert, select

from .. import db

_COLS = "area_id, hour, device_id, decision, reason, n"
_CONFLICT = ("ON CONFLICT (area_id, hour, device_id, decision, reason) "
             "DO UPDATE SET n = scan_hourly.n + excluded.n")
_SYNC_COLS = "device_id, at, device_time, firmware, trust_serial, acked_seq, health"
# driver-level statements (no SQL compilation per sync: this runs inside the write path)
_SQL = {
    "sqlite": {
        "stored": "SELECT seq FROM scan_records WHERE device_id = ? AND seq >= ? AND seq <= ?",
        "upsert": f"INSERT INTO scan_hourly ({_COLS}) VALUES (?,?,?,?,?,?) {_CONFLICT}",
        "sync": f"INSERT INTO device_syncs ({_SYNC_COLS}) VALUES (?,?,?,?,?,?,?)",
    },
    "postgresql": {
        "stored": "SELECT seq FROM scan_records WHERE device_id = %s AND seq >= %s "
                  "AND seq <= %s",
        "upsert": f"INSERT INTO scan_hourly ({_COLS}) VALUES (%s,%s,%s,%s,%s,%s) {_CONFLICT}",
        "sync": f"INSERT INTO device_syncs ({_SYNC_COLS}) VALUES (%s,%s,%s,%s,%s,%s,%s)",
    },
}


def _sql(conn: Connection, name: str) -> str:
    return _SQL["postgresql" if conn.dialect.name == "postgresql" else "sqlite"][name]


def count_new(conn: Connection, device_id: str, area_id: int,
              rows: Sequence[tuple[Any, ...]]) -> None:
    """Add the rows (seq, time, decision, reason, ...) that are not stored yet to the counts."""
    if not rows:
        return
    seqs = [r[0] for r in rows]
    stored = {s for (s,) in conn.exec_driver_sql(_sql(conn, "stored"),
                                                 (device_id, min(seqs), max(seqs)))}
    counts: Counter[tuple[int, int, int]] = Counter(
        (r[1] - r[1] % 3600, r[2], r[3]) for r in rows if r[0] not in stored)
    if not counts:
        return
    # sorted: concurrent units of one area take the row locks in the same order (no deadlock)
    conn.exec_driver_sql(_sql(conn, "upsert"), [(area_id, h, device_id, dec, r, n)
                                                for (h, dec, r), n in sorted(counts.items())])


def note_sync(conn: Connection, device_id: str, values: dict[str, Any]) -> None:
    """One history row from the values the sync writes to the device row."""
    health = values.get("health")
    if health is not None and not isinstance(health, str):
        health = db.dumps(health)
    conn.exec_driver_sql(_sql(conn, "sync"), (
        device_id, values["last_sync_at"], values.get("last_device_time"),
        values.get("firmware"), values.get("trust_serial"), values.get("acked_seq"), health))


def rebuild(conn: Connection) -> int:
    """Recount ``scan_hourly`` from the raw table (after a bulk load or restore); returns the
    number of count rows."""
    s = db.scan_records.c
    hour = s.time - s.time % 3600
    conn.execute(db.scan_hourly.delete())
    conn.execute(insert(db.scan_hourly).from_select(
        ["area_id", "hour", "device_id", "decision", "reason", "n"],
        select(s.area_id, hour, s.device_id, s.decision, s.reason, func.count())
        .group_by(s.area_id, hour, s.device_id, s.decision, s.reason)))
    return conn.execute(select(func.count()).select_from(db.scan_hourly)).scalar_one()
