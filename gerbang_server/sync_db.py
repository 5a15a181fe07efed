"""The sync engine's queries (docs/SYNC.md): claim a device's counter, store a batch of scan
records idempotently, move the contiguous watermark (acked_seq) and record gaps.

Everything here runs inside the caller's transaction (``gerbang_server/sync.py``: one
transaction per request), on the tables of ``gerbang_server/db.py`` (``devices``,
``scan_records``). SQLite and PostgreSQL both take the dialect's ``insert().on_conflict_do_nothing()`` on (device_id, seq);
the batch insert is one statement (SQLite: the driver's ``executemany``; PostgreSQL: one
``INSERT ... SELECT FROM unnest(arrays)``), the dominant cost of a sync. The record layout
is gerbang_protocol/record.py's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    BigInteger,
    Connection,
    LargeBinary,
    SmallInteger,
    bindparam,
    func,
    literal,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from gerbang_protocol import BundleRef, device_config
from gerbang_protocol.record import record_fields

from . import db
from .dashboard import counts

MAX_GAPS = 64  # ranges kept in devices.gaps (admins see them); more are counted, not listed

_FIELDS = ("seq", "time", "decision", "reason", "clock", "flags", "kid", "tag")
_ARRAY_TYPES = (BigInteger, BigInteger, SmallInteger, SmallInteger, SmallInteger, SmallInteger,
                LargeBinary, LargeBinary)


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


def config_labels(config: dict[str, Any] | None) -> dict[int, int]:
    """The device's stored config (names) as the response's {label: value}: only what the door
    applies (gerbang_protocol.device_config)."""
    return device_config.labels(config)


def record_rows(records: bytes) -> list[tuple[int, int, int, int, int, int, bytes, bytes]]:
    """(seq, time, decision, reason, clock, flags, kid, tag) of every 32-byte record (the CRC
    was checked by gerbang_protocol.open_sync_request before any row is built)."""
    return record_fields(records)


def insert_records(conn: Connection, device_id: str, area_id: int, received_at: int,
                   rows: list[tuple[int, int, int, int, int, int, bytes, bytes]]) -> int:
    """Insert the rows, skipping (device_id, seq) already stored; returns how many were new."""
    if not rows:
        return 0
    counts.count_new(conn, device_id, area_id, rows)  # the dashboard's per-hour counts
    if conn.dialect.name == "postgresql":
        return max(conn.execute(_pg_insert(device_id, area_id, received_at, rows)).rowcount, 0)
    result = conn.exec_driver_sql(_sqlite_insert_sql(conn),
                                  [(device_id, area_id, *r, received_at) for r in rows])
    return max(result.rowcount, 0)


_INSERT_COLUMNS = ["device_id", "area_id", *_FIELDS, "received_at"]
_sqlite_sql: list[str] = []


def _sqlite_insert_sql(conn: Connection) -> str:
    """SQLite's ``insert().on_conflict_do_nothing()`` compiled once; the rows go to the
    driver's executemany as tuples. Passing them through ``conn.execute(stmt, [dicts])``
    halves the ingest: `make bench` server part, SQLite, 21,169 records/s (ratio 23.7%,
    FAIL) against 41,915 (52.5%) with the driver-level executemany."""
    if not _sqlite_sql:
        compiled = (sqlite_insert(db.scan_records)
                    .on_conflict_do_nothing(index_elements=["device_id", "seq"])
                    .compile(dialect=conn.dialect, column_keys=_INSERT_COLUMNS))
        if list(compiled.positiontup or ()) != _INSERT_COLUMNS:
            raise RuntimeError(f"unexpected parameter order {compiled.positiontup}")
        _sqlite_sql.append(str(compiled))
    return _sqlite_sql[0]


def _pg_insert(device_id: str, area_id: int, received_at: int,
               rows: list[tuple[int, int, int, int, int, int, bytes, bytes]]) -> Any:
    """One ``INSERT ... SELECT FROM unnest(arrays) ON CONFLICT DO NOTHING``: a column array
    per field instead of a parameter set per row (executemany is 2.5x slower here)."""
    arrays = [bindparam(name, list(col), type_=ARRAY(t))
              for name, col, t in zip(_FIELDS, zip(*rows, strict=True), _ARRAY_TYPES, strict=True)]
    u = func.unnest(*arrays).table_valued(*_FIELDS).render_derived(name="u")
    sel = select(literal(device_id), literal(area_id), *(u.c[f] for f in _FIELDS),
                 literal(received_at))
    return (pg_insert(db.scan_records)
            .from_select(["device_id", "area_id", *_FIELDS, "received_at"], sel)
            .on_conflict_do_nothing(index_elements=["device_id", "seq"]))


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


def newer_bundle(conn: Connection, area_id: int, held: int) -> BundleRef | None:
    """A reference to the area's current trust bundle (serial, size, SHA-256) when its serial
    is above ``held`` (the serial the device holds), else None: the door fetches the bundle
    itself (GET .../trustlist?serial=N); the bytes are read only when it is due."""
    t = db.trustlists.c
    row = conn.execute(select(t.id, t.serial).where(t.area_id == area_id)
                       .order_by(t.serial.desc()).limit(1)).first()
    if row is None or row.serial <= held:
        return None
    return BundleRef.of(row.serial,
                        bytes(conn.execute(select(t.bundle).where(t.id == row.id)).scalar_one()))


def refusal(conn: Connection, device_id: str) -> dict[str, Any] | None:
    """Why claim_counter refused: the device row as it is now (None: it no longer exists)."""
    d = db.devices.c
    row = conn.execute(select(d.state, d.last_counter).where(d.id == device_id)).first()
    return None if row is None else {"state": row.state, "last_counter": row.last_counter}
