"""What the pages read. Counts of scans come from ``scan_hourly`` (kept at ingest, see
counts.py); the log page and its CSV read ``scan_records`` through its (area_id, time) and
(time) indexes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask import current_app
from sqlalchemy import Connection, Select, func, select

from .. import db, keys
from .accounts import User

HOUR = 3600
DAY = 86400


def visible_areas(conn: Connection, user: User) -> list[dict[str, Any]]:
    return [a for a in db.list_areas(conn) if user.may_see(a["id"])]


def as_obj(value: Any, default: Any = None) -> Any:
    """A JSON field as an object, whether the column holds JSON text or is a JSON type."""
    if value is None:
        return default
    return db.loads(value) if isinstance(value, str | bytes) else value


def health_of(device: dict[str, Any]) -> dict[str, int | None]:
    """The unit's last health map by name (PROTOCOL.md §6: labels 1-5)."""
    h = {str(k): v for k, v in (as_obj(device.get("health"), {}) or {}).items()}
    return {"free_heap": h.get("1"), "free_flash": h.get("2"), "dropped": h.get("3"),
            "uptime": h.get("4"), "clock": h.get("5")}


@dataclass
class UnitState:
    row: dict[str, Any]
    health: dict[str, int | None]
    stale: bool
    age: int | None  # seconds since the last sync; None: never synced

    @property
    def id(self) -> str:
        return self.row["id"]


def unit_state(d: dict[str, Any], now: int) -> UnitState:
    stale_after = current_app.config["GERBANG_FLEET_STALE_AFTER"]
    last = d["last_sync_at"]
    age = None if last is None else now - last
    return UnitState(d, health_of(d), age is None or age >= stale_after, age)


@dataclass
class KeyState:
    current: dict[str, Any] | None
    age: int | None
    next_rotation: int | None  # unix time
    overdue: bool
    windows: list[keys.KeyWindow] = field(default_factory=list)


def key_state(conn: Connection, area_id: int, now: int) -> KeyState:
    """The area's key state with its acceptance windows (area page, keys page)."""
    wins = keys.windows(conn, area_id, now)
    current = next((w.row for w in wins if w.state == "current"), None)
    pending = [w.row for w in wins if w.state == "pending"]
    return _key_state(current, pending, now, wins)


def key_states(conn: Connection, now: int) -> dict[int, KeyState]:
    """Every area's key state from one read of the key table (the overview; no windows):
    the same current key as issuing uses (keys.current_key_row) and the waiting successors."""
    by_area: dict[int, list[dict[str, Any]]] = {}
    k = db.issuer_keys.c
    for r in conn.execute(select(db.issuer_keys).order_by(k.activates_at, k.id)):
        by_area.setdefault(r.area_id, []).append(dict(r._mapping))
    out = {}
    for area_id, rows in by_area.items():
        pending = [r for r in rows if r["activates_at"] > now and r["revoked_at"] is None]
        out[area_id] = _key_state(keys.current_key_row(rows, now), pending, now, [])
    return out


def _key_state(current: dict[str, Any] | None, pending: list[dict[str, Any]], now: int,
               wins: list[keys.KeyWindow]) -> KeyState:
    period = current_app.config["GERBANG_KEY_ROTATION_PERIOD"]
    if current is None:
        return KeyState(None, None, pending[0]["activates_at"] if pending else None, True, wins)
    due = current["activates_at"] + period
    nxt = pending[0]["activates_at"] if pending else due
    return KeyState(current, now - current["activates_at"], nxt, not pending and now > due, wins)


@dataclass
class AreaSummary:
    area: dict[str, Any]
    units: list[UnitState]
    trust_serial: int | None
    trust_expires: int | None
    keys: KeyState
    allow: int = 0
    deny: int = 0

    @property
    def fresh(self) -> int:
        return sum(1 for u in self.units if not u.stale)

    @property
    def stale(self) -> int:
        return sum(1 for u in self.units if u.stale)


@dataclass
class Action:
    kind: str  # stale | never | list_expiring | no_list | key_overdue | dropping | clock
    area: dict[str, Any]
    unit: str | None = None
    value: int | None = None


def day_counts_by_area(conn: Connection, since: int, until: int,
                       area_ids: list[int]) -> dict[int, tuple[int, int]]:
    """{area: (allows, denies)} of scans with time in [since, until) (whole hours)."""
    h = db.scan_hourly.c
    q = (select(h.area_id, h.decision, func.sum(h.n)).where(h.hour >= since, h.hour < until)
         .group_by(h.area_id, h.decision))
    out: dict[int, list[int]] = {a: [0, 0] for a in area_ids}
    for area_id, decision, n in conn.execute(q):
        if area_id in out:
            out[area_id][0 if decision == 1 else 1] += int(n)
    return {a: (v[0], v[1]) for a, v in out.items()}


def overview(conn: Connection, user: User, now: int, day0: int) -> tuple[list[AreaSummary],
                                                                            list[Action]]:
    warn = current_app.config["GERBANG_FLEET_WARN_BEFORE"]
    areas = visible_areas(conn, user)
    ids = [a["id"] for a in areas]
    devices: dict[int, list[UnitState]] = {a: [] for a in ids}
    for d in db.list_devices(conn, state="active"):
        if d["area_id"] in devices:
            devices[d["area_id"]].append(unit_state(d, now))
    counts = day_counts_by_area(conn, day0, day0 + DAY, ids)
    lists = _latest_lists(conn)
    states = key_states(conn, now)
    no_key = KeyState(None, None, None, True)
    out, actions = [], []
    for a in areas:
        tl = lists.get(a["id"])
        ks = states.get(a["id"], no_key)
        s = AreaSummary(a, devices[a["id"]], tl and tl[0], tl and tl[1], ks, *counts[a["id"]])
        out.append(s)
        for u in s.units:
            if u.age is None:
                actions.append(Action("never", a, u.id))
            elif u.stale:
                actions.append(Action("stale", a, u.id, u.age))
            if (u.health["dropped"] or 0) > 0:
                actions.append(Action("dropping", a, u.id, u.health["dropped"]))
            if u.health["clock"] == 2:
                actions.append(Action("clock", a, u.id))
        if tl is None:
            actions.append(Action("no_list", a))
        elif tl[1] - now < warn:
            actions.append(Action("list_expiring", a, None, tl[1] - now))
        if ks.overdue:
            actions.append(Action("key_overdue", a))
    return out, actions


def _latest_lists(conn: Connection) -> dict[int, tuple[int, int]]:
    """{area: (serial, expires)} of every area's current (highest serial) trust list."""
    t = db.trustlists.c
    top = (select(t.area_id, func.max(t.serial).label("serial")).group_by(t.area_id)
           .subquery())
    q = select(t.area_id, t.serial, t.expires).join(
        top, (top.c.area_id == t.area_id) & (top.c.serial == t.serial))
    return {r.area_id: (r.serial, r.expires) for r in conn.execute(q)}


def area_units(conn: Connection, area_id: int, now: int) -> list[UnitState]:
    return [unit_state(d, now) for d in db.list_devices(conn, area_id=area_id)]


@dataclass
class DayChart:
    hours: list[tuple[int, int]]  # 24 x (allows, denies), hour 0 = 00:00 WIB
    reasons: list[tuple[int, int]]  # (reason code, denies), most first

    @property
    def allow(self) -> int:
        return sum(a for a, _ in self.hours)

    @property
    def deny(self) -> int:
        return sum(d for _, d in self.hours)


def day_chart(conn: Connection, area_id: int, day0: int) -> DayChart:
    h = db.scan_hourly.c
    where = (h.area_id == area_id, h.hour >= day0, h.hour < day0 + DAY)
    hours = [[0, 0] for _ in range(24)]
    for hour, decision, n in conn.execute(select(h.hour, h.decision, func.sum(h.n))
                                          .where(*where).group_by(h.hour, h.decision)):
        hours[(hour - day0) // HOUR][0 if decision == 1 else 1] += int(n)
    reasons = [(int(r), int(n)) for r, n in conn.execute(
        select(h.reason, func.sum(h.n)).where(*where, h.decision != 1)
        .group_by(h.reason).order_by(func.sum(h.n).desc(), h.reason))]
    return DayChart([(a, d) for a, d in hours], reasons)


def raw_day_chart(conn: Connection, area_id: int, day0: int) -> DayChart:
    """The same figures by a plain GROUP BY over scan_records (the bench's baseline; the
    tests' check of the counts)."""
    s = db.scan_records.c
    where = (s.area_id == area_id, s.time >= day0, s.time < day0 + DAY)
    hour = (s.time - day0) // HOUR
    hours = [[0, 0] for _ in range(24)]
    for hr, decision, n in conn.execute(select(hour, s.decision, func.count())
                                        .where(*where).group_by(hour, s.decision)):
        hours[int(hr)][0 if decision == 1 else 1] += int(n)
    reasons = [(int(r), int(n)) for r, n in conn.execute(
        select(s.reason, func.count()).where(*where, s.decision != 1)
        .group_by(s.reason).order_by(func.count().desc(), s.reason))]
    return DayChart([(a, d) for a, d in hours], reasons)


def unit_history(conn: Connection, device_id: str, limit: int = 200) -> list[dict[str, Any]]:
    s = db.device_syncs.c
    rows = conn.execute(select(db.device_syncs).where(s.device_id == device_id)
                        .order_by(s.at.desc(), s.id.desc()).limit(limit))
    out = []
    for r in rows:
        d = dict(r._mapping)
        d["h"] = health_of(d)
        out.append(d)
    return out


def recent_audit(conn: Connection, limit: int = 50) -> list[dict[str, Any]]:
    a = db.audit_log.c
    rows = conn.execute(select(db.audit_log).order_by(a.id.desc()).limit(limit))
    out = []
    for r in rows:
        d = dict(r._mapping)
        d["details"] = as_obj(d["details"])
        out.append(d)
    return out


# --- logs ------------------------------------------------------------------------------------

@dataclass
class LogFilter:
    areas: list[int]  # the areas searched (a PIC: theirs; an area filter: that one)
    unit: str | None = None
    since: int | None = None
    until: int | None = None
    decision: int | None = None
    reason: int | None = None

    def where(self) -> list[Any]:
        s = db.scan_records.c
        w: list[Any] = [s.area_id.in_(self.areas)] if self.areas else [s.id < 0]
        if self.unit:
            w.append(s.device_id == self.unit)
        if self.since is not None:
            w.append(s.time >= self.since)
        if self.until is not None:
            w.append(s.time < self.until)
        if self.decision is not None:
            w.append(s.decision == self.decision)
        if self.reason is not None:
            w.append(s.reason == self.reason)
        return w


def log_select(f: LogFilter) -> Select:
    s = db.scan_records.c
    return select(db.scan_records).where(*f.where()).order_by(s.time.desc(), s.id.desc())


def log_count(conn: Connection, f: LogFilter) -> int:
    return conn.execute(select(func.count()).select_from(db.scan_records)
                        .where(*f.where())).scalar_one()


def log_page(conn: Connection, f: LogFilter, page: int, size: int) -> list[dict[str, Any]]:
    q = log_select(f).limit(size).offset((page - 1) * size)
    return [dict(r._mapping) for r in conn.execute(q)]
