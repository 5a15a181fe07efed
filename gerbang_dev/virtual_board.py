"""Virtual board launcher: one door unit in the MicroPython unix port, on pseudo-terminals.

A board directory holds: firmware/ (the firmware tree; its board layer is the board's "ROM"),
config.json, keys/trust.bin (the area's trust bundle), flash.img (littlefs2, 512 x 4 KiB: the
unit's flash), and while running board.json (hardware description), ptys.json (the pty paths),
events.jsonl (GPIO and app events), rtc.bin (RTC memory).

Running: `micropython -X heapsize=112K -i rom.py` on a pty (the interpreter of
gerbang_dev/interpreters.py: the 64-bit unix port by default, `--interpreter unix32` for the
32-bit build with ESP32 word size; the firmware is compiled for its arch, x64 or x86) (its controlling terminal, so
Ctrl-C interrupts main.py as on a real board). rom.py mounts flash.img at "/" and runs boot.py
and main.py from it. The launcher relays that pty to a second one, the REPL pty printed as
"repl": `mpremote connect <repl> ...` works as on a real board (raw REPL; a soft reset in raw
REPL restarts the interpreter and re-enters raw REPL without main.py, as MicroPython does).
The scanner UART is a third pty relayed to the "scanner" pty, for gerbang_dev/scanner_emulator.py.

First boot (or --reflash): the firmware (compiled with mpy-cross, as deployed), config.json
and the trust bundle are copied into the image by the board itself.

    gerbang virtual-board create DIR --config config.json --bundle trust.bin
    gerbang virtual-board run DIR [--time UNIX --synced]
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import pty
import select
import shutil
import signal
import struct
import subprocess
import sys
import termios
import threading
import time
import tty

from gerbang_dev.interpreters import ALL, UNIX64, Interpreter, by_name

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RAW_BANNER = b"raw REPL; CTRL-B to exit"
_RTC_MAGIC = 0x31544247  # gerbang.timekeeper: RTC memory record of the last trusted time

ROM = """\
# The virtual board's boot ROM (written by gerbang_dev/virtual_board.py): mount the flash image at /,
# the board directory at /host and /dev at /dev, then run boot.py and main.py from flash as
# MicroPython does. Compiled from source in the board's heap: few names (each is a qstr that
# is never freed); the first-boot installer is only in the ROM of an installing boot.
import gc, os, sys, vfs
sys.path[:0] = [{path!r}]
from board.blockdev import FileBlockDevice as b
# no read cache: on the ESP32 the flash driver's buffers are not on the Python heap either
b = b({dir!r} + "/flash.img", 4096, 512, cache=False)
try:
    f = vfs.VfsLfs2(b)
except OSError:
    vfs.VfsLfs2.mkfs(b)
    f = vfs.VfsLfs2(b)
vfs.umount("/")
vfs.mount(f, "/")
vfs.mount(vfs.VfsPosix({dir!r}), "/host")
vfs.mount(vfs.VfsPosix("/dev"), "/dev")
os.chdir("/")
sys.path[:] = ["", "/lib"]
for f in list(sys.modules):
    if f.startswith("board") or f.startswith("gerbang"):
        del sys.modules[f]
del b, f
{install}gc.collect()
for f in ("boot.py", "main.py") if {run_main!r} else ("boot.py",):
    try:
        os.stat(f)
    except OSError:
        continue
    with open(f) as b:
        b = compile(b.read(), f, "exec")
    gc.collect()
    exec(b, {{"__name__": "__main__", "__file__": f}})
    del b
    gc.collect()
"""

# First boot only: copy the compiled firmware, config and bundle into the image.
INSTALL = """\
def _copy(src, dst, buf):
    with open(src, "rb") as fi, open(dst, "wb") as fo:
        while True:
            n = fi.readinto(buf)
            if not n:
                break
            fo.write(buf[:n] if n < len(buf) else buf)


def _tree(src, dst, buf):
    for ent in os.ilistdir(src):
        s = src + "/" + ent[0]
        d = (dst + "/" + ent[0]) if dst else ent[0]
        if ent[1] == 0x4000:
            try:
                os.mkdir(d)
            except OSError:
                pass
            _tree(s, d, buf)
        else:
            _copy(s, d, buf)


_b = bytearray(512)
_tree("/host/build", "", _b)
_copy("/host/config.json", "config.json", _b)
try:
    _copy("/host/keys/trust.bin", "trust.bin", _b)
except OSError:
    pass  # no bundle: the unit starts without trust (every scan NO_TRUST)
del _b, _copy, _tree
"""


class EventLog:
    """Incremental reader of a board's events.jsonl (the GPIO and app events it writes)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.pos = 0
        self.items: list[dict] = []

    def poll(self) -> list[dict]:
        with open(self.path, "rb") as f:
            f.seek(self.pos)
            data = f.read()
        end = data.rfind(b"\n") + 1
        self.pos += end
        new = [e for line in data[:end].splitlines() if line for e in _events(line)]
        self.items.extend(new)
        return new

    def wait(self, pred, timeout: float = 10.0) -> dict | None:  # type: ignore[no-untyped-def]
        end = time.time() + timeout
        while True:
            for e in self.poll():
                if pred(e):
                    return e
            if time.time() > end:
                return None
            time.sleep(0.002)


def _events(line: bytes) -> list[dict]:
    """The events on one line of events.jsonl: normally one; a board killed in the middle of a
    write (older firmware wrote the newline separately) leaves a torn object with the next
    boot's event after it on the same line: the whole objects are kept, the torn part dropped."""
    text = line.decode(errors="replace")
    dec = json.JSONDecoder()
    out: list[dict] = []
    i = 0
    while i < len(text):
        try:
            e, i = dec.raw_decode(text, i)
        except json.JSONDecodeError:
            j = text.find("{", i + 1)
            if j < 0:
                break
            i = j
            continue
        if isinstance(e, dict):
            out.append(e)
    return out


def _march_file(dst: str) -> str:
    return dst.rstrip("/") + ".march"  # beside build/, not in it: build/ is copied to flash


def _compile_firmware(src: str, dst: str, mpy: bool, interp: Interpreter = UNIX64) -> None:
    """Copy (or mpy-cross -march=<the interpreter's>) every firmware file from src into dst."""
    if os.path.isdir(dst):
        shutil.rmtree(dst)
    for base, _dirs, files in os.walk(src):
        rel = os.path.relpath(base, src)
        if "__pycache__" in rel:
            continue
        os.makedirs(os.path.join(dst, rel), exist_ok=True)
        for name in files:
            if not name.endswith(".py"):
                continue
            s = os.path.join(base, name)
            keep_source = name in ("main.py", "boot.py") and rel == "."
            if mpy and not keep_source:
                out = os.path.join(dst, rel, name[:-3] + ".mpy")
                subprocess.run(interp.mpy_cross(s, out), check=True)
            else:
                shutil.copyfile(s, os.path.join(dst, rel, name))
    with open(_march_file(dst), "w") as f:
        f.write(interp.march if mpy else "source")


def _built_for(dst: str) -> str | None:
    try:
        with open(_march_file(dst)) as f:
            return f.read().strip()
    except OSError:
        return None


def create(board_dir: str, config: dict, bundle: bytes | None, firmware: str | None = None,
           mpy: bool = True, interp: Interpreter = UNIX64) -> str:
    """Make a board directory: firmware copy (+ compiled build/), config, keys. The image is
    created and provisioned by the board on its first boot."""
    firmware = firmware or os.path.join(ROOT, "firmware")
    os.makedirs(board_dir, exist_ok=True)
    fw = os.path.join(board_dir, "firmware")
    if os.path.abspath(firmware) != os.path.abspath(fw):
        if os.path.isdir(fw):
            shutil.rmtree(fw)
        shutil.copytree(firmware, fw, ignore=shutil.ignore_patterns("__pycache__"))
    _compile_firmware(fw, os.path.join(board_dir, "build"), mpy, interp)
    with open(os.path.join(board_dir, "config.json"), "w") as f:
        json.dump(config, f, indent=1)
    os.makedirs(os.path.join(board_dir, "keys"), exist_ok=True)
    if bundle is not None:
        with open(os.path.join(board_dir, "keys", "trust.bin"), "wb") as f:
            f.write(bundle)
    return board_dir


def _raw(fd: int, isig: bool = False) -> None:
    tty.setraw(fd)
    if isig:  # keep Ctrl-C -> SIGINT for the interpreter's terminal, nothing else
        a = termios.tcgetattr(fd)
        a[3] |= termios.ISIG
        termios.tcsetattr(fd, termios.TCSANOW, a)


class VirtualBoard:
    """Run a board directory. start() returns once the ptys exist; stop() ends everything."""

    def __init__(self, board_dir: str, heap: str = "112K", time_unix: int | None = None,
                 synced: bool = False, reflash: bool = False, mpy: bool = True,
                 log: str | None = None, interp: Interpreter = UNIX64) -> None:
        self.dir = os.path.abspath(board_dir)
        self.interp = interp
        self.heap = heap
        self.time_unix = time_unix
        self.synced = synced
        self.reflash = reflash
        self.mpy = mpy
        self.proc: subprocess.Popen[bytes] | None = None
        self.restarts = 0
        self._stop = threading.Event()
        self._raw_repl = False
        self._last_in = b""
        self._log = open(log, "ab") if log else None
        self.paths: dict[str, str] = {}

    # -- set-up --
    def _pty(self) -> tuple[int, int, str]:
        m, s = pty.openpty()
        return m, s, os.ttyname(s)

    def _hardware(self) -> None:
        d = self.dir
        offset = 0
        if self.time_unix is not None:
            offset = int(self.time_unix - time.time())
        for name in ("rtc.bin", "clock_offset"):
            p = os.path.join(d, name)
            if os.path.exists(p):
                os.remove(p)  # power-on: RTC memory and RTC time are gone
        if self.synced and self.time_unix is not None:
            t = int(self.time_unix)
            with open(os.path.join(d, "rtc.bin"), "wb") as f:
                f.write(struct.pack("<III", _RTC_MAGIC, t, _RTC_MAGIC ^ t))
        hw = {"scanner": self._uart_path, "events": "/host/events.jsonl",
              "rtc": "/host/rtc.bin", "clock_offset": offset, "clock_file": "/host/clock_offset"}
        with open(os.path.join(d, "board.json"), "w") as f:
            json.dump(hw, f, indent=1)
        open(os.path.join(d, "events.jsonl"), "w").close()

    def _write_rom(self, run_main: bool, install: bool) -> str:
        path = os.path.join(self.dir, "build" if self.mpy else "firmware")
        rom = os.path.join(self.dir, "rom.py")
        with open(rom, "w") as f:
            f.write(ROM.format(path=path, dir=self.dir, run_main=run_main,
                               install=INSTALL if install else ""))
        return rom

    def start(self) -> dict[str, str]:
        build = os.path.join(self.dir, "build")
        if not os.path.isdir(build) or (self.mpy and _built_for(build) != self.interp.march):
            # .mpy with viper code load only on the arch they were compiled for: a board made for
            # one interpreter and run on the other is compiled again (and must be --reflash'ed)
            _compile_firmware(os.path.join(self.dir, "firmware"), build, self.mpy, self.interp)
        self.repl_m, self.repl_s, repl = self._pty()  # the user's side (mpremote)
        self.mp_m, self.mp_s, _ = self._pty()  # the interpreter's stdio
        self.uart_m, self.uart_s, self._uart_path = self._pty()  # firmware's scanner UART
        self.emu_m, self.emu_s, scanner = self._pty()  # the emulator's side
        # (a pty's master and slave share one termios: set each once, on the slave)
        _raw(self.repl_s)
        _raw(self.emu_s)
        _raw(self.uart_s)
        _raw(self.mp_s, isig=True)
        self._hardware()
        install = self.reflash or not os.path.exists(os.path.join(self.dir, "flash.img"))
        self._spawn(run_main=True, install=install)
        self.paths = {"repl": repl, "scanner": scanner, "dir": self.dir}
        with open(os.path.join(self.dir, "ptys.json"), "w") as f:
            json.dump(self.paths, f, indent=1)
        threading.Thread(target=self._relay, daemon=True).start()
        return self.paths

    def _spawn(self, run_main: bool, install: bool = False, raw: bool = False) -> None:
        rom = self._write_rom(run_main, install)
        slave = self.mp_s

        def pre() -> None:
            os.setsid()
            fcntl.ioctl(0, termios.TIOCSCTTY, 0)

        self.proc = subprocess.Popen(
            [self.interp.exe(), "-X", "heapsize=" + self.heap, "-i", rom], stdin=slave, stdout=slave,
            stderr=slave, preexec_fn=pre, cwd=self.dir, close_fds=True,
            env={**self.interp.env(), "GERBANG_ROOT": ROOT})
        if raw:
            os.write(self.mp_m, b"\r\x01")  # back into raw REPL after the soft reset

    # -- running --
    def _relay(self) -> None:
        pairs = {self.repl_m: self.mp_m, self.mp_m: self.repl_m, self.emu_m: self.uart_m,
                 self.uart_m: self.emu_m}
        tail = b""
        while not self._stop.is_set():
            try:
                r, _, _ = select.select(list(pairs), [], [], 0.05)
            except (OSError, ValueError):
                return
            for fd in r:
                try:
                    data = os.read(fd, 4096)
                except OSError:
                    continue
                if fd == self.mp_m:
                    tail = (tail + data)[-64:]
                    if RAW_BANNER in tail:
                        self._raw_repl = True
                        tail = b""
                    if self._log:
                        self._log.write(data)
                        self._log.flush()
                elif fd == self.repl_m:
                    if b"\x02" in data:
                        self._raw_repl = False
                    self._last_in = data
                try:
                    os.write(pairs[fd], data)
                except OSError:
                    pass
            p = self.proc
            if p is not None and p.poll() is not None and not self._stop.is_set():
                self._reboot()

    def _reboot(self) -> None:
        """The interpreter exited (Ctrl-D, machine.reset(), crash): boot again like a board.
        After a soft reset in raw REPL, MicroPython stays in raw REPL and skips main.py."""
        raw = self._raw_repl
        self.restarts += 1
        os.write(self.repl_m, b"MPY: soft reboot\r\n")
        self._spawn(run_main=not raw, raw=raw)

    def events(self) -> list[dict]:
        out = []
        with open(os.path.join(self.dir, "events.jsonl")) as f:
            for line in f:
                if line.endswith("\n"):
                    out.append(json.loads(line))
        return out

    def wait_event(self, pred, timeout: float = 10.0, start: int = 0) -> dict | None:  # type: ignore[no-untyped-def]
        end = time.time() + timeout
        while time.time() < end:
            for e in self.events()[start:]:
                if pred(e):
                    return e
            time.sleep(0.02)
        return None

    def stop(self) -> None:
        self._stop.set()
        p = self.proc
        if p is not None and p.poll() is None:
            try:
                os.killpg(p.pid, signal.SIGTERM)
                p.wait(timeout=5)
            except (OSError, subprocess.TimeoutExpired):
                p.kill()
                p.wait()
        time.sleep(0.06)
        for fd in (self.repl_m, self.repl_s, self.mp_m, self.mp_s, self.uart_m, self.uart_s,
                   self.emu_m, self.emu_s):
            try:
                os.close(fd)
            except OSError:
                pass
        if self._log:
            self._log.close()

    def __enter__(self) -> VirtualBoard:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _bad(message: str, hint: str):  # type: ignore[no-untyped-def]
    import click

    return click.BadParameter(message, param_hint=hint)


def _interpreter(name: str) -> Interpreter:
    interp = by_name(name)
    why = interp.missing()
    if why:
        raise _bad(why, "--interpreter")
    return interp


def _cmd_create(args: argparse.Namespace) -> int:
    try:
        with open(args.config) as f:
            config = json.load(f)
    except OSError as e:
        raise _bad(f"cannot read {args.config}: {e.strerror}", "--config") from None
    except ValueError as e:
        raise _bad(f"{args.config} is not JSON ({e})", "--config") from None
    if not isinstance(config, dict) or type(config.get("area", 0)) is not int:
        raise _bad(f"{args.config}: not a unit config (docs/FIRMWARE.md)", "--config")
    if args.area:
        config["area"] = args.area
    bundle = None
    if args.bundle:
        try:
            with open(args.bundle, "rb") as f:
                bundle = f.read()
        except OSError as e:
            raise _bad(f"cannot read {args.bundle}: {e.strerror}", "--bundle") from None
    fw = args.firmware or os.path.join(ROOT, "firmware")
    if not os.path.isfile(os.path.join(fw, "main.py")):
        raise _bad(f"{fw} is not a firmware tree (no main.py)", "--firmware")
    try:
        create(args.dir, config, bundle, args.firmware, mpy=not args.source,
               interp=_interpreter(args.interpreter))
    except subprocess.CalledProcessError as e:
        raise _bad(f"mpy-cross failed on {e.cmd[-1]}", "--firmware") from None
    except OSError as e:
        raise _bad(f"cannot make {args.dir}: {e.strerror}", "DIR") from None
    print("board directory ready:", os.path.abspath(args.dir))
    return 0


def _cmd_run(args: argparse.Namespace) -> int:
    if not os.path.isfile(os.path.join(args.dir, "config.json")) or \
            not os.path.isdir(os.path.join(args.dir, "firmware")):
        raise _bad(f"{args.dir} is not a board directory: make one with `gerbang virtual-board "
                   "create DIR --config config.json`", "DIR")
    interp = _interpreter(args.interpreter)  # a missing interpreter: one line, what to do
    vb = VirtualBoard(args.dir, heap=args.heap, time_unix=args.time, synced=args.synced,
                      reflash=args.reflash, mpy=not args.source, log=args.log, interp=interp)

    def stop(signum: int, frame: object) -> None:
        raise KeyboardInterrupt  # SIGTERM/SIGHUP: stop the interpreter too, never orphan it

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGHUP, stop)
    try:
        paths = vb.start()
        print(json.dumps(paths), flush=True)
        print(f"repl:    mpremote connect {paths['repl']}", flush=True)
        print(f"scanner: gerbang scanner-emulator --port {paths['scanner']} serve", flush=True)
        while True:
            time.sleep(1)
    except KeyboardInterrupt:
        pass
    finally:
        vb.stop()
    return 0


def register():  # type: ignore[no-untyped-def]
    """The `gerbang virtual-board` click group (entry point gerbang.dev_commands)."""
    import click

    @click.group("virtual-board", help=__doc__, short_help="run a virtual door unit on ptys")
    def group() -> None:
        pass

    @group.command("create", help="make a board directory for an area")
    @click.argument("dir", type=click.Path(dir_okay=True, file_okay=False))
    @click.option("--config", required=True, help="the unit's config.json (docs/FIRMWARE.md)")
    @click.option("--area", type=click.IntRange(1, 18), help="override the config's area")
    @click.option("--bundle", help="the area's trust bundle (binary)")
    @click.option("--firmware", type=click.Path(file_okay=False),
                  help="firmware tree (default: this checkout's firmware/)")
    @click.option("--source", is_flag=True, help="install .py instead of .mpy")
    @click.option("--interpreter", type=click.Choice([i.name for i in ALL]), default=UNIX64.name,
                  help="compile the firmware for this MicroPython (unix32: ESP32 word size)")
    def create_cmd(**kw) -> int:  # type: ignore[no-untyped-def]
        return _cmd_create(argparse.Namespace(**kw))

    @group.command("run", help="start the board; prints the pty paths")
    @click.argument("dir")
    @click.option("--heap", default="112K", help="GC heap (the ESP32's is 112K)")
    @click.option("--time", "time_", type=click.IntRange(0, 2**32 - 1),
                  help="unix time the board's RTC starts at")
    @click.option("--synced", is_flag=True, help="RTC memory says: synced at --time")
    @click.option("--reflash", is_flag=True, help="copy firmware/config/keys again")
    @click.option("--source", is_flag=True, help="run .py instead of .mpy")
    @click.option("--log", type=click.Path(dir_okay=False),
                  help="append the interpreter's console output to this file")
    @click.option("--interpreter", type=click.Choice([i.name for i in ALL]), default=UNIX64.name,
                  help="MicroPython to run: unix64 (PyPI port) or unix32 (ESP32 word size, "
                       "../shared/micropython32)")
    def run_cmd(time_: int | None, heap: str, **kw) -> int:  # type: ignore[no-untyped-def]
        import re

        if not re.fullmatch(r"[0-9]{2,6}[KM]?", heap):
            raise _bad(f"{heap!r} is not a heap size like 112K", "--heap")
        return _cmd_run(argparse.Namespace(time=time_, heap=heap, **kw))

    return group


if __name__ == "__main__":
    from gerbang_cli.cli import run_module

    sys.exit(run_module("virtual-board"))
