"""Provision a door unit over mpremote: one command, safe to re-run (docs/FIRMWARE.md).

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

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.dirname(sys.executable)
FIRMWARE = os.path.join(ROOT, "firmware")
CODE_DIRS = ("gerbang", "board")  # compiled; stale .py/.mpy files in them are removed
SOURCE_FILES = ("boot.py", "main.py")  # compiled on the unit, from source
DEVICE_KEY = "device.key"  # on the unit's flash; read by the sync client
TMP = ".prov"
ARCHES = ("xtensawin", "x64", "x86")
HEX64 = re.compile(r"[0-9a-f]{64}")
DEVICE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,31}")  # as gerbang_server/admin.py registers
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
        raise InputError(f"config {key}: {v!r} is not a plain name on the unit's flash")
    return v


def validate_config(raw: bytes) -> dict:
    """The config as main.py and the app read it (docs/FIRMWARE.md "Config")."""
    try:
        cfg = json.loads(raw.decode())
    except (UnicodeDecodeError, ValueError) as e:
        raise InputError(f"config: not JSON ({e})") from None
    if not isinstance(cfg, dict):
        raise InputError("config: not a JSON object")
    dev = cfg.get("device_id")
    if not isinstance(dev, str) or not DEVICE_ID.fullmatch(dev):
        raise InputError(f"config device_id: {dev!r} is not a device id (the server's: "
                         "[A-Za-z0-9][A-Za-z0-9._-], at most 32)")
    area = cfg.get("area")
    if type(area) is not int or not 1 <= area <= MAX_AREA:
        raise InputError(f"config area: {area!r} is not 1..{MAX_AREA}")
    root = cfg.get("root_pub")
    if not isinstance(root, str) or not HEX64.fullmatch(root):
        raise InputError("config root_pub: not 64 lowercase hex digits (the pinned root key)")
    for k in ("sync_interval_s", "relay_ms", "scan_debounce_ms", "char_timeout_ms",
              "scanner_same_delay_ms", "baud", "uart", "wdt_ms", "awake_ms", "idle_ms"):
        if k in cfg and (type(cfg[k]) is not int or cfg[k] < 0):
            raise InputError(f"config {k}: {cfg[k]!r} is not a non-negative integer")
    if cfg.get("baud", 115200) not in (9600, 115200):
        raise InputError(f"config baud: {cfg['baud']!r}: the scanner driver knows 9600 and 115200")
    if cfg.get("scanner_mode", "continuous") not in ("continuous", "induction", "command",
                                                      "manual"):
        raise InputError(f"config scanner_mode: {cfg['scanner_mode']!r} is not a known mode")
    pins = cfg.get("pins", {})
    if not isinstance(pins, dict) or any(type(v) is not int for v in pins.values()):
        raise InputError("config pins: not an object of integers")
    wifi = cfg.get("wifi", {})
    if not isinstance(wifi, dict):
        raise InputError("config wifi: not an object {ssid, key}")
    names = [_relname(cfg, k, d) for k, d in (("trust_path", "trust.bin"), ("log_dir", "log"),
                                              ("floor_path", "time.floor"))]
    if len(set(names)) != 3:
        raise InputError("config trust_path, log_dir and floor_path must differ")
    return cfg


def open_bundle_for(bundle: bytes, cfg: dict):  # type: ignore[no-untyped-def]
    """The bundle's trust list, verified under the config's root for the config's area."""
    from gerbang_protocol import ProtocolError, open_bundle

    try:
        _kc, tl = open_bundle(bundle, bytes.fromhex(cfg["root_pub"]), None)
    except (ProtocolError, ValueError) as e:
        raise InputError(f"bundle: does not verify under the config's root_pub ({e})") from None
    if tl.area != cfg["area"]:
        raise InputError(f"bundle: trust list for area {tl.area}, the config says area "
                         f"{cfg['area']}")
    return tl


def read_device_key(path: str, device_id: str) -> bytes:
    """The device key file as it goes onto the unit (64 hex digits + newline)."""
    from gerbang_protocol import load_private_key, public_key_bytes

    stem = os.path.basename(path)
    stem = stem[:-4] if stem.endswith(".key") else stem
    if stem != device_id:
        raise InputError(f"device key {path}: made for device {stem!r}, the config's device_id "
                         f"is {device_id!r}")
    try:
        with open(path) as f:
            text = f.read().strip().lower()
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(f"device key {path}: unreadable ({e})") from None
    if not HEX64.fullmatch(text):
        raise InputError(f"device key {path}: not 64 hex digits (an Ed25519 seed)")
    pub = public_key_bytes(load_private_key(bytes.fromhex(text)))
    pub_path = path[:-4] + ".pub" if path.endswith(".key") else path + ".pub"
    if os.path.exists(pub_path):
        with open(pub_path) as f:
            if f.read().strip().lower() != pub.hex():
                raise InputError(f"device key {path}: does not match {pub_path}")
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
        raise InputError(f"{firmware}: not a firmware tree (gerbang/, board/)")
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
        raise InputError(f"{firmware}: no main.py")
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
            raise UnitError(f"mpremote: no answer from {self.port} in {self.timeout:.0f} s") \
                from None
        if r.returncode:
            raise UnitError(f"mpremote failed ({r.returncode}): {(r.stderr or r.stdout).strip()}")
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
            raise UnitError(f"unexpected answer to the file survey: {out[-400:]!r}")
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
            raise UnitError(f"soft reset: {e} (files are in place and verified)") from None


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
        raise InputError(f"{what} {path}: {e.strerror}") from None


def _fmt_bytes(n: int) -> str:
    return f"{n} B" if n < 10240 else f"{n / 1024:.1f} KiB"


def provision(args: argparse.Namespace, out=print) -> int:  # type: ignore[no-untyped-def]
    t0 = time.time()
    # 1-2: build and check everything before touching the unit
    cfg = validate_config(_read(args.config, "config"))
    bundle = _read(args.bundle, "bundle")
    tl = open_bundle_for(bundle, cfg)
    if tl.expires <= time.time():
        out(f"warning: the bundle's trust list expired at {tl.expires} (this laptop's clock): "
            "the unit will deny every scan until it syncs a newer one")
    key = read_device_key(args.device_key, cfg["device_id"]) if args.device_key else None
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
        out(f"device {cfg['device_id']}, area {cfg['area']}, trust list serial {tl.serial}, "
            f"{len(files)} files ({args.arch})")

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
                pl.notes.append(f"kept the unit's trust list (serial {keep} > {tl.serial}: "
                                "no rollback)")
        if key is not None and hashes.get("/" + DEVICE_KEY) and "/" + DEVICE_KEY in pl.copy:
            pl.notes.append("the unit's device key is REPLACED: register the new public key on "
                            "the server")
        for n in pl.notes:
            out(n)
        sent = sum(os.path.getsize(files[p]) for p in pl.copy)
        if args.dry_run:
            for p in pl.copy:
                out(f"would copy {p} ({os.path.getsize(files[p])} B)")
            for p in pl.remove:
                out(f"would remove {p}")
            out(f"dry run: {len(pl.copy)} to copy ({_fmt_bytes(sent)}), {len(pl.same)} "
                f"unchanged, {len(pl.remove)} to remove; nothing written")
            return 0

        # copy: a failed or interrupted run leaves at worst NAME.prov files (removed next run)
        rounds = 0
        todo = list(pl.copy)
        bad: list[str] = []
        while True:
            if todo or pl.remove or pl.mkdirs:
                cmd = ["exec", PREPARE.format(remove=pl.remove, mkdirs=pl.mkdirs)]
                for p in todo:
                    cmd += ["+", "fs", "cp", "-f", files[p], ":" + p + TMP,
                            "+", "exec", RENAME.format(a=p + TMP, b=p)]
                unit.run(*cmd)
                for p in todo:
                    out(f"copied {p} ({os.path.getsize(files[p])} B)")
                for p in pl.remove:
                    out(f"removed {p}")
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
            out(f"FAILED: {len(bad)} files still differ on the unit: {', '.join(sorted(bad))}")
            return 1
        if not pl.copy:
            out("the unit is up to date: nothing copied")
        # 6: restart into the new firmware
        if not args.no_reset:
            unit.soft_reset()
            out("unit soft-reset: main.py starts")
        out(f"summary: {len(pl.copy)} copied, {len(pl.same)} unchanged, {len(files)} verified, "
            f"{len(pl.remove)} removed, {_fmt_bytes(sent)} sent, {unit.calls} mpremote calls, "
            f"{time.time() - t0:.1f} s")
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


def cmd(args: argparse.Namespace) -> int:
    try:
        return provision(args)
    except InputError as e:
        print(f"refused: {e}; nothing written to the unit", file=sys.stderr)
        return 2
    except UnitError as e:
        print(f"unit error: {e}\nre-run the same command to finish the job", file=sys.stderr)
        return 1


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--port", required=True, help="the unit's serial port (mpremote connect)")
    p.add_argument("--config", required=True, help="the unit's config.json (docs/FIRMWARE.md)")
    p.add_argument("--bundle", required=True, help="the area's trust bundle (binary)")
    p.add_argument("--device-key", help="keys/devices/ID.key: goes onto the unit only")
    p.add_argument("--arch", choices=ARCHES, default="xtensawin",
                   help="mpy-cross -march (x64 for a virtual board on this machine, x86 for one "
                        "on the 32-bit build)")
    p.add_argument("--firmware", default=FIRMWARE, help="firmware tree (default: this checkout)")
    p.add_argument("--mpremote", help="mpremote executable (default: next to this Python)")
    p.add_argument("--dry-run", action="store_true", help="show what would change, write nothing")
    p.add_argument("--no-reset", action="store_true", help="do not soft-reset the unit at the end")
    p.set_defaults(func=cmd)


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    from gerbang_cli.cli import subcommand

    add_arguments(subcommand(subparsers, "provision", "flash and provision a door unit over "
                             "mpremote (re-runnable)", __doc__))


if __name__ == "__main__":
    from gerbang_cli.cli import run_module

    sys.exit(run_module("provision"))
