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

from sqlalchemy import Connection, func, insert, select, text

from .. import db

_UPSERT = ("INSERT INTO scan_hourly (area_id, hour, device_id, decision, reason, n) "
           "VALUES (:a, :h, :d, :dec, :r, :n) "
           "ON CONFLICT (area_id, hour, device_id, decision, reason) "
           "DO UPDATE SET n = scan_hourly.n + excluded.n")


def count_new(conn: Connection, device_id: str, area_id: int,
              rows: Sequence[tuple[Any, ...]]) -> None:
    """Add the rows (seq, time, decision, reason, ...) that are not stored yet to the counts."""
    if not rows:
        return
    s = db.scan_records.c
    seqs = [r[0] for r in rows]
    stored = set(conn.execute(select(s.seq).where(
        s.device_id == device_id, s.seq >= min(seqs), s.seq <= max(seqs))).scalars())
    counts: Counter[tuple[int, int, int]] = Counter(
        (r[1] - r[1] % 3600, r[2], r[3]) for r in rows if r[0] not in stored)
    if not counts:
        return
    # sorted: concurrent units of one area take the row locks in the same order (no deadlock)
    conn.execute(text(_UPSERT), [{"a": area_id, "h": h, "d": device_id, "dec": dec, "r": r,
                                  "n": n} for (h, dec, r), n in sorted(counts.items())])


def note_sync(conn: Connection, device_id: str, values: dict[str, Any]) -> None:
    """One history row from the values the sync writes to the device row."""
    health = values.get("health")
    conn.execute(insert(db.device_syncs).values(
        device_id=device_id, at=values["last_sync_at"], device_time=values.get("last_device_time"),
        firmware=values.get("firmware"), trust_serial=values.get("trust_serial"),
        acked_seq=values.get("acked_seq"),
        health=health))


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
