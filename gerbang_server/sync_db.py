"""The sync engine's queries (docs/SYNC.md): claim a device's counter, store a batch of scan
records idempotently, move the contiguous watermark (acked_seq) and record gaps.

Everything here runs inside the caller's transaction (``gerbang_server/sync.py``: one transaction per
request), on the tables of ``gerbang_server/db.py`` (``devices``, ``scan_records``). SQLite and
PostgreSQL both take ``INSERT ... ON CONFLICT (device_id, seq) DO NOTHING``; the batch insert is
one driver-level statement (SQLite: ``executemany``; PostgreSQL: one ``INSERT ... SELECT FROM
unnest(arrays)``), the dominant cost of a sync.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, func, select, update

from . import db
from .dashboard import counts

MAX_GAPS = 64  # ranges kept in devices.gaps (admins see them); more are counted, not listed

# A record is 28 bytes of fields and a CRC-32 (docs/PROTOCOL.md §5); the CRC was checked by
# gerbang_protocol.open_sync_request before any row is built.
_RECORD = struct.Struct("<IIBBBB8s8s4x")

_COLUMNS = "device_id, area_id, seq, time, decision, reason, clock, flags, kid, tag, received_at"
_SQLITE_INSERT = (f"INSERT INTO scan_records ({_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?) "
                  "ON CONFLICT (device_id, seq) DO NOTHING")
_PG_INSERT = (
    f"INSERT INTO scan_records ({_COLUMNS}) "
    "SELECT %s, %s, u.s, u.t, u.d, u.r, u.c, u.f, u.k, u.g, %s "
    "FROM unnest(%s::bigint[], %s::bigint[], %s::smallint[], %s::smallint[], %s::smallint[], "
    "%s::smallint[], %s::bytea[], %s::bytea[]) AS u(s, t, d, r, c, f, k, g) "
    "ON CONFLICT (device_id, seq) DO NOTHING"
)


@dataclass
class DeviceState:
    """The device row after the counter was claimed (the row is locked until commit)."""

    id: str
    area_id: int
    acked_seq: int
    max_seq: int
    gaps: list[list[int]]
    config: dict[int, int]
    last_sync_at: int | None


def claim_counter(conn: Connection, device_id: str, counter: int) -> DeviceState | None:
    """Store ``counter`` as the device's last counter if it is higher than the stored one and
    the device is active. This single UPDATE is the replay check and the per-device lock: on
    PostgreSQL it row-locks the device until commit (a concurrent request of the same device
    waits, then re-evaluates ``last_counter < counter`` against the committed row); on SQLite it
    is the transaction's first write, so it takes the database write lock. None: refused."""
    d = db.devices.c
    row = conn.execute(
        update(db.devices)
        .where(d.id == device_id, d.state == "active", d.last_counter < counter)
        .values(last_counter=counter)
        .returning(d.area_id, d.acked_seq, d.max_seq, d.gaps, d.config, d.last_sync_at)
    ).first()
    if row is None:
        return None
    return DeviceState(device_id, row.area_id, row.acked_seq, row.max_seq,
                       row.gaps or [], config_labels(row.config),
                       row.last_sync_at)


# Sync response config map labels (docs/PROTOCOL.md §6); the admin API stores names.
CONFIG_LABELS = {"sync_interval": 1, "relay_ms": 2, "scan_debounce_ms": 3}


def config_labels(config: dict[str, Any] | None) -> dict[int, int]:
    """The device's stored config (names, or label digits) as the response's {label: value}."""
    out: dict[int, int] = {}
    for k, v in (config or {}).items():
        label = CONFIG_LABELS.get(k) or (int(k) if str(k).isdigit() else None)
        if label is not None and type(v) is int and v >= 0:
            out[label] = v
    return out


def record_rows(records: bytes) -> list[tuple[int, int, int, int, int, int, bytes, bytes]]:
    """(seq, time, decision, reason, clock, flags, kid, tag) of every 32-byte record."""
    return list(_RECORD.iter_unpack(records))


def insert_records(conn: Connection, device_id: str, area_id: int, received_at: int,
                   rows: list[tuple[int, int, int, int, int, int, bytes, bytes]]) -> int:
    """Insert the rows, skipping (device_id, seq) already stored; returns how many were new."""
    if not rows:
        return 0
    counts.count_new(conn, device_id, area_id, rows)  # the dashboard's per-hour counts
    if conn.dialect.name == "postgresql":
        cols = list(zip(*rows, strict=True))
        result = conn.exec_driver_sql(_PG_INSERT, (device_id, area_id, received_at,
                                                   *(list(c) for c in cols)))
    else:
        result = conn.exec_driver_sql(
            _SQLITE_INSERT, [(device_id, area_id, *r, received_at) for r in rows])
    return max(result.rowcount, 0)


def _stored_between(conn: Connection, device_id: str, lo: int, hi: int) -> int:
    """How many seqs in lo..hi (inclusive) are stored (an index range count)."""
    s = db.scan_records.c
    return conn.execute(select(func.count()).select_from(db.scan_records)
                        .where(s.device_id == device_id, s.seq >= lo, s.seq <= hi)).scalar_one()


def _islands(conn: Connection, device_id: str, lo: int, hi: int,
             limit: int) -> list[tuple[int, int]]:
    """The runs of consecutive stored seqs within lo..hi, lowest first (at most ``limit``)."""
    s = db.scan_records.c
    inner = (select(s.seq, (s.seq - func.row_number().over(order_by=s.seq)).label("grp"))
             .where(s.device_id == device_id, s.seq >= lo, s.seq <= hi).subquery())
    q = (select(func.min(inner.c.seq), func.max(inner.c.seq)).group_by(inner.c.grp)
         .order_by(func.min(inner.c.seq)).limit(limit))
    return [(a, b) for a, b in conn.execute(q)]


def advance(conn: Connection, device_id: str, acked: int, max_seq: int, first: int,
            last: int) -> tuple[int, int, list[list[int]] | None]:
    """New (acked_seq, max_seq, gaps) after records first..last were stored.

    acked_seq is the contiguous watermark: every seq 1..acked_seq is stored. It moves only
    when this batch covers acked+1; then it runs to the batch end, and further over records
    that arrived earlier above a gap (checked by a count bounded to the range above the
    batch, never a scan of the device's whole history). gaps (missing ranges between acked
    and max_seq) are recomputed only when records sit above the watermark; None = unchanged."""
    new_max = max(max_seq, last)
    new_acked = acked
    if first <= acked + 1 <= last:
        new_acked = last
    if new_max == new_acked:
        return new_acked, new_max, ([] if max_seq > acked else None)
    # Records above the watermark: a gap exists (or this batch just closed one).
    if new_acked > acked and _stored_between(conn, device_id, new_acked + 1,
                                             new_max) == new_max - new_acked:
        return new_max, new_max, []
    islands = _islands(conn, device_id, new_acked + 1, new_max, MAX_GAPS + 2)
    if islands and islands[0][0] == new_acked + 1:
        new_acked = islands.pop(0)[1]
    gaps: list[list[int]] = []
    prev = new_acked
    for a, b in islands:
        gaps.append([prev + 1, a - 1])
        prev = b
    return new_acked, new_max, gaps[:MAX_GAPS]


def finish(conn: Connection, device_id: str, **values: Any) -> None:
    """Write the sync's results to the device row (still locked by claim_counter)."""
    db.update_device(conn, device_id, **values)
    counts.note_sync(conn, device_id, values)  # the dashboard's sync history


def newer_bundle(conn: Connection, area_id: int, held: int) -> bytes | None:
    """The area's current trust bundle when its serial is above ``held`` (the serial the
    device holds), else None; the bundle bytes are read only when they are sent."""
    t = db.trustlists.c
    row = conn.execute(select(t.id, t.serial).where(t.area_id == area_id)
                       .order_by(t.serial.desc()).limit(1)).first()
    if row is None or row.serial <= held:
        return None
    return bytes(conn.execute(select(t.bundle).where(t.id == row.id)).scalar_one())


def refusal(conn: Connection, device_id: str) -> dict[str, Any] | None:
    """Why claim_counter refused: the device row as it is now (None: it no longer exists)."""
    d = db.devices.c
    row = conn.execute(select(d.state, d.last_counter).where(d.id == device_id)).first()
    return None if row is None else {"state": row.state, "last_counter": row.last_counter}
