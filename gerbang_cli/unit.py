"""`gerbang unit ...`: a door unit from a blank board to healthy, each step one re-runnable command.

    gerbang unit add --area 1                  key, server registration, unit.json, trust bundle
    gerbang unit provision --port P ID         firmware + those files onto the unit (progress)
    gerbang unit check --port P                health: one line per problem, exit 1 if any
    gerbang unit sync-now --port P             a sync now, its result
    gerbang unit log --port P [-n 20]          the last decisions the unit holds (WIB, reasons)

Files: keys/devices/ID.key (private, mode 0600, git-ignored; goes onto the unit only),
keys/devices/ID.pub, units/ID/unit.json (the unit's config.json, mode 0600: it holds the WiFi
key) and units/ID/trust.bin (the area's trust bundle, verified under the pinned root).
"""

from __future__ import annotations

import ast
import hashlib
import json
import os
import tempfile
import time
from datetime import datetime
from typing import Any

import click

from . import device_code, settings
from .errors import failed, refused
from .messages import add, t

DAY = 86400
TRUST_WARN_DAYS = 3  # the server re-signs a list 7 days before its end; 3: as its fleet warning
CLOCK_SKEW_S = 300
FLASH_MIN_FREE = 64 * 1024
HEAP_MIN_FREE = 8 * 1024
BACKLOG_WARN = 1000

add({
    "help.unit": ("unit pintu: tambah, pasang, periksa, sinkron, log",
                  "door units: add, provision, check, sync, log"),
    "help.unit.add": ("buat kunci unit, daftarkan di server, tulis unit.json dan ambil daftar kunci area",
                      "make the unit's key, register it, write unit.json and fetch the area's trust bundle"),
    "help.unit.provision": ("pasang firmware, konfigurasi, daftar kunci dan kunci unit lewat mpremote",
                            "put firmware, config, trust bundle and device key onto the unit over mpremote"),
    "help.unit.check": ("periksa kesehatan unit lewat mpremote; keluar 1 bila ada masalah",
                        "check the unit's health over mpremote; exit 1 when there is a problem"),
    "help.unit.sync": ("sinkron sekarang dengan server dan tampilkan hasilnya",
                       "sync with the server now and show the result"),
    "help.unit.log": ("keputusan terakhir yang disimpan unit (waktu WIB, alasan)",
                      "the last decisions the unit holds (WIB time, reasons)"),
    "opt.port": ("port serial unit (mpremote connect), mis. /dev/ttyUSB0",
                 "the unit's serial port (mpremote connect), e.g. /dev/ttyUSB0"),
    "opt.unit_area": ("area unit (1..18)", "the unit's area (1..18)"),
    "opt.unit_id": ("id unit (bawaan: gb-AA-NNNN berikutnya di area)",
                    "device id (default: the next gb-AA-NNNN in the area)"),
    "opt.expect_id": ("id unit yang diharapkan (masalah bila unit melaporkan yang lain)",
                      "the device id expected (a problem when the unit reports another)"),
    "opt.units_dir": ("folder berkas unit (bawaan units/)", "folder of unit files (default units/)"),
    "opt.wifi_ssid": ("SSID WiFi unit (kuncinya diminta tersembunyi, atau GERBANG_WIFI_KEY)",
                      "the unit's WiFi SSID (its key is asked hidden, or GERBANG_WIFI_KEY)"),
    "opt.door_server": ("alamat server yang dipakai pintu (bawaan: server login)",
                        "server address the door uses (default: the login server)"),
    "opt.lines": ("jumlah keputusan (1..200)", "number of decisions (1..200)"),
    "opt.arch": ("arsitektur mpy-cross (x64 untuk papan virtual)",
                 "mpy-cross architecture (x64 for a virtual board)"),
    "opt.firmware": ("folder firmware (bawaan: checkout ini)", "firmware tree (default: this checkout)"),
    "opt.mpremote": ("program mpremote (bawaan: di samping Python ini)",
                     "mpremote executable (default: next to this Python)"),
    "opt.dry_run": ("tampilkan yang akan berubah, tanpa menulis", "show what would change, write nothing"),
    "opt.no_reset": ("jangan soft-reset unit di akhir", "do not soft-reset the unit at the end"),
    "opt.unit_config": ("config.json unit (docs/FIRMWARE.md)", "the unit's config.json (docs/FIRMWARE.md)"),
    "opt.bundle": ("bundel daftar kunci area (biner)", "the area's trust bundle (binary)"),
    "opt.device_key": ("keys/devices/ID.key: hanya untuk unit", "keys/devices/ID.key: goes onto the unit only"),
    "help.provision": ("pemasangan tingkat rendah dari berkas yang diberikan (lihat `unit provision`)",
                       "low-level provisioning from the given files (see `unit provision`)"),
    "prompt.wifi_key": ("Kunci WiFi untuk {ssid} (tidak ditampilkan)", "WiFi key for {ssid} (not shown)"),
    "unit.no_area": ("area {area} tidak ada di server; area yang ada: {areas}",
                     "area {area} does not exist on the server; areas: {areas}"),
    "unit.other_key": ("unit {id} sudah terdaftar dengan kunci lain ({kid}); pakai --id lain atau "
                       "pensiunkan unit itu di server",
                       "device {id} is registered with another key ({kid}); use another --id or "
                       "retire that device on the server"),
    "unit.key_lost": ("unit {id} terdaftar di server tetapi kuncinya tidak ada di {path}; pakai --id lain",
                      "device {id} is registered on the server but its key is not in {path}; use another --id"),
    "unit.other_area": ("unit {id} terdaftar di area {has}, bukan {want}; ubah di server atau pakai --id lain",
                        "device {id} is registered in area {has}, not {want}; change it on the server or use another --id"),
    "unit.registered": ("unit {id} terdaftar di area {area} ({name}), kid {kid}",
                        "device {id} registered in area {area} ({name}), kid {kid}"),
    "unit.already": ("unit {id} sudah terdaftar di area {area} dengan kunci ini",
                     "device {id} already registered in area {area} with this key"),
    "unit.files": ("ditulis: {config}, {bundle} (daftar kunci serial {serial}, berlaku s.d. {expires})",
                   "written: {config}, {bundle} (trust list serial {serial}, valid until {expires})"),
    "unit.next": ("berikutnya: gerbang unit provision --port PORT {id}",
                  "next: gerbang unit provision --port PORT {id}"),
    "unit.bad_bundle": ("bundel dari server tidak sah untuk root ini: {detail}; periksa kunci publik root (`gerbang setup`)",
                        "the server's bundle does not verify under this root: {detail}; check the root public key (`gerbang setup`)"),
    "unit.missing_files": ("berkas unit {path} tidak ada: jalankan dulu `gerbang unit add --area N --id {id}`",
                           "unit file {path} is missing: run `gerbang unit add --area N --id {id}` first"),
    "unit.port": ("unit tidak terjangkau di port {port} ({detail}); periksa: kabel USB data terpasang, "
                  "port yang benar (`mpremote connect list`), tidak dipakai program lain (monitor serial), "
                  "izin akses (grup dialout)",
                  "cannot reach the unit on port {port} ({detail}); check: a data USB cable is plugged in, "
                  "the right port (`mpremote connect list`), no other program uses it (serial monitor), "
                  "access rights (group dialout)"),
    "prov.refused": ("ditolak: {detail}; tidak ada yang ditulis ke unit",
                     "refused: {detail}; nothing written to the unit"),
    "prov.unit_error": ("unit tidak menjawab seperti semestinya: {detail}; jalankan perintah yang sama lagi "
                        "untuk menyelesaikan (berkas setengah jadi tidak pernah dipakai)",
                        "the unit did not answer as expected: {detail}; run the same command again to "
                        "finish (a half-copied file is never used)"),
    "prov.progress": ("menyalin ke unit", "copying to the unit"),
    "unit.answer": ("jawaban unit tidak terbaca: {detail}", "unreadable answer from the unit: {detail}"),
    "chk.line": ("{key:<22} {value}", "{key:<22} {value}"),
    "chk.device": ("unit", "device"),
    "chk.area": ("area", "area"),
    "chk.firmware": ("firmware", "firmware"),
    "chk.fw_value": ("{version}, hash {hash} ({same})", "{version}, hash {hash} ({same})"),
    "chk.fw_same": ("sama dengan yang diharapkan", "as expected"),
    "chk.fw_diff": ("{n} berkas beda dari yang diharapkan", "{n} files differ from the expected"),
    "chk.trust": ("daftar kunci", "trust list"),
    "chk.trust_value": ("serial {serial}, kedaluwarsa {expires} ({days} hari lagi)",
                        "serial {serial}, expires {expires} (in {days} days)"),
    "chk.clock": ("jam", "clock"),
    "chk.clock_value": ("{time} (kualitas: {quality}, selisih dengan laptop {skew} s)",
                        "{time} (quality: {quality}, {skew} s from this laptop)"),
    "chk.q0": ("tersinkron", "synced"), "chk.q1": ("batas bawah saja", "floor only"),
    "chk.q2": ("tidak diketahui", "unknown"),
    "chk.heap": ("heap bebas", "free heap"),
    "chk.flash": ("flash bebas", "free flash"),
    "chk.flash_value": ("{free} KiB dari {total} KiB", "{free} KiB of {total} KiB"),
    "chk.unacked": ("rekaman belum diakui", "records not acked"),
    "chk.dropped": ("pindaian terbuang", "dropped scans"),
    "chk.sync": ("sinkron terakhir", "last sync"),
    "chk.sync_never": ("belum pernah", "never"),
    "chk.sync_ok": ("berhasil (permintaan ke-{n})", "ok (request {n})"),
    "chk.sync_failed": ("gagal {fails} kali berturut-turut", "failed {fails} times in a row"),
    "chk.healthy": ("unit {id} sehat", "unit {id} is healthy"),
    "chk.problems": ("{n} masalah pada unit {id}", "{n} problems on unit {id}"),
    "p.fw": ("MASALAH: firmware beda dari checkout ini ({n} berkas): jalankan `gerbang unit provision`",
             "PROBLEM: firmware differs from this checkout ({n} files): run `gerbang unit provision`"),
    "p.trust_none": ("MASALAH: tidak ada daftar kunci yang terbaca ({detail}): jalankan `gerbang unit provision` atau sinkron",
                     "PROBLEM: no readable trust list ({detail}): run `gerbang unit provision` or sync"),
    "p.trust_expired": ("MASALAH: daftar kunci kedaluwarsa: sinkronkan unit (`gerbang unit sync-now`)",
                        "PROBLEM: the trust list has expired: sync the unit (`gerbang unit sync-now`)"),
    "p.trust_soon": ("MASALAH: daftar kunci kedaluwarsa dalam {days} hari: sinkronkan unit",
                     "PROBLEM: the trust list expires in {days} days: sync the unit"),
    "p.trust_area": ("MASALAH: daftar kunci untuk area {has}, unit di area {want}",
                     "PROBLEM: the trust list is for area {has}, the unit is in area {want}"),
    "p.clock_unknown": ("MASALAH: jam unit tidak diketahui: sinkronkan unit", "PROBLEM: the unit's clock is unknown: sync the unit"),
    "p.clock_skew": ("MASALAH: jam unit selisih {skew} s dengan laptop: sinkronkan unit dan periksa jam laptop",
                     "PROBLEM: the unit's clock is {skew} s off this laptop's: sync the unit and check the laptop's clock"),
    "p.heap": ("MASALAH: heap bebas hanya {kib} KiB", "PROBLEM: only {kib} KiB of heap free"),
    "p.flash": ("MASALAH: flash bebas hanya {kib} KiB: sinkronkan agar rekaman lama terhapus",
                "PROBLEM: only {kib} KiB of flash free: sync so acked records are deleted"),
    "p.backlog": ("MASALAH: {n} rekaman belum terkirim: periksa WiFi dan server, lalu `gerbang unit sync-now`",
                  "PROBLEM: {n} records not sent: check WiFi and the server, then `gerbang unit sync-now`"),
    "p.dropped": ("MASALAH: {n} pindaian tidak tersimpan karena flash penuh", "PROBLEM: {n} scans were not stored (flash full)"),
    "p.sync_failed": ("MASALAH: {fails} sinkron terakhir gagal: periksa WiFi, alamat server dan pendaftaran unit",
                      "PROBLEM: the last {fails} syncs failed: check WiFi, the server address and the unit's registration"),
    "p.unprovisioned": ("MASALAH: unit belum dipasang (tidak ada config.json): `gerbang unit add`, lalu `gerbang unit provision`",
                        "PROBLEM: the unit is not provisioned (no config.json): `gerbang unit add`, then `gerbang unit provision`"),
    "p.staged": ("catatan: daftar kunci baru menunggu dipasang saat boot berikut",
                 "note: a new trust list waits to be installed at the next boot"),
    "p.device": ("MASALAH: unit melaporkan id {has}, diharapkan {want}", "PROBLEM: the unit reports id {has}, expected {want}"),
    "sync.ok": ("sinkron berhasil: {sent} rekaman terkirim, diakui s.d. #{acked}, daftar kunci baru {bundle}, "
                "konfigurasi {cfg}, {ms} ms",
                "sync ok: {sent} records sent, acked up to #{acked}, new trust list {bundle}, config {cfg}, {ms} ms"),
    "sync.bundle_err": ("daftar kunci baru belum terunduh ({err}); unit mencobanya lagi pada sinkron "
                        "berikutnya, daftar lama tetap dipakai",
                        "the new trust list was not downloaded ({err}); the unit tries again at its "
                        "next sync and keeps using the old list"),
    "sync.failed": ("sinkron gagal: {err}; periksa WiFi, alamat server di unit.json dan pendaftaran unit",
                    "sync failed: {err}; check WiFi, the server address in unit.json and the unit's registration"),
    "yes": ("ya", "yes"), "no": ("tidak", "no"),
    "cfg.changed": ("berubah", "changed"), "cfg.same": ("sama", "unchanged"),
    "log.head": ("{k} keputusan terakhir dari {id} (tersimpan #{first}..#{last}; diakui s.d. #{acked}; "
                 "rekaman yang sudah diakui dihapus dari unit)",
                 "last {k} decisions on {id} (held #{first}..#{last}; acked up to #{acked}; acked "
                 "records are deleted from the unit)"),
    "log.none": ("unit {id} tidak menyimpan keputusan (semua sudah terkirim dan diakui s.d. #{acked})",
                 "unit {id} holds no decisions (all sent and acked up to #{acked})"),
    "log.allow": ("IZIN", "ALLOW"), "log.deny": ("TOLAK", "DENY"),
    "reset.done": ("unit di-soft-reset: main.py berjalan", "unit soft-reset: main.py starts"),
})


# -- files --------------------------------------------------------------------------------

def unit_files(units: str, keys: str, device_id: str) -> dict[str, str]:
    base = os.path.join(units, device_id)
    return {"config": os.path.join(base, "unit.json"), "bundle": os.path.join(base, "trust.bin"),
            "key": os.path.join(keys, "devices", device_id + ".key"),
            "pub": os.path.join(keys, "devices", device_id + ".pub")}


def write_private(path: str, data: bytes) -> None:
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    fd = os.open(path + ".tmp", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.replace(path + ".tmp", path)


def firmware_defaults(firmware: str) -> dict[str, Any]:
    with open(os.path.join(firmware, "config.example.json")) as f:
        cfg = json.load(f)
    cfg.pop("wifi", None)
    return cfg


def next_id(api: Any, area: int) -> str:
    ids = {d["id"] for d in api.get("/devices", area=area)["devices"]}
    n = 1
    while f"gb-{area:02d}-{n:04d}" in ids:
        n += 1
    return f"gb-{area:02d}-{n:04d}"


def add_unit(area: int, device_id: str | None, units: str, keys: str, root_pub: str | None,
             wifi_ssid: str | None, door_server: str | None, firmware: str) -> str:
    from gerbang_protocol import kid_of

    from . import keytool
    from .api import Api
    from .provision import DEVICE_ID, InputError, open_bundle_for
    from .qr import wib

    root = settings.root_pub(root_pub)
    api = Api()
    areas = api.areas()
    if area not in areas:
        raise refused("unit.no_area", area=area, areas=", ".join(map(str, sorted(areas))) or "-")
    device_id = device_id or next_id(api, area)
    if not DEVICE_ID.fullmatch(device_id):
        raise refused("keys.bad_id", id=device_id)
    files = unit_files(units, keys, device_id)
    wifi_key = None
    if wifi_ssid:
        wifi_key = os.environ.get("GERBANG_WIFI_KEY") or click.prompt(
            t("prompt.wifi_key", ssid=wifi_ssid), hide_input=True)
    # the server's view first: a re-run finds the device it registered
    have = api.find(f"/devices/{device_id}")
    if have is not None:
        if not os.path.exists(files["key"]):
            raise refused("unit.key_lost", id=device_id, path=files["key"])
        pub = keytool.read_pub(files["pub"]) if os.path.exists(files["pub"]) else \
            keytool.public_key_bytes(keytool.read_key(files["key"]))
        if have["public_key"] != pub.hex():
            raise refused("unit.other_key", id=device_id, kid=have["kid"])
        if have["area"] != area:
            raise refused("unit.other_area", id=device_id, has=have["area"], want=area)
        click.echo(t("unit.already", id=device_id, area=area))
    else:
        if os.path.exists(files["key"]):
            pub = keytool.public_key_bytes(keytool.read_key(files["key"]))
        else:
            _key, pub = keytool.device_key(keys, device_id, force=False, quiet=True)
        have = api.post("/devices", {"id": device_id, "area": area, "public_key": pub.hex()})
        click.echo(t("unit.registered", id=device_id, area=area, name=areas[area]["name"],
                     kid=kid_of(pub).hex()))
    cfg = firmware_defaults(firmware)
    cfg.update(device_id=device_id, area=area, root_pub=root,
               server=(door_server or api.url).rstrip("/"))
    cfg.update(have.get("config") or {})  # the server's device settings (gerbang_protocol.device_config)
    if wifi_ssid:
        cfg["wifi"] = {"ssid": wifi_ssid, "key": wifi_key}
    bundle = api.bundle(area)
    try:
        tl = open_bundle_for(bundle, cfg)
    except InputError as e:
        raise failed("unit.bad_bundle", detail=str(e)) from None
    write_private(files["config"], (json.dumps(cfg, indent=1) + "\n").encode())
    write_private(files["bundle"], bundle)
    click.echo(t("unit.files", config=files["config"], bundle=files["bundle"], serial=tl.serial,
                 expires=wib(tl.expires)))
    click.echo(t("unit.next", id=device_id))
    return device_id


# -- talking to the unit ------------------------------------------------------------------

def _unit(port: str, mpremote: str | None):  # type: ignore[no-untyped-def]
    from .provision import Unit, check_port

    check_port_safe(port, check_port)
    return Unit(port, mpremote, timeout=180)


def check_port_safe(port: str, check) -> None:  # type: ignore[no-untyped-def]
    from .provision import PortError

    try:
        check(port)
    except PortError as e:
        raise failed("unit.port", port=port, detail=str(e)) from None


def run_on_unit(unit: Any, *args: str) -> str:
    from .provision import PortError, UnitError

    try:
        return unit.run(*args)
    except PortError as e:
        raise failed("unit.port", port=unit.port, detail=str(e)) from None
    except UnitError as e:
        raise failed("prov.unit_error", detail=str(e)) from None


def tagged(out: str, tag: str) -> list[Any]:
    vals = []
    for line in out.splitlines():
        if line.startswith(tag + " "):
            try:
                vals.append(ast.literal_eval(line[len(tag) + 1:].strip()))
            except (ValueError, SyntaxError) as e:
                raise failed("unit.answer", detail=f"{e}: {line[:120]!r}") from None
    return vals


def restart(unit: Any, no_reset: bool) -> None:
    from .provision import UnitError

    if no_reset:
        return
    try:
        unit.soft_reset()
    except UnitError as e:
        raise failed("prov.unit_error", detail=str(e)) from None
    click.echo(t("reset.done"))


def firmware_survey(unit: Any, arch: str, firmware: str) -> tuple[list[str], str, str | None]:
    """(differing files, expected firmware hash, unit's firmware hash) over code + main/boot."""
    from .provision import CODE_DIRS, InputError, build

    with tempfile.TemporaryDirectory(prefix="gerbang-check-") as tmp:
        try:
            files = build(firmware, arch, os.path.join(tmp, "build"))
        except InputError as e:
            raise refused("prov.refused", detail=str(e)) from None
        want = {}
        for p, local in files.items():
            with open(local, "rb") as f:
                want[p] = hashlib.sha256(f.read()).hexdigest()
    hashes, _listing = _survey(unit, sorted(want), ["/" + d for d in CODE_DIRS])
    diff = sorted(p for p in want if hashes.get(p) != want[p])

    def digest(m: dict) -> str:
        return hashlib.sha256("".join(f"{p} {m.get(p)}\n" for p in sorted(want))
                              .encode()).hexdigest()[:16]

    return diff, digest(want), digest(hashes)


def _survey(unit: Any, paths: list[str], dirs: list[str]) -> tuple[dict, dict]:
    from .provision import PortError, UnitError

    try:
        return unit.survey(paths, dirs)
    except PortError as e:
        raise failed("unit.port", port=unit.port, detail=str(e)) from None
    except UnitError as e:
        raise failed("prov.unit_error", detail=str(e)) from None


def health(status: dict, diff: list[str], now: float, expect_id: str | None) -> list[str]:
    """One line per problem (empty: healthy)."""
    p: list[str] = []
    if expect_id and status.get("device_id") != expect_id:
        p.append(t("p.device", has=status.get("device_id"), want=expect_id))
    if diff:
        p.append(t("p.fw", n=len(diff)))
    if "trust_serial" not in status:
        p.append(t("p.trust_none", detail=status.get("trust_error", "?")))
    else:
        days = (status["trust_expires"] - now) / DAY
        if days <= 0:
            p.append(t("p.trust_expired"))
        elif days < TRUST_WARN_DAYS:
            p.append(t("p.trust_soon", days=f"{days:.1f}"))
        if status.get("trust_area") != status.get("area"):
            p.append(t("p.trust_area", has=status.get("trust_area"), want=status.get("area")))
    if status.get("clock_q") == 2:
        p.append(t("p.clock_unknown"))
    elif abs(status.get("clock", 0) - now) > CLOCK_SKEW_S:
        p.append(t("p.clock_skew", skew=int(status.get("clock", 0) - now)))
    if status.get("heap_free", HEAP_MIN_FREE) < HEAP_MIN_FREE:
        p.append(t("p.heap", kib=status["heap_free"] // 1024))
    if "flash_free" in status and status["flash_free"] < FLASH_MIN_FREE:
        p.append(t("p.flash", kib=status["flash_free"] // 1024))
    if status.get("unacked", 0) > BACKLOG_WARN:
        p.append(t("p.backlog", n=status["unacked"]))
    if status.get("dropped", 0):
        p.append(t("p.dropped", n=status["dropped"]))
    # never synced is no problem by itself (a fresh unit): its clock and list say what matters
    if status.get("server") and status.get("sync_fails"):
        p.append(t("p.sync_failed", fails=status["sync_fails"]))
    return p


def check_unit(port: str, arch: str, firmware: str, mpremote: str | None, device: str | None,
               no_reset: bool) -> int:
    from .qr import wib

    unit = _unit(port, mpremote)
    diff, _want_hash, unit_hash = firmware_survey(unit, arch, firmware)
    out = run_on_unit(unit, "exec", device_code.STATUS)
    found = tagged(out, "S")
    if not found:
        raise failed("unit.answer", detail=out.strip()[-200:] or "-")
    s = found[-1]
    now = time.time()
    restart(unit, no_reset)
    if "unprovisioned" in s:  # a blank unit: nothing else to read
        problems = ([t("p.fw", n=len(diff))] if diff else []) + [t("p.unprovisioned")]
        for p in problems:
            click.echo(p, err=True)
        click.echo(t("chk.problems", n=len(problems), id=port), err=True)
        return 1

    def line(key: str, value: Any) -> None:
        click.echo(t("chk.line", key=t(key), value=value))

    line("chk.device", s.get("device_id"))
    line("chk.area", s.get("area"))
    line("chk.firmware", t("chk.fw_value", version=s.get("firmware"), hash=unit_hash,
                           same=t("chk.fw_same") if not diff else t("chk.fw_diff", n=len(diff))))
    if "trust_serial" in s:
        line("chk.trust", t("chk.trust_value", serial=s["trust_serial"],
                            expires=wib(s["trust_expires"]),
                            days=f"{(s['trust_expires'] - now) / DAY:.1f}"))
    else:
        line("chk.trust", s.get("trust_error"))
    line("chk.clock", t("chk.clock_value", time=wib(s.get("clock", 0)),
                        quality=t(f"chk.q{s.get('clock_q', 2)}"),
                        skew=int(s.get("clock", 0) - now)))
    line("chk.heap", f"{s.get('heap_free', 0) // 1024} KiB")
    if "flash_free" in s:
        line("chk.flash", t("chk.flash_value", free=s["flash_free"] // 1024,
                            total=s["flash_total"] // 1024))
    line("chk.unacked", s.get("unacked"))
    line("chk.dropped", s.get("dropped"))
    if not s.get("sync_counter"):
        line("chk.sync", t("chk.sync_never"))
    elif s.get("sync_fails"):
        line("chk.sync", t("chk.sync_failed", fails=s["sync_fails"]))
    else:
        line("chk.sync", t("chk.sync_ok", n=s["sync_counter"]))
    problems = health(s, diff, now, device)
    if s.get("staged"):
        click.echo(t("p.staged"))
    for p in problems:
        click.echo(p, err=True)
    if problems:
        click.echo(t("chk.problems", n=len(problems), id=s.get("device_id")), err=True)
        return 1
    click.echo(t("chk.healthy", id=s.get("device_id")))
    return 0


def sync_now(port: str, mpremote: str | None, no_reset: bool) -> int:
    unit = _unit(port, mpremote)
    out = run_on_unit(unit, "exec", device_code.SYNC)
    found = tagged(out, "Y")
    restart(unit, no_reset)
    if not found:
        raise failed("unit.answer", detail=out.strip()[-200:] or "-")
    e = found[-1]
    if not e.get("ok"):
        raise failed("sync.failed", err=e.get("err", "?"))
    click.echo(t("sync.ok", sent=e.get("sent"), acked=e.get("acked"),
                 bundle=t("yes") if e.get("bundle") else t("no"),
                 cfg=t("cfg.changed") if e.get("cfg") else t("cfg.same"), ms=e.get("took_ms")))
    if e.get("bundle_err"):  # the records are home; only the list's download failed
        click.echo(t("sync.bundle_err", err=e["bundle_err"]), err=True)
    return 0


def show_log(port: str, n: int, mpremote: str | None, no_reset: bool) -> int:
    from gerbang_protocol import ProtocolError, ScanRecord
    from gerbang_protocol.reason_text import reason_name, reason_text

    from .messages import lang
    from .qr import WIB

    unit = _unit(port, mpremote)
    out = run_on_unit(unit, "exec", device_code.CONFIG + "print('I', repr(c.get('device_id')))\n"
                      + device_code.LOG.format(n=n)[len(device_code.CONFIG):])
    ident = tagged(out, "I")
    head = tagged(out, "H")
    recs = tagged(out, "R")
    restart(unit, no_reset)
    if not head:
        raise failed("unit.answer", detail=out.strip()[-200:] or "-")
    next_seq, acked, first, k = head[-1]
    did = ident[-1] if ident else "?"
    if not k:
        click.echo(t("log.none", id=did, acked=acked))
        return 0
    click.echo(t("log.head", k=k, id=did, first=first, last=first + k - 1, acked=acked))
    for h in recs:
        try:
            r = ScanRecord.unpack(bytes.fromhex(h))
        except (ProtocolError, ValueError):
            continue
        when = datetime.fromtimestamp(r.time, WIB).strftime("%Y-%m-%d %H:%M:%S WIB")
        what = t("log.allow") if r.decision else t("log.deny")
        click.echo(f"#{r.seq:<6} {when}  {what:<5} {reason_name(r.reason):<14} "
                   f"{reason_text(r.reason, lang())}")
    return 0


def commands() -> list[click.Command]:
    from .provision import ARCHES, FIRMWARE

    port_opt = click.option("--port", required=True, help=t("opt.port"))
    mp_opt = click.option("--mpremote", type=click.Path(dir_okay=False), help=t("opt.mpremote"))
    reset_opt = click.option("--no-reset", is_flag=True, help=t("opt.no_reset"))
    units_opt = click.option("--units", default="units", show_default=True,
                             type=click.Path(file_okay=False), help=t("opt.units_dir"))
    keys_opt = click.option("--keys", default="keys", show_default=True,
                            type=click.Path(file_okay=False), help=t("opt.keydir"))
    arch_opt = click.option("--arch", type=click.Choice(ARCHES), default="xtensawin",
                            show_default=True, help=t("opt.arch"))
    fw_opt = click.option("--firmware", default=FIRMWARE, type=click.Path(file_okay=False,
                                                                          exists=True),
                          help=t("opt.firmware"))

    @click.group("unit", help=t("help.unit"))
    def unit() -> None:
        pass

    @unit.command("add", help=t("help.unit.add"))
    @click.option("--area", required=True, type=click.IntRange(1, 18), help=t("opt.unit_area"))
    @click.option("--id", "device_id", help=t("opt.unit_id"))
    @units_opt
    @keys_opt
    @click.option("--root-pub", help=t("opt.root_pub"))
    @click.option("--wifi-ssid", help=t("opt.wifi_ssid"))
    @click.option("--door-server", help=t("opt.door_server"))
    @fw_opt
    def add_cmd(area: int, device_id: str | None, units: str, keys: str, root_pub: str | None,
                wifi_ssid: str | None, door_server: str | None, firmware: str) -> None:
        if door_server:
            settings.check_url(door_server)
        add_unit(area, device_id, units, keys, root_pub, wifi_ssid, door_server, firmware)

    @unit.command("provision", help=t("help.unit.provision"))
    @port_opt
    @click.argument("device")
    @units_opt
    @keys_opt
    @arch_opt
    @fw_opt
    @mp_opt
    @click.option("--dry-run", is_flag=True, help=t("opt.dry_run"))
    @reset_opt
    def provision_cmd(port: str, device: str, units: str, keys: str, arch: str, firmware: str,
                      mpremote: str | None, dry_run: bool, no_reset: bool) -> int:
        from . import provision

        files = unit_files(units, keys, device)
        for k in ("config", "bundle", "key"):
            if not os.path.exists(files[k]):
                raise refused("unit.missing_files", path=files[k], id=device)
        args = provision.namespace(port=port, config=files["config"], bundle=files["bundle"],
                                   device_key=files["key"], arch=arch, firmware=firmware,
                                   mpremote=mpremote, dry_run=dry_run, no_reset=no_reset)
        bar: list[Any] = []

        def progress(done: int, total: int) -> None:
            if not bar:
                bar.append(click.progressbar(length=total, label=t("prov.progress"),
                                             show_percent=True, show_pos=False, file=None))
                bar[0].__enter__()
            b = bar[0]
            b.update(done - b.pos)
            if done >= total:
                b.__exit__(None, None, None)

        return provision.run(args, out=click.echo, progress=progress)

    @unit.command("check", help=t("help.unit.check"))
    @port_opt
    @click.option("--device", help=t("opt.expect_id"))
    @arch_opt
    @fw_opt
    @mp_opt
    @reset_opt
    def check_cmd(port: str, device: str | None, arch: str, firmware: str,
                  mpremote: str | None, no_reset: bool) -> int:
        return check_unit(port, arch, firmware, mpremote, device, no_reset)

    @unit.command("sync-now", help=t("help.unit.sync"))
    @port_opt
    @mp_opt
    @reset_opt
    def sync_cmd(port: str, mpremote: str | None, no_reset: bool) -> int:
        return sync_now(port, mpremote, no_reset)

    @unit.command("log", help=t("help.unit.log"))
    @port_opt
    @click.option("-n", "--lines", "n", type=click.IntRange(1, 200), default=20,
                  show_default=True, help=t("opt.lines"))
    @mp_opt
    @reset_opt
    def log_cmd(port: str, n: int, mpremote: str | None, no_reset: bool) -> int:
        return show_log(port, n, mpremote, no_reset)

    return [unit]
