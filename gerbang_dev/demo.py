"""`make demo`: a day at virtual doors syncing with a real server, end to end, in a temp dir.

    gerbang demo [--keep [DIR]]

Set up the way an operator and a technician would: keys with `gerbang keys` (offline root,
certified signer, device keys), the server on a SQLite file bootstrapped with its CLI
(db-upgrade, create-token, import-keycert, run-jobs) and served by gunicorn on 127.0.0.1, its
clock on the day's time (`shifted_app`), door units in three areas registered through the
admin API and provisioned onto blank virtual boards with `gerbang provision --arch x64`
(MicroPython at 112K heap). The day (`Day.run`): every kind of code in the morning, periodic
syncs, a revocation and a key rotation at noon that reach the doors at their next sync. Every
decision and the door's light/buzzer/relay pattern is checked against the expected one; the
summary comes from the server's export. Exit 0 when everything was as expected.

`Lab` (server + keys + units) is also the set-up of the e2e tests and the sync benches.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
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


CLOCK_ENV = "GERBANG_DEV_CLOCK_FILE"
APP = "gerbang_dev.demo:shifted_app()"  # what gunicorn and the flask CLI of a Lab load
RTC_RESET = 946684800  # 2000-01-01: the ESP32's RTC after a power loss


def shifted_app() -> Any:
    """The real server app (gerbang_server.create_app) whose clock is the host's plus the
    seconds in the file named by $GERBANG_DEV_CLOCK_FILE, read at every call: a Lab moves the
    server's time (simulated days) while gunicorn runs."""
    from gerbang_server import create_app

    path = os.environ.get(CLOCK_ENV, "")

    def clock() -> float:
        try:
            with open(path) as f:
                return time.time() + float(f.read().strip() or 0)
        except (OSError, ValueError):
            return time.time()

    return create_app({"GERBANG_NOW": clock})


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
        try:
            with open(os.path.join(self.vb.dir, "rtc.bin"), "rb") as f:
                rtc = f.read()
        except FileNotFoundError:
            rtc = b""  # RTC memory empty (power loss, never synced since)
        # the marker goes after the TimeKeeper's 12-byte record; an empty RTC memory gets 12
        # zero bytes there (an invalid record, ignored as such). The firmware's own hook does
        # not pad: see tests/e2e/test_field_time.py (xfail)
        with open(os.path.join(self.vb.dir, "rtc.bin"), "wb") as f:
            f.write(rtc[:12].ljust(12, b"\0") + b"S")
        self.vb.proc.terminate()  # the launcher boots it again, RTC memory kept
        s = self.wait("sync", 60)
        self.wait("start", 60)
        return s

    def clock_offset(self) -> int:
        """Seconds the unit's RTC runs ahead of the host clock (the board's clock_offset)."""
        try:
            with open(os.path.join(self.vb.dir, "clock_offset")) as f:
                return int(f.read())
        except (OSError, ValueError):
            with open(os.path.join(self.vb.dir, "board.json")) as f:
                return int(json.load(f).get("clock_offset", 0))

    def advance_clock(self, seconds: int) -> None:
        """Move the unit's RTC on by `seconds` and reset it (RTC memory kept): days pass."""
        offset = self.clock_offset() + seconds
        with open(os.path.join(self.vb.dir, "clock_offset"), "w") as f:
            f.write(str(offset))
        self.vb.proc.terminate()
        self.wait("start", 60)

    def power_cycle(self) -> None:
        """Power off and on: RTC memory and RTC time are lost (the RTC restarts at 2000-01-01),
        the flash keeps the time floor, the scan log, the list. Waits for the scan path."""
        from gerbang_dev.scanner_emulator import ScannerEmulator
        from gerbang_dev.virtual_board import VirtualBoard

        old = self.vb
        self.stop()
        time.sleep(0.1)
        p = old.proc  # the launcher may have booted it once more while stopping: end that too
        if p is not None and p.poll() is None:
            os.killpg(p.pid, signal.SIGTERM)
            p.wait(10)
        home = os.path.dirname(self.vb.dir)
        self.vb = VirtualBoard(self.vb.dir, heap=self.vb.heap, time_unix=RTC_RESET,
                               synced=False, log=os.path.join(home, "console.log"))
        self.vb.start()
        self.em = ScannerEmulator(self.vb.paths["scanner"],
                                  line=os.path.join(self.vb.dir, "uart_baud"))
        self.ev = EventLog(os.path.join(self.vb.dir, "events.jsonl"))
        self.wait("start", 60)

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
        self.clock_file = os.path.join(base, "server_clock_offset")
        self.env = {**os.environ, "DATABASE_URL": "sqlite:///" + self.db, "GERBANG_KEK": KEK,
                    CLOCK_ENV: self.clock_file,
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
        return self._run("-m", "flask", "--app", APP, *args)

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
             APP], cwd=ROOT, env={**self.env, "GERBANG_AUTO_MIGRATE": "0"},
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

    def server_offset(self) -> float:
        try:
            with open(self.clock_file) as f:
                return float(f.read().strip() or 0)
        except (OSError, ValueError):
            return 0.0

    def advance_server(self, seconds: int) -> None:
        """Move the server's clock on (every worker reads the offset file at each call)."""
        offset = self.server_offset() + seconds
        with open(self.clock_file + ".tmp", "w") as f:
            f.write(str(offset))
        os.replace(self.clock_file + ".tmp", self.clock_file)  # readers never see it empty

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
    def signer_key(self) -> Any:
        """The trust-list signer's private key (what the server signs answers with)."""
        from gerbang_protocol.keys import load_private_key

        with open(os.path.join(self.keys, "signer.key")) as f:
            return load_private_key(bytes.fromhex(f.read().strip()))

    def add_unit(self, device_id: str, area: int, server: str | None = None,
                 **cfg_extra: Any) -> Unit:
        """Device key (`gerbang keys device`), registered through the admin API, a blank
        virtual board provisioned with `gerbang provision --arch <the interpreter's: x64, x86>`;
        waits for the scan path.
        `server`: the URL the unit syncs with (default the lab's; e.g. a fault proxy's)."""
        from gerbang_dev.scanner_emulator import ScannerEmulator
        from gerbang_dev.virtual_board import VirtualBoard, create

        self.gerbang("keys", "device", device_id, "--dir", self.keys)
        kp = os.path.join(self.keys, "devices", device_id)
        with open(kp + ".pub") as f:
            self.api("POST", "/admin/devices", {"id": device_id, "area": area,
                                                "public_key": f.read().strip()})
        with open(os.path.join(ROOT, "firmware", "config.example.json")) as f:
            cfg = json.load(f)
        cfg.update(device_id=device_id, area=area, root_pub=self.root_pub, server=server or self.url,
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
        vb = VirtualBoard(d, heap=self.heap, time_unix=int(time.time() + self.server_offset()),
                          synced=True, log=os.path.join(home, "console.log"),
                          interp=self.interp)
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


# --- the demo: a day at the doors ---------------------------------------------------------------

AREAS = {1: 2, 5: 1, 12: 1}  # area -> doors
REVOKE_AREA = 1  # at noon the office revokes a visitor's pass here
ROTATE_AREA = 5  # and rotates this area's key (rotate-now: not pre-published)
HOUR = 3600
WIB = 7 * HOUR  # the doors' local time (Malang: UTC+7)
GARBAGE = {"garbage": ("GB1:NOT-A-CERTIFICATE", "BASE45"), "not_ours": ("HELLO WORLD", "PREFIX")}
# pattern per reason class (firmware/gerbang/feedback.py), what a person at the door sees
LEGEND = {
    "OK": "green light, the door opens (relay pulse)",
    "UNREADABLE": "red light, one long beep",
    "UNTRUSTED": "red light, three short beeps",
    "NOT_ADMITTED": "red light, two beeps",
    "OTHER_AREA": "amber light (red + green), one short beep",
}
CLASS_OF = {**{n: "UNREADABLE" for n in ("PREFIX", "BASE45", "INFLATE", "CBOR", "COSE",
                                         "TOO_LONG")},
            **{n: "UNTRUSTED" for n in ("UNKNOWN_KID", "KEY_WINDOW", "SIGNATURE", "CLAIMS",
                                        "NO_TRUST", "INTERNAL")},
            **{n: "NOT_ADMITTED" for n in ("NOT_YET_VALID", "EXPIRED", "REVOKED", "DOSES",
                                           "CATEGORY", "CLOCK", "REUSE")},
            "WRONG_AREA": "OTHER_AREA", "OK": "OK"}
BEEPS = {"OK": 0, "UNREADABLE": 1, "UNTRUSTED": 3, "NOT_ADMITTED": 2, "OTHER_AREA": 1}
GREEN = ("OK", "OTHER_AREA")  # the classes that light the green LED


class Scan:
    """One code shown at one door: what the demo expected and what the door did."""

    def __init__(self, unit: Unit, when: str, code: str, expect: str) -> None:
        self.unit = unit
        self.when = when
        self.code = code
        self.expect = expect  # reason name; "OK" = allowed
        self.got = ""
        self.seq = 0
        self.pins: dict[str, int] = {}

    @property
    def wrong_allow(self) -> bool:
        return self.got == "OK" and self.expect != "OK"


def _show(unit: Unit, qr: str, s: Scan) -> None:
    """Scan, then watch the pins until the pattern is over (~0.7 s): relay and buzzer pulses."""
    from gerbang_protocol.reason_text import reason_name

    n = len(unit.ev.items)
    d = unit.scan(qr)
    s.got = "OK" if d["allow"] else reason_name(d["reason"])
    s.seq = d["seq"]
    time.sleep(0.7)
    unit.ev.poll()
    pins = [e for e in unit.ev.items[n:] if e["ev"] == "pin" and e["v"] == 1]
    s.pins = dict(Counter(e["pin"] for e in pins))


class Day:
    """A day at the doors of a Lab; run() returns the scans, summary() the people's view."""

    def __init__(self, lab: Lab, say: Any = print) -> None:
        self.lab = lab
        self.say = say
        self.scans: list[Scan] = []
        self.codes: dict[int, dict[str, str]] = {}
        self.t0 = time.time()

    def _log(self, text: str) -> None:
        self.say(f"[{time.time() - self.t0:5.1f}s] {text}")

    def clock(self) -> str:
        """The day's time at the doors (WIB), to the hour: the phase's label."""
        t = time.gmtime(time.time() + self.lab.server_offset() + WIB + 30 * 60)
        return time.strftime("%H:00", t)

    def _each(self, fn: Any, items: list) -> list:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=len(items)) as ex:
            return list(ex.map(fn, items))

    def visit(self, plan: dict[Unit, list[tuple[str, str]]]) -> None:
        """Every door shows its list of (code name, expected) at once (one thread per door)."""
        when = self.clock()

        def door(u: Unit) -> None:
            for name, expect in plan[u]:
                s = Scan(u, when, name, expect)
                qr = GARBAGE[name][0] if name in GARBAGE else self.codes[u.area][name]
                _show(u, qr, s)
                self.scans.append(s)

        self._each(door, list(plan))
        bad = [s for s in self.scans if s.when == when and s.got != s.expect]
        self._log(f"{when} {sum(len(v) for v in plan.values())} scans at "
                  f"{len(plan)} doors" + (f", {len(bad)} NOT AS EXPECTED" if bad else ""))

    def sync(self) -> None:
        when = self.clock()
        res = self._each(lambda u: u.sync_now(), self.lab.units)
        failed = [(u.id, s.get("err")) for u, s in zip(self.lab.units, res, strict=True)
                  if not s["ok"]]
        if failed:
            raise RuntimeError(f"sync failed: {failed}")
        got = sum(s["sent"] for s in res)
        lists = sum(1 for s in res if s["bundle"])
        self._log(f"{when} every door synced: {got} records home"
                  + (f", {lists} doors got a new trust list" if lists else ""))

    def run(self, doors: dict[int, int] | None = None) -> list[Scan]:
        lab = self.lab
        doors = doors or AREAS
        areas = list(doors)
        self._log("server: keys, database, signer, first trust lists ...")
        lab.start_server()
        # the day starts at 08:00 at the doors (server and doors on the same simulated clock)
        now = time.time() + WIB
        lab.advance_server(int((now // 86400 + 1) * 86400 + 8 * HOUR - now))
        self._log(f"server up at {lab.url}, {self.clock()} at the doors")
        for a in areas:
            other = areas[(areas.index(a) + 1) % len(areas)]
            c = {k: lab.issue(a)["qr"] for k in ("visitor", "staff", "guest")}
            c["expired"] = lab.issue(a, valid_for=2)["qr"]
            c["other_area"] = lab.issue(other)["qr"]
            revoked = lab.issue(a)
            lab.revoke(revoked["cti"])  # in the list the doors are provisioned with
            c["revoked"] = revoked["qr"]
            self.codes[a] = c
        ids = [(f"gb-{a:02d}-{i + 1:04d}", a) for a in areas for i in range(doors[a])]
        units = self._each(lambda x: lab.add_unit(*x), ids)
        lab.units = units  # provisioning order, not thread order
        self._log(f"{len(units)} doors provisioned in areas {', '.join(map(str, areas))}")
        time.sleep(max(0.0, 2.5 - (time.time() - self.t0)))  # the 2 s certificates expired

        # morning: every kind of code at every door
        morning = [("visitor", "OK"), ("expired", "EXPIRED"), ("other_area", "WRONG_AREA"),
                   ("revoked", "REVOKED"), ("garbage", GARBAGE["garbage"][1]),
                   ("not_ours", GARBAGE["not_ours"][1]), ("guest", "OK")]
        self.visit({u: morning for u in units})
        lab.advance_server(2 * HOUR)
        self.sync()  # 10:00, the doors' periodic sync

        # noon: the office revokes the guest pass in one area and rotates another area's key
        lab.advance_server(2 * HOUR)
        lab.revoke(_cti(lab, self.codes[REVOKE_AREA]["guest"]))
        lab.api("POST", f"/admin/areas/{ROTATE_AREA}/keys/rotate")
        self.codes[ROTATE_AREA]["new_key"] = lab.issue(ROTATE_AREA)["qr"]
        self._log(f"{self.clock()} office: guest pass revoked in area {REVOKE_AREA}, "
                  f"area {ROTATE_AREA}'s key rotated (a new visitor gets a new-key pass)")
        before: dict[Unit, list[tuple[str, str]]] = {}
        for u in units:
            before[u] = [("visitor", "OK")]
            if u.area == REVOKE_AREA:
                before[u].append(("guest", "OK"))  # the door has not heard yet: still allowed
            if u.area == ROTATE_AREA:
                before[u].append(("new_key", "UNKNOWN_KID"))  # nor knows the new key
        self.visit(before)
        lab.advance_server(HOUR)
        self.sync()  # 13:00: the new lists reach the doors

        after: dict[Unit, list[tuple[str, str]]] = {}
        for u in units:
            after[u] = [("staff", "OK"), ("guest", "REVOKED" if u.area == REVOKE_AREA else "OK")]
            if u.area == ROTATE_AREA:
                after[u] += [("new_key", "OK"), ("visitor", "OK")]  # old key's passes still ok
        self.visit(after)
        lab.advance_server(4 * HOUR)
        self.sync()  # 17:00, the last sync of the day
        return self.scans

    # -- what a person reads --
    def failures(self) -> list[str]:
        out = []
        for s in self.scans:
            if s.got != s.expect:
                out.append(f"{s.unit.id} {s.when} {s.code}: expected {s.expect}, door said "
                           f"{s.got}" + ("  <-- WRONG ALLOW" if s.wrong_allow else ""))
            cls = CLASS_OF.get(s.got, "UNTRUSTED")
            opened = s.pins.get("relay", 0)
            if (opened != (1 if s.got == "OK" else 0) or s.pins.get("buzzer", 0) != BEEPS[cls]
                    or s.pins.get("green", 0) != (1 if cls in GREEN else 0)):
                out.append(f"{s.unit.id} {s.when} {s.code}: {s.got} but the door showed "
                           f"{s.pins} (expected: {LEGEND[cls]})")
        return out

    def area_figures(self) -> dict[int, dict[str, Any]]:
        """Per area, from the server's export and device rows."""
        from gerbang_protocol.reason_text import reason_name

        out: dict[int, dict[str, Any]] = {}
        for u in self.lab.units:
            f = out.setdefault(u.area, {"doors": [], "scans": 0, "allowed": 0, "denied": Counter(),
                                        "synced": 0, "serials": set()})
            recs = self.lab.export(u.id)
            dev = self.lab.api("GET", f"/admin/devices/{u.id}")
            f["doors"].append(u.id)
            f["scans"] += sum(1 for s in self.scans if s.unit is u)
            f["synced"] += len(recs)
            f["allowed"] += sum(1 for r in recs if r["decision"] == 1)
            f["denied"].update(reason_name(r["reason"]) for r in recs if r["decision"] == 0)
            f["serials"].add(dev["trust_serial"])
        return out

    def summary(self) -> list[str]:
        from gerbang_protocol import Reason
        from gerbang_protocol.reason_text import reason_text

        areas = {a["id"]: a for a in self.lab.api("GET", "/admin/areas")["areas"]}
        lines = ["", "A day at the doors", "=================="]
        for area, f in sorted(self.area_figures().items()):
            serial = "/".join(map(str, sorted(f["serials"])))
            newest = (areas[area]["trustlist"] or {}).get("serial")
            lines.append(f"Area {area} - {areas[area]['name']}")
            lines.append(f"  doors {', '.join(f['doors'])}; they hold trust list serial {serial}"
                         f" (the server's newest: {newest})")
            lines.append(f"  scans {f['scans']}, records synced to the server {f['synced']}: "
                         f"{f['allowed']} allowed, {sum(f['denied'].values())} denied")
            for name, n in sorted(f["denied"].items(), key=lambda kv: (-kv[1], kv[0])):
                code = int(Reason[name]) if name in Reason.__members__ else -1
                lines.append(f"    {n:3d} x {name:<13} {reason_text(code, 'en')} / "
                             f"{reason_text(code, 'id')}")
        lines += ["", "What the door did (its lights, buzzer and door relay):"]
        for cls, text in LEGEND.items():
            seen = sorted({s.got for s in self.scans if CLASS_OF.get(s.got) == cls})
            lines.append(f"  {text:<44} {', '.join(seen) or '-'}")
        bad = self.failures()
        n = len(self.scans)
        lines.append("")
        lines.append(f"All {n} decisions were as expected." if not bad else
                     f"{len(bad)} of {n} decisions NOT as expected:")
        lines += ["  " + b for b in bad]
        return lines


def _cti(lab: Lab, qr: str) -> str:
    """The cti (hex) of a certificate QR the lab issued."""
    from gerbang_protocol import cbor
    from gerbang_protocol.cose import decode_sign1
    from gerbang_protocol.qr import decode_qr

    return cbor.loads(decode_sign1(decode_qr(qr)).payload)[7].hex()


def _dashboard_user(lab: Lab) -> str:
    """A dashboard admin "demo" with a fresh password (the server's create-user command)."""
    import secrets

    password = secrets.token_urlsafe(12)
    r = subprocess.run([sys.executable, "-m", "flask", "--app", APP, "create-user", "demo",
                        "--role", "admin", "--password-stdin"], cwd=ROOT, env=lab.env,
                       input=password + "\n", capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        return f"(none: create-user failed: {r.stderr.strip()[-200:]})"
    return password


def run_demo(base: str, keep: bool = False) -> int:
    lab = Lab(base)
    lab.env["GERBANG_SYNC_MIN_INTERVAL"] = "0"  # the doors sync back to back here
    day = Day(lab)
    try:
        day.run()
        for line in day.summary():
            print(line, flush=True)
        ok = not day.failures() and all(
            f["scans"] == f["synced"] for f in day.area_figures().values())
        if keep:
            for u in lab.units:
                u.stop()
            lab.units = []
            password = _dashboard_user(lab)
            print(f"\nthe server keeps running: dashboard {lab.url}/ (user demo, password "
                  f"{password}), admin API token {lab.token}, database {lab.db}; "
                  f"stop it with: kill {lab.proc.pid if lab.proc else '?'}")
            lab.proc = None  # not stopped by lab.stop()
        print(f"\ndone in {time.time() - day.t0:.1f}s" + ("" if keep else ", everything stopped"),
              flush=True)
        return 0 if ok else 1
    finally:
        lab.stop()


def cmd_demo(a: argparse.Namespace) -> int:
    if a.keep is not None:
        base = a.keep or tempfile.mkdtemp(prefix="gerbang-demo-")
        os.makedirs(base, exist_ok=True)
        return run_demo(base, keep=True)
    base = tempfile.mkdtemp(prefix="gerbang-demo-")
    try:
        return run_demo(base)
    finally:
        shutil.rmtree(base, ignore_errors=True)


def register():  # type: ignore[no-untyped-def]
    """The `gerbang demo` click command (entry point gerbang.dev_commands)."""
    import click

    @click.command("demo", help=__doc__, short_help="a day at virtual doors syncing with a server")
    @click.option("--keep", metavar="DIR", is_flag=False, flag_value="", default=None,
                  type=click.Path(file_okay=False),
                  help="leave the server running afterwards (its URL is printed); work in DIR "
                       "(default: a new temp dir, kept)")
    def demo(keep: str | None) -> int:
        return cmd_demo(argparse.Namespace(keep=keep))

    return demo


if __name__ == "__main__":
    from gerbang_cli.cli import run_module

    sys.exit(run_module("demo"))
