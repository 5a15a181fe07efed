"""Dashboard benchmark (`make bench`, part `dashboard`): PostgreSQL only.

About a year of 60 doors: 5,000,000 scan records loaded with COPY (not row by row) into a
fresh schema, the per-hour counts built from them once (``counts.rebuild``, what the
migration does for records stored before it; the sync engine keeps them from then on).
Measured over real HTTP to gunicorn (2 workers), logged in as an admin: the overview (18
areas, today's counts) and an area's day chart page, p50/p95 over repeated requests. Beside
them, same run, same data: the same figures by a plain GROUP BY over the raw scan table
(SQL only, no page around it). Target: p95 <= 150 ms for both pages.
"""

from __future__ import annotations

import http.client
import os
import random
import re
import secrets
import statistics
import time
import urllib.parse
import uuid
from typing import Any

from gerbang_dev.bench.server import KEK_HEX, PG_ENV, serve

RECORDS = int(os.environ.get("GERBANG_BENCH_DASHBOARD_RECORDS", 5_000_000))  # fewer: a quick try
DOORS = 60
DAYS = 365
TARGET_P95_MS = 150.0
REQUESTS = 60
WIB_OFFSET = 7 * 3600
_DENY = [11, 12, 13, 8, 15, 16, 6, 19]  # EXPIRED WRONG_AREA REVOKED SIGNATURE CATEGORY ...


def _pct(xs: list[float], p: float) -> float:
    s = sorted(xs)
    return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))]


def _provision(url: str, schema: str, now: int) -> list[tuple[str, int]]:
    from gerbang_protocol import (
        KeyCertificate,
        kid_of,
        make_keycert,
        new_private_key,
        public_key_bytes,
    )
    from gerbang_server import create_app, db, keys, trustlists

    app = create_app({"DATABASE_URL": url, "GERBANG_DB_SCHEMA": schema, "GERBANG_KEK": KEK_HEX,
                      "GERBANG_AUTO_MIGRATE": True, "SECRET_KEY": "bench"})
    doors = []
    try:
        with app.app_context():
            root, signer = new_private_key(), new_private_key()
            kc = make_keycert(root, KeyCertificate(1, public_key_bytes(signer), now - 86400,
                                                   now + 365 * 86400))
            with db.begin() as conn:
                keys.import_signer(conn, signer, kc, now, public_key_bytes(root))
                for area in range(1, 19):
                    keys.rotate_due(conn, area, now)
            for area in range(1, 19):
                trustlists.refresh(area)
            with db.begin() as conn:
                for i in range(DOORS):
                    area = i % 18 + 1
                    pub = public_key_bytes(new_private_key())
                    did = f"door-{area:02d}-{i:02d}"
                    db.insert_device(conn, did, area, pub, kid_of(pub), now, "bench")
                    db.update_device(conn, did, last_sync_at=now - (i % 7) * 600,
                                     health={"1": 80000, "2": 1_000_000, "3": 0, "5": 0})
                    doors.append((did, area))
                from gerbang_server.dashboard import accounts

                accounts.create_user(conn, "bench", "bench-password-1", "admin", [], now)
    finally:
        app.extensions["gerbang_engine"].dispose()
    return doors


def _copy(dsn: str, schema: str, doors: list[tuple[str, int]], now: int) -> float:
    """COPY RECORDS rows spread over DAYS days up to now; -> seconds."""
    import psycopg

    per_door = RECORDS // len(doors)
    start = now - DAYS * 86400
    step = DAYS * 86400 / per_door
    rnd = random.Random(7)
    t0 = time.perf_counter()
    with psycopg.connect(dsn, options=f"-csearch_path={schema}") as con, con.cursor() as cur:
        with cur.copy("COPY scan_records (device_id, area_id, seq, time, decision, reason, "
                      "clock, flags, kid, tag, received_at) FROM STDIN") as cp:
            kid = "\\\\x" + "6b" * 8
            for n, (did, area) in enumerate(doors):
                count = per_door + (1 if n < RECORDS % len(doors) else 0)
                lines = []
                for seq in range(1, count + 1):
                    t = int(start + seq * step + rnd.random() * step)
                    if rnd.random() < 0.85:
                        dec, reason = 1, 0
                    else:
                        dec, reason = 0, _DENY[rnd.randrange(len(_DENY))]
                    lines.append(f"{did}\t{area}\t{seq}\t{t}\t{dec}\t{reason}\t0\t0\t{kid}\t"
                                 f"\\\\x{seq:016x}\t{t + 300}\n")
                    if len(lines) >= 20000:
                        cp.write("".join(lines))
                        lines = []
                if lines:
                    cp.write("".join(lines))
        con.commit()
    return time.perf_counter() - t0


class _Session:
    """A logged-in keep-alive HTTP client (the session cookie of the dashboard)."""

    def __init__(self, base: str, user: str, password: str) -> None:
        host, port = base.removeprefix("http://").split(":")
        self.conn = http.client.HTTPConnection(host, int(port), timeout=60)
        self.cookie = ""
        status, body = self.get("/login")
        token = re.search(r'name="csrf" value="([^"]+)"', body).group(1)
        form = urllib.parse.urlencode({"csrf": token, "username": user, "password": password})
        status, _ = self.request("POST", "/login", form.encode(),
                                 {"Content-Type": "application/x-www-form-urlencoded"})
        if status != 302:
            raise RuntimeError(f"bench log-in answered {status}")

    def request(self, method: str, path: str, body: bytes | None = None,
                headers: dict[str, str] | None = None) -> tuple[int, str]:
        h = dict(headers or {})
        if self.cookie:
            h["Cookie"] = self.cookie
        self.conn.request(method, path, body, h)
        r = self.conn.getresponse()
        data = r.read().decode("utf-8", "replace")
        set_cookie = r.getheader("Set-Cookie")
        if set_cookie:
            self.cookie = set_cookie.split(";", 1)[0]
        return r.status, data

    def get(self, path: str) -> tuple[int, str]:
        return self.request("GET", path)


def _time_pages(base: str, paths: list[str]) -> list[float]:
    s = _Session(base, "bench", "bench-password-1")
    s.get(paths[0])  # warm the worker (imports, template compile)
    out = []
    for p in paths:
        t0 = time.perf_counter()
        status, _ = s.get(p)
        out.append((time.perf_counter() - t0) * 1000)
        if status != 200:
            raise RuntimeError(f"{p} answered {status}")
    s.conn.close()
    return out


def _time_raw(url: str, schema: str, sqls: list[tuple[str, dict[str, Any]]]) -> list[float]:
    from sqlalchemy import text

    from gerbang_server import db

    eng = db.make_engine(url, schema)
    out = []
    try:
        with eng.connect() as conn:
            conn.execute(text(sqls[0][0]), sqls[0][1]).all()
            for sql, params in sqls:
                t0 = time.perf_counter()
                conn.execute(text(sql), params).all()
                out.append((time.perf_counter() - t0) * 1000)
    finally:
        eng.dispose()
    return out


RAW_OVERVIEW = ("SELECT area_id, decision, count(*) FROM scan_records WHERE time >= :a AND "
                "time < :b GROUP BY area_id, decision")
RAW_DAY = ("SELECT (time - :a) / 3600 AS h, decision, count(*) FROM scan_records WHERE "
           "area_id = :area AND time >= :a AND time < :b GROUP BY 1, 2")
RAW_REASONS = ("SELECT reason, count(*) FROM scan_records WHERE area_id = :area AND "
               "decision = 0 AND time >= :a AND time < :b GROUP BY reason")


def _line(name: str, xs: list[float], target: float | None) -> bool:
    p50, p95 = statistics.median(xs), _pct(xs, 95)
    ok = target is None or p95 <= target
    verdict = "" if target is None else (f"  {'PASS' if ok else 'FAIL'} (target p95 <= "
                                         f"{target:.0f} ms)")
    print(f"  {name}: p50 {p50:.1f} ms, p95 {p95:.1f} ms ({len(xs)} requests){verdict}")
    return ok


def run() -> None:
    url = os.environ.get(PG_ENV)
    if not url:
        print(f"  dashboard: skipped ({PG_ENV} not set; the 5M-record bench needs PostgreSQL)")
        return
    from sqlalchemy import create_engine, text

    from gerbang_server import db
    from gerbang_server.dashboard import counts

    schema = f"gbbench_dash_{uuid.uuid4().hex[:10]}"
    admin = create_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        now = int(time.time())
        doors = _provision(url, schema, now)
        dsn = url.replace("postgresql+psycopg://", "postgresql://")
        dt = _copy(dsn, schema, doors, now)
        eng = db.make_engine(url, schema)
        t0 = time.perf_counter()
        with eng.begin() as conn:
            n_hourly = counts.rebuild(conn)
        t_agg = time.perf_counter() - t0
        with eng.begin() as conn:
            conn.exec_driver_sql("ANALYZE")
            total = conn.execute(text("SELECT count(*) FROM scan_records")).scalar_one()
        eng.dispose()
        print(f"  {total:,} scan records ({DOORS} doors, {DAYS} days) loaded by COPY in "
              f"{dt:.0f} s; per-hour counts: {n_hourly:,} rows built in {t_agg:.0f} s")
        today0 = (now + WIB_OFFSET) // 86400 * 86400 - WIB_OFFSET
        rnd = random.Random(3)
        days = [today0 - rnd.randrange(1, DAYS - 1) * 86400 for _ in range(REQUESTS)]
        areas = [rnd.randrange(1, 19) for _ in range(REQUESTS)]

        def iso(t: int) -> str:
            return time.strftime("%Y-%m-%d", time.gmtime(t + WIB_OFFSET))

        secret = secrets.token_hex(16)
        saved = os.environ.get("GERBANG_SECRET_KEY")
        os.environ["GERBANG_SECRET_KEY"] = secret
        try:
            with serve(url, schema) as base:
                if saved is None:
                    os.environ.pop("GERBANG_SECRET_KEY", None)
                over = _time_pages(base, ["/"] * REQUESTS)
                area = _time_pages(base, [f"/areas/{a}?day={iso(d)}"
                                          for a, d in zip(areas, days, strict=True)])
        finally:
            if saved is not None:
                os.environ["GERBANG_SECRET_KEY"] = saved
        raw_over = _time_raw(url, schema, [(RAW_OVERVIEW, {"a": today0, "b": today0 + 86400})]
                             * REQUESTS)
        raw_area = _time_raw(url, schema, [(s, {"area": a, "a": d, "b": d + 86400})
                                           for a, d in zip(areas, days, strict=True)
                                           for s in (RAW_DAY, RAW_REASONS)])
        raw_area = [raw_area[i] + raw_area[i + 1] for i in range(0, len(raw_area), 2)]
        raw_year = _time_raw(url, schema, [("SELECT area_id, decision, count(*) FROM "
                                            "scan_records GROUP BY area_id, decision", {})] * 5)
        ok = _line("overview page (HTTP, 18 areas)", over, TARGET_P95_MS)
        ok = _line("area day-chart page (HTTP, random area and day)", area, TARGET_P95_MS) and ok
        _line("baseline: plain GROUP BY over scan_records, overview's day counts (SQL)",
              raw_over, None)
        _line("baseline: plain GROUP BY over scan_records, area day chart + reasons (SQL)",
              raw_area, None)
        _line("baseline: plain GROUP BY over all of scan_records (SQL)", raw_year, None)
        if not ok:
            print("  dashboard: FAIL")
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


if __name__ == "__main__":
    run()
