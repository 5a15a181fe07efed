"""What one sync costs (`python -m gerbang_dev.bench synccost`), both ends.

Device: machine instructions (callgrind, the MicroPython unix port, the firmware's own
`gerbang.syncproto`) to build and sign one request of 100 records (`build_request`: CBOR +
Ed25519 sign, the sync boot's default batch) and to verify one answer (`open_response`: the
key certificate under the pinned root, then the answer's signature, nonce and device id) —
N=3 minus N=1 operations, halved, so start-up and imports cancel out (as bench/crypto.py).

Server: sync latency with 200 units syncing at once on PostgreSQL (gunicorn, 4 workers x 4
gthread threads, 127.0.0.1): 200 registered devices, each request signed beforehand (10
records, as a door between two syncs), a fresh connection per request (the door's HTTP/1.0),
released together by a barrier; two rounds (the second with the next records and counter).
Figures: p50, p99 and max of the 400 latencies, and every answer 200. Needs
GERBANG_TEST_POSTGRES_URL (skipped with the reason otherwise).
"""

from __future__ import annotations

import http.client
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MICROPYTHON = os.path.join(os.path.dirname(sys.executable), "micropython")
UNITS = 200
RECORDS = 10  # per request in the server part
BATCH = 100  # per request in the device part (gerbang/sync.py _BATCH)

MP_SCRIPT = """\
import sys
sys.path.insert(0, "firmware")
from gerbang import syncproto, cose, ed25519
d = sys.argv[3]
def rd(n):
    with open(d + "/" + n, "rb") as f:
        return f.read()
seed, recs, resp, root, nonce = rd("seed"), rd("recs"), rd("resp"), rd("root"), rd("nonce")
kid = cose.kid_of(ed25519.public_key(seed))
op, n = sys.argv[1], int(sys.argv[2])
for i in range(n):
    if op == "sign":
        syncproto.build_request(seed, kid, "gb-01-0001", i + 1, nonce, 1790000000, 1, recs, 3,
                                "0.1.0", {1: 30000, 2: 1000000, 3: 0, 4: 3600, 5: 0})
    elif op == "verify":
        r = syncproto.open_response(resp, root, nonce, "gb-01-0001", 1790000000)
        assert r.acked_seq == 100
print("ok")
"""


def _device_files(d: str) -> None:
    from gerbang_protocol import (
        KeyCertificate,
        SyncResponse,
        make_keycert,
        make_sync_response,
        new_private_key,
        private_key_bytes,
        public_key_bytes,
    )

    from .server import make_records

    root, signer, dev = new_private_key(), new_private_key(), new_private_key()
    t = 1_790_000_000
    kc = make_keycert(root, KeyCertificate(1, public_key_bytes(signer), t - 86400, t + 86400))
    nonce = os.urandom(16)
    resp = make_sync_response(signer, SyncResponse("gb-01-0001", 100, t, nonce, kc))
    files = {"seed": private_key_bytes(dev), "recs": make_records(1, BATCH), "resp": resp,
             "root": public_key_bytes(root), "nonce": nonce}
    for name, data in files.items():
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)
    with open(os.path.join(d, "mp_sync.py"), "w") as f:
        f.write(MP_SCRIPT)


def _callgrind(d: str, op: str, n: int) -> int:
    cmd = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", MICROPYTHON,
           os.path.join(d, "mp_sync.py"), op, str(n), d]
    p = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=900)
    m = re.search(r"Collected : (\d+)", p.stderr)
    if p.returncode != 0 or not m or not p.stdout.strip().endswith("ok"):
        raise RuntimeError(f"callgrind {op} {n} failed: {p.stdout[-500:]} {p.stderr[-1500:]}")
    return int(m.group(1))


def device_cost() -> dict[str, float]:
    """Million instructions per request signed and per answer verified."""
    with tempfile.TemporaryDirectory() as d:
        _device_files(d)
        jobs = [(op, n) for op in ("sign", "verify") for n in (1, 3)]
        with ThreadPoolExecutor(max_workers=2) as ex:
            c = dict(zip(jobs, ex.map(lambda j: _callgrind(d, *j), jobs), strict=True))
    return {op: (c[(op, 3)] - c[(op, 1)]) / 2 / 1e6 for op in ("sign", "verify")}


def _post(base: str, body: bytes) -> tuple[int, float]:
    host, port = base.removeprefix("http://").split(":")
    t0 = time.perf_counter()
    conn = http.client.HTTPConnection(host, int(port), timeout=120)
    try:
        conn.request("POST", "/api/v1/sync", body, {"Content-Type": "application/cose",
                                                    "Connection": "close"})
        r = conn.getresponse()
        r.read()
        return r.status, time.perf_counter() - t0
    finally:
        conn.close()


def server_latency(url: str, units: int = UNITS) -> dict[str, float]:
    from sqlalchemy import create_engine, text

    from .server import make_records, provision, serve, sync_body

    schema = f"gbsync_{uuid.uuid4().hex[:12]}"
    eng = create_engine(url)
    with eng.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        fleet = provision(url, schema, units, prefix="unit")
        rounds = [[sync_body(priv, did, r + 1, r * RECORDS + 1,
                             make_records(r * RECORDS + 1, (r + 1) * RECORDS, i), fleet.serial)
                   for i, (did, priv) in enumerate(fleet.devices)] for r in range(2)]
        lat: list[float] = []
        statuses: list[int] = []
        with serve(url, schema, workers=4, threads=4) as base:
            for bodies in rounds:
                gate = threading.Barrier(len(bodies))

                def one(body: bytes, gate: threading.Barrier = gate) -> tuple[int, float]:
                    gate.wait()
                    return _post(base, body)

                with ThreadPoolExecutor(max_workers=len(bodies)) as ex:
                    for status, dt in ex.map(one, bodies):
                        statuses.append(status)
                        lat.append(dt)
        with eng.begin() as conn:
            stored = conn.execute(text(f'SELECT count(*) FROM "{schema}".scan_records')).scalar()
    finally:
        with eng.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        eng.dispose()
    lat.sort()
    q = statistics.quantiles(lat, n=100)
    return {"p50": q[49] * 1000, "p99": q[98] * 1000, "max": lat[-1] * 1000,
            "ok": sum(1 for s in statuses if s == 200), "n": len(statuses),
            "stored": stored, "expected": units * RECORDS * 2}


def run() -> None:
    c = device_cost()
    print(f"  device, one sync (callgrind, unix port, N=3 minus N=1): sign a {BATCH}-record "
          f"request {c['sign']:.1f} M instructions, verify the answer {c['verify']:.1f} M "
          f"(total {c['sign'] + c['verify']:.1f} M)")
    url = os.environ.get("GERBANG_TEST_POSTGRES_URL")
    if not url:
        print("  server: skipped (GERBANG_TEST_POSTGRES_URL not set)")
        return
    s = server_latency(url)
    print(f"  server, {UNITS} units syncing at once ({RECORDS} records each, 2 rounds, "
          f"PostgreSQL, gunicorn 4 workers x 4 threads): p50 {s['p50']:.0f} ms, p99 "
          f"{s['p99']:.0f} ms, max {s['max']:.0f} ms; {s['ok']}/{s['n']} answered 200, "
          f"{s['stored']}/{s['expected']} records stored")
