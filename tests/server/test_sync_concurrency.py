"""Two real server processes (gunicorn, each on its own 127.0.0.1 port) on one PostgreSQL
database receive the same and overlapping sync batches from 20 devices at once.

Afterwards every record is stored exactly once with the content sent, and every 200 answer's
acked_seq is exactly right. "Right" is checkable because the server refuses any counter not
above the device's last one: the requests of one device that succeeded were committed in
counter order, so the state after each of them is known — acked_seq must be the contiguous
watermark of the union of the batches of that device's successful requests with counters up
to its own. The same request sent to both servers at once must succeed at most once (the
other gets 409 replay). Refused requests (409, lost races) are re-sent with a new counter, as
a door does at its next sync, until every batch has been accepted once.
"""

from __future__ import annotations

import os
import random
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import pytest

PG_ENV = "GERBANG_TEST_POSTGRES_URL"
DEVICES = 20
LAST_SEQ = 1500

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.slow,
    pytest.mark.skipif(not os.environ.get(PG_ENV),
                       reason=f"{PG_ENV} not set: the two-process test needs a real PostgreSQL"),
]


@dataclass
class Sent:
    counter: int
    first: int
    last: int
    nonce: bytes
    server: int
    status: int = 0
    acked: int | None = None
    error: str = ""


@dataclass
class Device:
    id: str
    priv: Any
    no: int
    counter: int = 0
    sent: list[Sent] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def next_counter(self) -> int:
        with self.lock:
            self.counter += 1
            return self.counter


# Rounds of batches (first, last), all sent at once. Round 1: the same request to both
# servers. Round 2: overlapping batches, and a batch above a gap (the 801-1000 range comes
# later). Round 3: the gap's filler, a repeat of old records, the tail, overlapping again.
ROUNDS = [
    [(1, 300, "both")],
    [(200, 600, "both"), (450, 800, 1), (1001, 1200, 0)],
    [(801, 1000, 0), (1, 500, 1), (1150, 1500, 1), (1100, 1350, 0)],
]


@pytest.fixture
def pg_fleet():
    from sqlalchemy import create_engine, text

    from gerbang_dev.bench.server import provision

    url = os.environ[PG_ENV]
    schema = "gbconc_" + uuid.uuid4().hex[:12]
    eng = create_engine(url)
    with eng.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield provision(url, schema, DEVICES, prefix="conc"), eng, schema
    finally:
        with eng.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        eng.dispose()


def contiguous(ranges: list[tuple[int, int]]) -> int:
    have: set[int] = set()
    for a, b in ranges:
        have.update(range(a, b + 1))
    w = 0
    while w + 1 in have:
        w += 1
    return w


def test_two_processes_same_and_overlapping_batches(pg_fleet, tmp_path):
    from sqlalchemy import text

    from gerbang_dev.bench.server import Client, make_records, serve, sync_body
    from gerbang_protocol import open_sync_response

    fleet, eng, schema = pg_fleet
    devices = [Device(did, priv, no) for no, (did, priv) in enumerate(fleet.devices)]
    log = open(tmp_path / "gunicorn.log", "wb")
    local = threading.local()

    with serve(fleet.url, schema, workers=2, threads=2, log=log) as base0, \
            serve(fleet.url, schema, workers=2, threads=2, log=log) as base1:
        bases = [base0, base1]

        def client(server: int) -> Client:
            clients = getattr(local, "clients", None)
            if clients is None:
                clients = local.clients = {}
            if server not in clients:
                clients[server] = Client(bases[server])
            return clients[server]

        def post(dev: Device, body: bytes, s: Sent) -> Sent:
            status, data = client(s.server).post(body)
            s.status = status
            if status == 200:
                resp = open_sync_response(data, fleet.signer_pub)
                assert resp.device_id == dev.id and resp.nonce == s.nonce
                s.acked = resp.acked_seq
            else:
                s.error = data[:200].decode(errors="replace")
            return s

        def jobs_for(dev: Device, first: int, last: int, target: Any) -> list[tuple]:
            counter = dev.next_counter()
            nonce = os.urandom(16)
            body = sync_body(dev.priv, dev.id, counter, first, make_records(first, last, dev.no),
                             fleet.serial, nonce)
            servers = [0, 1] if target == "both" else [target]
            out = []
            for srv in servers:
                s = Sent(counter, first, last, nonce, srv)
                dev.sent.append(s)
                out.append((dev, body, s))
            return out

        pending: list[tuple[Device, int, int]] = []
        with ThreadPoolExecutor(max_workers=32) as pool:
            for rnd in ROUNDS:
                jobs = [j for dev in devices for (a, b, tgt) in rnd for j in jobs_for(dev, a, b, tgt)]
                random.shuffle(jobs)
                done = list(pool.map(lambda j: post(*j), jobs))
                by_key: dict[tuple[str, int], list[Sent]] = {}
                for (dev, _, _), s in zip(jobs, done, strict=True):
                    by_key.setdefault((dev.id, s.counter), []).append(s)
                for (did, _), sents in by_key.items():
                    if not any(s.status == 200 for s in sents):
                        dev = next(d for d in devices if d.id == did)
                        pending.append((dev, sents[0].first, sents[0].last))
            # refused batches again, one after the other per device (a door's next syncs)
            def resend(dev: Device) -> list[tuple[Device, int, int]]:
                left = []
                for (d, a, b) in pending:
                    if d is dev:
                        (_, body, s), = jobs_for(dev, a, b, dev.no % 2)
                        if post(dev, body, s).status != 200:
                            left.append((dev, a, b))
                return left

            pending = [p for left in pool.map(resend, devices) for p in left]
            assert not pending, pending[:3]
    log.close()

    statuses = sorted({s.status for d in devices for s in d.sent})
    assert set(statuses) <= {200, 409}, (statuses, (tmp_path / "gunicorn.log").read_text()[-2000:])

    for dev in devices:
        # the same request (same counter) succeeded at most once; a refusal is a replay
        by_counter: dict[int, list[Sent]] = {}
        for s in dev.sent:
            by_counter.setdefault(s.counter, []).append(s)
            if s.status == 409:
                assert "replay" in s.error or "counter" in s.error, s.error
        for c, sents in by_counter.items():
            assert sum(s.status == 200 for s in sents) <= 1, (dev.id, c)
        # every ack equals the watermark after the commits up to it (commit order = counter)
        ok = sorted((s for s in dev.sent if s.status == 200), key=lambda s: s.counter)
        for i, s in enumerate(ok):
            want = contiguous([(o.first, o.last) for o in ok[: i + 1]])
            assert s.acked == want, (dev.id, s, want)
        assert ok[-1].acked == LAST_SEQ

    with eng.begin() as conn:
        conn.execute(text(f'SET LOCAL search_path TO "{schema}"'))
        dup = conn.execute(text("SELECT count(*) FROM (SELECT device_id, seq FROM scan_records "
                                "GROUP BY device_id, seq HAVING count(*) > 1) d")).scalar_one()
        assert dup == 0
        rows = conn.execute(text(
            "SELECT device_id, seq, time, decision, reason, clock, flags, kid, tag "
            "FROM scan_records ORDER BY device_id, seq")).all()
        devrows = {r.id: r for r in conn.execute(text(
            "SELECT id, acked_seq, max_seq, gaps, last_counter FROM devices"))}
    assert len(rows) == DEVICES * LAST_SEQ
    from gerbang_protocol import ScanRecord

    by_dev: dict[str, list] = {}
    for r in rows:
        by_dev.setdefault(r.device_id, []).append(r)
    for dev in devices:
        got = by_dev[dev.id]
        assert [r.seq for r in got] == list(range(1, LAST_SEQ + 1))
        want = make_records(1, LAST_SEQ, dev.no)
        for r in got:
            rec = ScanRecord.unpack(want[(r.seq - 1) * 32: r.seq * 32])
            assert (r.time, r.decision, r.reason, r.clock, r.flags, bytes(r.kid), bytes(r.tag)) \
                == (rec.time, rec.decision, rec.reason, rec.clock, rec.flags, rec.kid, rec.tag)
        d = devrows[dev.id]
        assert (d.acked_seq, d.max_seq) == (LAST_SEQ, LAST_SEQ)
        assert d.gaps in (None, [], "[]")  # psycopg parses json; SQLite text
        assert d.last_counter == max(s.counter for s in dev.sent if s.status == 200)
