"""Scanner emulator: the host end of a virtual board's scanner UART, behaving like a GM65.

It answers zone-bit command frames (7E 00 <type> <len> <addr> <data> <crc>) like the module:
reads return the register value, writes and saves are acknowledged with 02 00 00 01 00 33 31,
a frame with a bad CRC gets no answer. It sends codes terminated by "\\r", and can split them
into pieces with delays, send them several times (the module's continuous-mode repeat) and
corrupt bytes (line noise). With --baud it paces bytes like the real line (10 bits a byte).

Line rate: the module talks at the rate in its baud register 0x002A (factory 39 01 = 9600). A
write of 0x002A is acknowledged at the old rate, then the module switches (1A 00 = 115200), as
a GM65 does; `switches=False` models a module that acknowledges but stays put (other model).
Given `line` (the virtual board's uart_baud file, where its UART writes its rate; --board finds
it), every byte either way is garbled while the two rates differ, as on a real mismatched line.

    gerbang scanner-emulator --port /dev/pts/7 send "GB1:..." --split 3 --delay 0.02
    python -m gerbang_dev.scanner_emulator --port /dev/pts/7 serve
"""

from __future__ import annotations

import argparse
import os
import random
import select
import sys
import threading
import time
import tty

HEAD, REPLY = 0x7E, 0x02
T_READ, T_WRITE, T_SAVE = 0x07, 0x08, 0x09
# Factory values of the registers the firmware touches (GM65 manual defaults).
DEFAULT_REGISTERS = {0x0000: 0xD4, 0x000D: 0x00, 0x0013: 0x85, 0x002A: 0x39, 0x002B: 0x01,
                     0x002C: 0x02, 0x003F: 0x01}
REG_BAUD = 0x002A  # 2 bytes, low byte first
# Baud register values: GM65 manual ("set baud rate to 9600": 7E 00 08 02 00 2A 39 01 ...) and
# specter-diy's GM65 driver (1A 00 = 115200). Only these two are modelled.
BAUD_VALUES = {0x0139: 9600, 0x001A: 115200}


def crc16(data: bytes) -> int:
    """CRC16-CCITT/XMODEM (poly 0x1021, init 0)."""
    crc = 0
    for b in data:
        crc ^= b << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) & 0xFFFF if crc & 0x8000 else (crc << 1) & 0xFFFF
    return crc


def reply(data: bytes) -> bytes:
    body = bytes([0, len(data)]) + data
    c = crc16(body)
    return bytes([REPLY, 0]) + body + bytes([c >> 8, c & 0xFF])


def command(kind: int, addr: int, data: bytes, check: bool = True) -> bytes:
    body = bytes([kind, len(data), addr >> 8, addr & 0xFF]) + data
    c = crc16(body) if check else 0xABCD
    return bytes([HEAD, 0]) + body + bytes([c >> 8, c & 0xFF])


def open_raw(path: str) -> int:
    fd = os.open(path, os.O_RDWR | os.O_NOCTTY)
    tty.setraw(fd)
    return fd


class ScannerEmulator:
    """A GM65 on the other end of `port`. Thread-safe send_*; call close() when done."""

    def __init__(self, port: str, baud: int | None = None, registers: dict[int, int] | None = None,
                 drop_replies: int = 0, corrupt_replies: int = 0, seed: int = 1,
                 line: str | None = None, switches: bool = True) -> None:
        self.port = port
        self.baud = baud  # pacing (None: pty speed); follows the module's rate when it switches
        self.fd = open_raw(port)
        self.registers = dict(DEFAULT_REGISTERS if registers is None else registers)
        self.rate = self._register_rate()
        self.line = line
        self.switches = switches
        self.garbled = 0  # bytes garbled by a rate mismatch (both directions)
        self.commands: list[tuple[int, int, bytes]] = []
        self.bad_frames = 0
        self.drop_replies = drop_replies
        self.corrupt_replies = corrupt_replies
        self.rng = random.Random(seed)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._buf = bytearray()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    # -- the module's side of the command protocol --
    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                r, _, _ = select.select([self.fd], [], [], 0.05)
                if not r:
                    continue
                data = os.read(self.fd, 4096)
            except OSError:
                time.sleep(0.05)
                continue
            self._buf.extend(self._garble(data))
            self._parse()

    # -- the line rate --
    def _register_rate(self) -> int:
        r = self.registers
        return BAUD_VALUES.get(r.get(REG_BAUD, 0x39) | (r.get(REG_BAUD + 1, 0x01) << 8), 9600)

    def line_rate(self) -> int | None:
        """The board UART's rate (None: no line file, rates not modelled)."""
        if not self.line:
            return None
        try:
            with open(self.line) as f:
                return int(f.read().strip() or 0) or None
        except (OSError, ValueError):
            return None

    def _garble(self, data: bytes) -> bytes:
        lr = self.line_rate()
        if lr is None or lr == self.rate or not data:
            return data
        # a receiver at the wrong rate sees framing errors: bytes unrelated to the ones sent
        # (never CR, STX or 7E: no frame survives)
        self.garbled += len(data)
        return bytes(0x80 | self.rng.randrange(128) for _ in data)

    def _parse(self) -> None:
        buf = self._buf
        while buf:
            if buf[0] != HEAD:
                del buf[0]
                continue
            if len(buf) < 2:
                return
            if buf[1] != 0:
                del buf[0]
                continue
            if len(buf) < 6:
                return
            n = buf[3]
            if len(buf) < 8 + n:
                return
            frame = bytes(buf[:8 + n])
            del buf[:8 + n]
            self._answer(frame)

    def _answer(self, frame: bytes) -> None:
        kind, n = frame[2], frame[3]
        addr = (frame[4] << 8) | frame[5]
        data = frame[6:6 + n]
        tail = (frame[6 + n] << 8) | frame[7 + n]
        if tail != 0xABCD and tail != crc16(frame[2:6 + n]):
            self.bad_frames += 1
            return  # the module ignores a frame with a wrong CRC
        self.commands.append((kind, addr, bytes(data)))
        if kind == T_READ:
            count = data[0] if data else 1
            rep = reply(bytes(self.registers.get(addr + i, 0) for i in range(count)))
        elif kind == T_WRITE:
            before = self._register_rate()
            for i, b in enumerate(data):
                self.registers[addr + i] = b
            rep = reply(b"\x00")
            if self._register_rate() != before:
                self._ack_then_switch(rep)
                return
        elif kind == T_SAVE:
            rep = reply(b"\x00")
        else:
            return
        if self.drop_replies:
            self.drop_replies -= 1
            return
        if self.corrupt_replies:
            self.corrupt_replies -= 1
            rep = rep[:-1] + bytes([rep[-1] ^ 0xFF])
        self.send(rep)

    def _ack_then_switch(self, rep: bytes) -> None:
        # the ACK goes out at the old rate, then the module talks at the new one
        if not self.drop_replies:
            self.send(rep)
        else:
            self.drop_replies -= 1
        if self.switches:
            self.rate = self._register_rate()
            if self.baud:
                self.baud = self.rate
        else:
            self.registers[REG_BAUD], self.registers[REG_BAUD + 1] = 0x39, 0x01

    # -- sending --
    def send(self, data: bytes) -> None:
        """Write raw bytes (paced at the baud rate when one was given)."""
        with self._lock:
            data = self._garble(data)
            if self.baud:
                per = 10.0 / self.baud
                for i in range(0, len(data), 16):
                    os.write(self.fd, data[i:i + 16])
                    time.sleep(per * len(data[i:i + 16]))
            else:
                view = memoryview(data)
                while view:
                    n = os.write(self.fd, view)
                    view = view[n:]

    def send_code(self, code: str | bytes, split: int = 1, delay: float = 0.0,
                  duplicate: int = 1, corrupt: int = 0, repeat_gap: float = 0.0,
                  suffix: bytes = b"\r") -> bytes:
        """Send a code like the module: `split` pieces with `delay` s between them, `duplicate`
        times (with `repeat_gap` s between), `corrupt` random bytes flipped to control bytes.
        Returns the bytes of one frame as sent."""
        raw = code.encode() if isinstance(code, str) else bytes(code)
        frame = bytearray(raw + suffix)
        for _ in range(corrupt):
            i = self.rng.randrange(len(raw)) if raw else 0
            frame[i] = self.rng.choice([0x00, 0x01, 0x13, 0x1B, 0x7F])
        frame_b = bytes(frame)
        for d in range(duplicate):
            if d and repeat_gap:
                time.sleep(repeat_gap)
            if split <= 1:
                self.send(frame_b)
                continue
            step = max(1, -(-len(frame_b) // split))
            for i in range(0, len(frame_b), step):
                if i and delay:
                    time.sleep(delay)
                self.send(frame_b[i:i + step])
        return frame_b

    def send_garbage(self, n: int, with_cr: bool = True) -> bytes:
        data = bytes(self.rng.randrange(256) for _ in range(n))
        if with_cr:
            data += b"\r"
        self.send(data)
        return data

    def uart_seconds(self, nbytes: int, baud: int = 9600) -> float:
        """Time the real line needs for nbytes at baud, 8N1 (10 bits a byte)."""
        return nbytes * 10.0 / baud

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=1)
        try:
            os.close(self.fd)
        except OSError:
            pass

    def __enter__(self) -> ScannerEmulator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _port(args: argparse.Namespace) -> str:
    import json

    import click

    if args.port:
        return args.port
    if args.board:
        try:
            with open(os.path.join(args.board, "ptys.json")) as f:
                return json.load(f)["scanner"]
        except (OSError, ValueError, KeyError):
            raise click.BadParameter(f"{args.board} is not a running virtual board (no "
                                     "ptys.json): start `gerbang virtual-board run DIR`",
                                     param_hint="--board") from None
    raise click.UsageError("give --port PTY or --board DIR (a running virtual board)")


def cmd(args: argparse.Namespace) -> int:
    import click

    if args.action == "send" and not args.codes:
        raise click.UsageError("send: give at least one CODE")
    if args.action == "send-file" and len(args.codes) != 1:
        raise click.UsageError("send-file: give one FILE (a code a line)")
    codes = [c.strip() for c in args.codes]
    if args.action == "send-file":
        try:
            with open(args.codes[0]) as f:
                codes = [line.strip() for line in f if line.strip()]
        except (OSError, UnicodeDecodeError) as e:
            raise click.BadParameter(f"cannot read {args.codes[0]}: {e}", param_hint="FILE") \
                from None
    port = _port(args)
    line = os.path.join(args.board, "uart_baud") if args.board else None
    try:
        em = ScannerEmulator(port, baud=args.baud, seed=args.seed, line=line)
    except OSError as e:
        raise click.BadParameter(f"cannot open {port}: {e.strerror}; give the scanner pty "
                                 "that `gerbang virtual-board run` printed", param_hint="--port") \
            from None
    try:
        if args.action == "serve":
            print("emulating a GM65 on", em.port, "(Ctrl-C to stop)", flush=True)
            while True:
                time.sleep(1)
        for c in codes:
            em.send_code(c, split=args.split, delay=args.delay, duplicate=args.dup,
                         corrupt=args.corrupt, repeat_gap=args.repeat_gap)
            time.sleep(args.gap)
        time.sleep(0.3)  # answer what the board may still ask
        for kind, addr, data in em.commands:
            print(f"command {kind:02x} addr {addr:04x} data {data.hex()}")
    except KeyboardInterrupt:
        pass
    finally:
        em.close()
    return 0


def register():  # type: ignore[no-untyped-def]
    """The `gerbang scanner-emulator` click command (entry point gerbang.dev_commands)."""
    import click

    secs = click.FloatRange(0, 60)

    @click.command("scanner-emulator", help=__doc__, short_help="GM65 scanner emulator on a pty")
    @click.option("--port", help="pty or serial device of the board's scanner UART")
    @click.option("--board", type=click.Path(file_okay=False),
                  help="virtual board directory (reads its ptys.json)")
    @click.option("--baud", type=click.Choice(["9600", "115200"]), default=None,
                  help="pace bytes like a real line")
    @click.option("--seed", type=int, default=1)
    @click.argument("action", type=click.Choice(["serve", "send", "send-file"]))
    @click.argument("codes", nargs=-1)
    @click.option("--split", type=click.IntRange(1, 1000), default=1,
                  help="send each code in N pieces")
    @click.option("--delay", type=secs, default=0.0, help="seconds between pieces")
    @click.option("--dup", type=click.IntRange(1, 100), default=1, help="send each code N times")
    @click.option("--repeat-gap", type=secs, default=0.0, help="seconds between duplicates")
    @click.option("--corrupt", type=click.IntRange(0, 1000), default=0,
                  help="flip N bytes to control bytes")
    @click.option("--gap", type=secs, default=0.5, help="seconds between codes")
    def scanner_emulator(baud: str | None, **kw) -> int:  # type: ignore[no-untyped-def]
        return cmd(argparse.Namespace(baud=int(baud) if baud else None, **kw))

    return scanner_emulator


if __name__ == "__main__":
    from gerbang_cli.cli import run_module

    sys.exit(run_module("scanner-emulator"))
