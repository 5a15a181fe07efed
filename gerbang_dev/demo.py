"""`make demo`: virtual door units syncing with a real server, end to end, in a temp directory.

    gerbang demo [--units 3] [--keep DIR]

Sets up everything the way an operator and a technician would: keys with `gerbang keys`
(offline root, certified signer, device keys), the server on a SQLite file bootstrapped with
its CLI (db-upgrade, create-token, import-keycert, run-jobs) and served by gunicorn on
127.0.0.1, door units in different areas registered through the admin API and provisioned
onto blank virtual boards with `gerbang provision --arch x64` (MicroPython at 112K heap).
Each unit scans certificates issued by the server (valid, expired, revoked, garbage) through
the scanner emulator, syncs (its own sync boot: docs/FIRMWARE.md "Sync"), and the summary is
printed from the server's export. Everything is stopped at the end; exit 0 on success.

`Lab` is also the set-up of tests/e2e/test_sync_e2e.py.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections import Counter
from typing import Any

from gerbang_dev.interpreters import UNIX64, Interpreter
from gerbang_dev.virtual_board import EventLog

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
KEK = "6b" * 32


def _reason_names() -> dict[int, str]:
    from gerbang_protocol.errors import Reason

    return {int(r): r.name for r in Reason}


class Unit:
    """One provisioned virtual door unit."""

    def __init__(self, lab: Lab, device_id: str, area: int, vb: Any, em: Any) -> None:
        self.lab = lab
        self.id = device_id
        self.area = area
        self.vb = vb
        self.em = em
        self.ev = EventLog(os.path.join(vb.dir, "events.jsonl"))

    def wait(self, kind: str, timeout: float = 30.0, **match: Any) -> dict:
        e = self.ev.wait(lambda e: e["ev"] == kind and all(e.get(k) == v
                                                           for k, v in match.items()), timeout)
        if e is None:
            raise RuntimeError(f"{self.id}: no {kind} event {match} within {timeout}s\n"
                               + self.console())
        return e

    def scan(self, qr: str, timeout: float = 15.0) -> dict:
        self.em.send_code(qr)
        e = self.ev.wait(lambda e: e["ev"] in ("decision", "error"), timeout)
        if e is None or e["ev"] != "decision":
            raise RuntimeError(f"{self.id}: no decision: {e}\n" + self.console())
        return e

    def sync_now(self) -> dict:
        """Ask for a sync as the app's hook does (the marker in RTC memory, then a reset) and
        wait for the sync boot's result and the scan path to be back."""
        with open(os.path.join(self.vb.dir, "rtc.bin"), "rb") as f:
            rtc = f.read()
        with open(os.path.join(self.vb.dir, "rtc.bin"), "wb") as f:
            f.write(rtc[:12] + b"S")
        self.vb.proc.terminate()  # the launcher boots it again, RTC memory kept
        s = self.wait("sync", 60)
        self.wait("start", 60)
        return s

    def console(self) -> str:
        p = os.path.join(os.path.dirname(self.vb.dir), "console.log")
        try:
            with open(p, "rb") as f:
                return f.read()[-3000:].decode(errors="replace")
        except OSError:
            return ""

    def stop(self) -> None:
        self.em.close()
        self.vb.stop()


class Lab:
    """Server + keys + units in one directory; stop() ends every process it started."""

    def __init__(self, base: str, heap: str = "112K", sync_interval_s: int = 3600,
                 interp: Interpreter = UNIX64) -> None:
        self.base = base
        self.interp = interp  # the units' MicroPython (gerbang_dev/interpreters.py)
        self.heap = heap
        self.sync_interval_s = sync_interval_s
        self.keys = os.path.join(base, "keys")
        self.db = os.path.join(base, "gerbang.sqlite3")
        self.env = {**os.environ, "DATABASE_URL": "sqlite:///" + self.db, "GERBANG_KEK": KEK,
                    "PYTHONPATH": ROOT + os.pathsep + os.environ.get("PYTHONPATH", "")}
        self.env.pop("GERBANG_DB_SCHEMA", None)
        self.proc: subprocess.Popen[bytes] | None = None
        self.url = ""
        self.token = ""
        self.root_pub = ""
        self.units: list[Unit] = []

    # -- processes --
    def _run(self, *args: str) -> str:
        r = subprocess.run([sys.executable, *args], cwd=ROOT, env=self.env, capture_output=True,
                           text=True, timeout=120)
        if r.returncode != 0:
            raise RuntimeError(f"{' '.join(args)} failed:\n{r.stdout}\n{r.stderr}")
        return r.stdout

    def gerbang(self, *args: str) -> str:
        return self._run("-m", "gerbang_cli.cli", *args)

    def flask(self, *args: str) -> str:
        return self._run("-m", "flask", "--app", "gerbang_server", *args)

    def start_server(self) -> None:
        from gerbang_dev.bench.server import free_port

        self.gerbang("keys", "init-root", "--dir", self.keys)
        self.gerbang("keys", "certify-signer", "--dir", self.keys)
        with open(os.path.join(self.keys, "root.pub")) as f:
            self.root_pub = f.read().strip()
        self.flask("db-upgrade")
        self.token = self.flask("create-token", "demo").strip().splitlines()[-1]
        self.flask("import-keycert", "--key", os.path.join(self.keys, "signer.key"),
                   "--keycert", os.path.join(self.keys, "signer.keycert"),
                   "--root-pub", os.path.join(self.keys, "root.pub"))
        self.flask("run-jobs")
        self.url = f"http://127.0.0.1:{free_port()}"
        self.serve()

    def serve(self) -> None:
        """gunicorn (2 workers x 2 threads) on the lab's port; returns once it answers."""
        port = int(self.url.rsplit(":", 1)[1])
        log = open(os.path.join(self.base, "server.log"), "ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--workers", "2", "--worker-class", "gthread",
             "--threads", "2", "--bind", f"127.0.0.1:{port}", "--log-level", "warning",
             "gerbang_server:create_app()"], cwd=ROOT, env={**self.env, "GERBANG_AUTO_MIGRATE": "0"},
            stdout=log, stderr=log)
        log.close()
        deadline = time.monotonic() + 30
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.proc.returncode}")
            try:
                with urllib.request.urlopen(self.url + "/api/v1/health", timeout=1) as r:
                    if r.status == 200:
                        return
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("the server did not answer within 30 s")
            time.sleep(0.1)

    def api(self, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + "/api/v1" + path, data=data, method=method,
                                     headers={"Authorization": "Bearer " + self.token,
                                              "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                raw = r.read()
                return json.loads(raw) if "json" in r.headers.get("Content-Type", "") else raw
        except urllib.error.HTTPError as e:
            raise RuntimeError(f"{method} {path}: {e.code} {e.read()[:300]!r}") from None

    def issue(self, area: int, **kw: Any) -> dict:
        return self.api("POST", f"/admin/areas/{area}/certificates", {"category": 1, **kw})

    def revoke(self, cti: str) -> dict:
        return self.api("POST", "/admin/revocations", {"cti": cti, "reason": "demo"})

    def bundle(self, area: int) -> bytes:
        with urllib.request.urlopen(f"{self.url}/api/v1/areas/{area}/trustlist") as r:
            return r.read()

    def export(self, device: str | None = None) -> list[dict]:
        out: list[dict] = []
        after = 0
        while True:
            q = f"/admin/scans?format=json&limit=1000&after={after}"
            page = self.api("GET", q + (f"&device={device}" if device else ""))
            out += page["records"]
            if not page.get("next_after"):
                return out
            after = page["next_after"]

    # -- units --
    def add_unit(self, device_id: str, area: int, **cfg_extra: Any) -> Unit:
        """Device key (`gerbang keys device`), registered through the admin API, a blank
        virtual board provisioned with `gerbang provision --arch <the interpreter's: x64, x86>`;
        waits for the scan path."""
        from gerbang_dev.scanner_emulator import ScannerEmulator
        from gerbang_dev.virtual_board import VirtualBoard, create

        self.gerbang("keys", "device", device_id, "--dir", self.keys)
        kp = os.path.join(self.keys, "devices", device_id)
        with open(kp + ".pub") as f:
            self.api("POST", "/admin/devices", {"id": device_id, "area": area,
                                                "public_key": f.read().strip()})
        with open(os.path.join(ROOT, "firmware", "config.example.json")) as f:
            cfg = json.load(f)
        cfg.update(device_id=device_id, area=area, root_pub=self.root_pub, server=self.url,
                   relay_ms=200, idle_ms=20, scan_debounce_ms=300,
                   sync_interval_s=self.sync_interval_s, **cfg_extra)
        home = os.path.join(self.base, device_id)
        d = os.path.join(home, "board")
        create(d, cfg, None, interp=self.interp)
        open(os.path.join(d, "flash.img"), "wb").close()  # erased flash: the ROM formats it
        for name, data in (("unit.json", json.dumps(cfg).encode()),
                           ("trust.bin", self.bundle(area))):
            with open(os.path.join(home, name), "wb") as f:
                f.write(data)
        vb = VirtualBoard(d, heap=self.heap, time_unix=int(time.time()), synced=True,
                          log=os.path.join(home, "console.log"), interp=self.interp)
        vb.start()
        em = ScannerEmulator(vb.paths["scanner"], line=os.path.join(d, "uart_baud"))
        unit = Unit(self, device_id, area, vb, em)
        self.units.append(unit)
        self.gerbang("provision", "--port", vb.paths["repl"], "--config",
                     os.path.join(home, "unit.json"), "--bundle", os.path.join(home, "trust.bin"),
                     "--device-key", kp + ".key", "--arch", self.interp.march)
        unit.wait("start", 60)
        return unit

    def stop(self) -> None:
        for u in self.units:
            try:
                u.stop()
            except Exception:  # noqa: BLE001 - stop everything else anyway
                pass
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def __enter__(self) -> Lab:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def summary(lab: Lab) -> list[str]:
    """Per unit, from the server's export: records, allows, denies by reason, acked seq."""
    names = _reason_names()
    lines = []
    for u in lab.units:
        recs = lab.export(u.id)
        dev = lab.api("GET", f"/admin/devices/{u.id}")
        allows = sum(1 for r in recs if r["decision"] == 1)
        denies = Counter(names.get(r["reason"], str(r["reason"])) for r in recs
                         if r["decision"] == 0)
        seqs = sorted(r["seq"] for r in recs)
        lines.append(f"{u.id} (area {u.area}): {len(recs)} records (seq {seqs[0] if seqs else 0}"
                     f"..{seqs[-1] if seqs else 0}), {allows} allowed, denied: "
                     + (", ".join(f"{k} x{v}" for k, v in sorted(denies.items())) or "none")
                     + f"; acked seq {dev.get('acked_seq')}, trust serial "
                     f"{dev.get('trust_serial')}")
    return lines


def run_demo(base: str, n_units: int) -> int:
    t0 = time.time()
    names = _reason_names()
    areas = [1, 5, 12][:n_units]
    with Lab(base) as lab:
        print("server: keys, database, signer, first trust lists ...", flush=True)
        lab.start_server()
        print(f"server up at {lab.url} ({time.time() - t0:.1f}s)", flush=True)
        plan = {}
        for a in areas:
            revoked = lab.issue(a)
            plan[a] = {"valid": lab.issue(a)["qr"], "valid_2": lab.issue(a)["qr"],
                       "expired": lab.issue(a, valid_for=2)["qr"], "revoked": revoked,
                       "other_area": lab.issue(areas[(areas.index(a) + 1) % len(areas)])["qr"]}
        # the unit's list must already hold the revocation: revoke before provisioning
        for a in areas:
            lab.revoke(plan[a]["revoked"]["cti"])
        for i, a in enumerate(areas):
            u = lab.add_unit(f"gb-{a:02d}-{i + 1:04d}", a)
            print(f"unit {u.id} provisioned in area {a} ({time.time() - t0:.1f}s)", flush=True)
        time.sleep(max(0.0, 2.5 - (time.time() - t0)))  # the 2 s certificates have expired
        for u in lab.units:
            p = plan[u.area]
            got = []
            for name in ("valid", "expired", "revoked", "other_area", "valid_2"):
                qr = p[name]["qr"] if name == "revoked" else p[name]
                d = u.scan(qr)
                got.append(f"{name}={'allow' if d['allow'] else names[d['reason']]}")
            d = u.scan("GB1:NOT-A-CERTIFICATE")
            got.append(f"garbage={names[d['reason']]}")
            print(f"{u.id} scans: {' '.join(got)}", flush=True)
        for u in lab.units:
            s = u.sync_now()
            if not s["ok"]:
                print(f"{u.id}: sync failed: {s}", flush=True)
                return 1
            print(f"{u.id} synced: {s['sent']} records sent, acked {s['acked']}, "
                  f"{s['took_ms']} ms", flush=True)
        print("\nserver export:")
        for line in summary(lab):
            print("  " + line)
        ok = all(len(lab.export(u.id)) == 6 for u in lab.units)
    print(f"\ndone in {time.time() - t0:.1f}s, everything stopped", flush=True)
    return 0 if ok else 1


def cmd_demo(a: argparse.Namespace) -> int:
    if a.keep:
        os.makedirs(a.keep, exist_ok=True)
        return run_demo(a.keep, a.units)
    base = tempfile.mkdtemp(prefix="gerbang-demo-")
    try:
        return run_demo(base, a.units)
    finally:
        shutil.rmtree(base, ignore_errors=True)


def register(sub: argparse._SubParsersAction) -> None:
    from gerbang_cli.cli import subcommand

    p = subcommand(sub, "demo", "virtual door units syncing with a real server", __doc__)
    p.add_argument("--units", type=int, default=3, choices=(1, 2, 3), help="door units (areas)")
    p.add_argument("--keep", metavar="DIR", help="work in DIR and keep it (default: temp dir)")
    p.set_defaults(func=cmd_demo)


if __name__ == "__main__":
    from gerbang_cli.cli import run_module

    sys.exit(run_module("demo"))
