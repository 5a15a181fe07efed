"""Scanner driver: framing, ACK stripping, noise, timeouts, debounce, bounded memory, configure.

Fakes only at the board boundary: a UART that hands out queued bytes in chunks, a ticks clock,
and a fake GM65 that answers command frames written to the UART.
"""

import gc

from fwtest import check
from gerbang import scanner, zonebit


class Clock:
    def __init__(self):
        self.t = 1000

    def ticks(self):
        return self.t

    def sleep(self, ms):
        self.t += ms


class FakeUART:
    def __init__(self, chunk=64):
        self.rx = bytearray()
        self.tx = bytearray()
        self.chunk = chunk
        self.rate = 9600
        self.inits = []

    def init(self, baudrate=9600):
        self.rate = baudrate
        self.inits.append(baudrate)

    def feed(self, data):
        self.rx.extend(data)

    def any(self):
        return len(self.rx)

    def readinto(self, buf):
        n = min(len(buf), len(self.rx), self.chunk)
        if not n:
            return None
        buf[:n] = self.rx[:n]
        self.rx = self.rx[n:]
        return n

    def write(self, data):
        self.tx.extend(data)
        return len(data)


_BAUDS = {0x0139: 9600, 0x001A: 115200}


class FakeModule(FakeUART):
    """Answers zone-bit commands like a GM65; drop_first replies are lost (to test retries).
    The line has a rate: the module talks at module_rate, and while the UART's rate differs
    both directions are garbled. A write of 0x002A is acknowledged at the old rate, then the
    module switches (unless switches=False: another model that acknowledges and stays put;
    baud_reg=False: one that does not know the register and never answers it)."""

    def __init__(self, drop_first=0, corrupt_first=0, preamble=b"", module_rate=9600,
                 switches=True, baud_reg=True):
        super().__init__()
        self.regs = {0: 0xD5, 0x0D: 0x01}
        self.drop = drop_first
        self.corrupt = corrupt_first
        self.frames = []
        self.preamble = preamble
        self.module_rate = module_rate
        self.switches = switches
        self.baud_reg = baud_reg

    def feed(self, data):
        if self.rate != self.module_rate:  # framing errors: nothing of the frame survives
            data = bytes(0x80 | (b * 7 + 3) & 0x7F for b in data)
        self.rx.extend(data)

    def write(self, data):
        self.tx.extend(data)
        if self.rate != self.module_rate:
            return len(data)  # the module sees garbage
        st, kind, addr, d0, n = zonebit.parse_command(data)
        if st <= 0:
            return len(data)
        self.frames.append((kind, addr, bytes(data[d0:d0 + n]), self.rate))
        new_rate = 0
        if kind == zonebit.T_READ:
            rep = zonebit.reply(bytes(self.regs.get(addr + i, 0) for i in range(data[d0])))
        else:
            if kind == zonebit.T_WRITE:
                if addr == zonebit.REG_BAUD:
                    if not self.baud_reg:
                        return len(data)
                    new_rate = _BAUDS.get(data[d0] | (data[d0 + 1] << 8), 0) if n == 2 else 0
                    if not new_rate:
                        return len(data)
                    if self.switches:
                        for i in range(n):
                            self.regs[addr + i] = data[d0 + i]
                else:
                    for i in range(n):
                        self.regs[addr + i] = data[d0 + i]
            rep = zonebit.reply(b"\x00")
        if self.drop:
            self.drop -= 1
            return len(data)
        if self.corrupt:
            self.corrupt -= 1
            rep = rep[:-1] + bytes((rep[-1] ^ 0xFF,))
        self.feed(self.preamble + rep)
        self.preamble = b""
        if new_rate and self.switches:
            self.module_rate = new_rate
        return len(data)


def make(uart=None, **kw):
    clk = Clock()
    u = uart or FakeUART()
    return scanner.Scanner(u, clk.ticks, sleep_ms=clk.sleep, **kw), u, clk


def drain(sc):
    """All codes currently readable, as bytes (TOO_LONG kept as the int)."""
    out = []
    while True:
        n = sc.poll()
        if n == 0:
            return out
        out.append(n if n < 0 else bytes(sc.code[:n]))


def test_reads_code_ending_in_cr():
    sc, u, clk = make()
    u.feed(b"GB1:ABC\r")
    check(drain(sc) == [b"GB1:ABC"])


def test_split_frame_within_timeout_joins():
    sc, u, clk = make(char_timeout_ms=100)
    u.feed(b"GB1:A")
    check(drain(sc) == [])
    clk.t += 50
    u.feed(b"BC\r")
    check(drain(sc) == [b"GB1:ABC"])


def test_split_frame_after_timeout_is_dropped_and_resyncs():
    sc, u, clk = make(char_timeout_ms=100)
    u.feed(b"GB1:A")
    check(drain(sc) == [])
    clk.t += 150
    u.feed(b"BC\rGB1:XY\r")
    check(drain(sc) == [b"BC", b"GB1:XY"])
    check(sc.timeouts == 1)


def test_strips_ack_frames_between_codes():
    sc, u, clk = make()
    ack = zonebit.reply(b"\x00")
    check(ack == bytes.fromhex("02000001003331"))  # the GM65's ACK, as on the wire
    u.feed(ack + b"GB1:QQ\r" + ack + ack + zonebit.reply(b"\xd5\x01") + b"GB1:ZZ\r")
    check(drain(sc) == [b"GB1:QQ", b"GB1:ZZ"])
    check(sc.acks == 4 and sc.noise == 0)


def test_reply_inside_a_line_is_noise():
    # the module never splits its own output: a reply can only start a line
    sc, u, clk = make()
    u.feed(b"GB1:" + zonebit.reply(b"\x00") + b"QQ\rGB1:OK\r")
    check(drain(sc) == [b"GB1:OK"])
    check(sc.noise == 1 and sc.acks == 0)


def test_reply_with_cr_inside_is_stripped():
    # replies whose data or CRC holds 0x0D (data 13, 116, 183, 253): its "\r" ends no line
    for d in (13, 116, 183, 253):
        sc, u, clk = make()
        rep = zonebit.reply(bytes((d,)))
        check(b"\r" in rep[4:])
        u.feed(b"GB1:A\r" + rep + b"GB1:B\r")
        check(drain(sc) == [b"GB1:A", b"GB1:B"], "data %d" % d)
        check(sc.acks == 1 and sc.noise == 0, "data %d" % d)


# Issue 10: noise starting 02 00 00 40 right after a CR was taken for a 64-byte reply and
# swallowed the next 66 bytes: the visitor's code, whose tail then came out as a code (a deny)
_CODE = b"GB1:6BFOXN*TS0BI$ZD4N9:9S6RCVN5+O30K3/XIV0W23NTDEXWK G2EP4J0B3KL6QM5/OVGA/MAT%ZSF"


def test_noise_like_a_reply_header_never_swallows_the_next_code():
    for noise in (b"\x02\x00\x00\x40", b"\x02\x00\x00\xff", b"\x02\x00\x00\x01",
                  b"\x02\x00\x00\x02\x41", b"\x02\x00\x00", b"\x02", b"\x02\x00\x00\x01\x00\x33"):
        for chunk in (1, 3, 64):
            sc, u, clk = make(uart=FakeUART(chunk=chunk))
            u.feed(b"GB1:FIRST\r" + noise + b"\r" + _CODE + b"\r")
            check(drain(sc) == [b"GB1:FIRST", _CODE], "%r chunk %d" % (noise, chunk))
            check(sc.noise == 1 and sc.acks == 0 and sc.codes == 2)
    # a header whose length is 1 and whose "data" is the "\r": the code after it stays whole
    sc, u, clk = make()
    u.feed(b"\x02\x00\x00\x01\r" + _CODE + b"\r")
    check(drain(sc) == [_CODE])


def test_high_bytes_are_noise_never_a_code():
    sc, u, clk = make()
    u.feed(b"\x80\xff\xc3\xa9\xfe\r" + b"GB1:\xe9\r" + b"\x7f\r" + _CODE + b"\r")
    check(drain(sc) == [_CODE])
    check(sc.noise == 3 and sc.codes == 1)
    # what a rate mismatch looks like (the fake module's garbling): never a code
    m = FakeModule(module_rate=115200)
    sc, u, clk = make(uart=m)
    m.feed(b"GB1:GARBLED\r")
    m.rx[-1] = 0x0D  # even if a "\r" survives
    check(drain(sc) == [] and sc.noise == 1)


def test_random_noise_lines_never_cost_a_code():
    # seeded noise lines (biased to reply-like starts, CRs inside replies) before each code, in
    # random chunks: every code comes out once, exactly, and nothing else does
    seed = 4242
    sc, u, clk = make(debounce_ms=0)
    want = []
    for k in range(300):
        seed = (seed * 1103515245 + 12345) & 0x7FFFFFFF
        n = (seed >> 16) % 12
        noise = bytearray()
        # (printable-only noise would be a line like any code: the app denies it)
        noise += b"\x02\x00\x00" if seed & 1 else bytes((0x80 | (seed >> 9) & 0x7F,))
        for _ in range(n):
            seed = (seed * 1103515245 + 12345) & 0x7FFFFFFF
            v = (seed >> 16) & 0xFF
            noise.append(v if v != 0x0D else 0x80)
        if (seed >> 8) & 3 == 0:
            noise += zonebit.reply(bytes((k & 0xFF,)))  # a real late reply, then more noise
        code = b"GB1:%d" % k + _CODE[: k % 60]
        u.chunk = 1 + (seed >> 20) % 64
        u.feed(bytes(noise) + b"\r" + code + b"\r")
        want.append(code)
        if k % 10 == 9 or k == 299:  # compared in batches (the 112K heap)
            got = drain(sc)
            check(got == want, "codes %d..%d: %r" % (k - 9, k, got))
            want = []
        clk.t += 1
    check(sc.codes == 300)


def test_noise_frame_is_dropped_next_frame_reads():
    sc, u, clk = make()
    u.feed(b"\x00\x13\xffGB1\x01:\rGB1:OK\r")
    check(drain(sc) == [b"GB1:OK"])
    check(sc.noise == 1)


def test_crlf_suffix_and_empty_frames_ignored():
    sc, u, clk = make()
    u.feed(b"\r\r\nGB1:A\r\nGB1:B\r\n")
    check(drain(sc) == [b"GB1:A", b"GB1:B"])


def test_too_long_reported_once_then_resyncs():
    sc, u, clk = make(max_len=32)
    u.feed(b"X" * 500 + b"\rGB1:OK\r")
    check(drain(sc) == [scanner.TOO_LONG, b"GB1:OK"])
    check(sc.overflows == 1)


def test_exactly_max_len_is_accepted():
    sc, u, clk = make(max_len=32)
    u.feed(b"Y" * 32 + b"\r")
    check(drain(sc) == [b"Y" * 32])


def test_debounce_same_code_repeated_by_module():
    sc, u, clk = make(debounce_ms=1000)
    for _ in range(5):  # continuous mode repeats every 300 ms while the code stays in view
        u.feed(b"GB1:SAME\r")
        clk.t += 300
    check(drain(sc) == [b"GB1:SAME"])
    sc2, u2, clk2 = make(debounce_ms=1000)
    got = []
    for _ in range(5):
        u2.feed(b"GB1:SAME\r")
        got += drain(sc2)
        clk2.t += 300
    check(got == [b"GB1:SAME"])
    check(sc2.repeats == 4)
    clk2.t += 1500  # out of view, then shown again
    u2.feed(b"GB1:SAME\r")
    check(drain(sc2) == [b"GB1:SAME"])


def test_different_code_not_debounced_and_same_prefix_differs():
    sc, u, clk = make(debounce_ms=1000)
    u.feed(b"GB1:AB\rGB1:BA\rGB1:AB\r")
    check(drain(sc) == [b"GB1:AB", b"GB1:BA", b"GB1:AB"])


def test_garbage_stream_keeps_memory_bounded():
    sc, u, clk = make(max_len=64, uart=FakeUART(chunk=64))
    seed = 12345
    block = bytearray(256)
    gc.collect()
    before = gc.mem_free() if hasattr(gc, "mem_free") else 0
    for _ in range(200):
        for i in range(256):
            seed = (seed * 1103515245 + 12345) & 0x7FFFFFFF
            block[i] = (seed >> 16) & 0xFF
        u.feed(block)
        drain(sc)
    u.feed(b"\rGB1:AFTER\r")
    check(drain(sc)[-1] == b"GB1:AFTER")
    check(len(sc.buf) == 64)
    gc.collect()
    if before:
        check(before - gc.mem_free() < 2048, "driver grew memory on garbage")


def test_poll_with_no_data_returns_zero():
    sc, u, clk = make()
    check(sc.poll() == 0)
    check(not sc.pending())


def test_configure_writes_registers_and_checks_acks():
    m = FakeModule()
    sc, u, clk = make(uart=m)
    check(sc.configure(same_delay_ms=1500) == 0)
    check(sc.configured)
    check(m.regs[zonebit.REG_MODE] & 3 == zonebit.MODE_CONTINUOUS)
    check(m.regs[zonebit.REG_MODE] & 0xFC == 0xD4)  # other bits kept
    check(m.regs[zonebit.REG_SAME_DELAY] == 0x80 | 15)
    check(m.regs[zonebit.REG_OUTPUT] & 3 == 0)
    check(m.regs[zonebit.REG_ALL_CODES] == 0)
    check(m.regs[zonebit.REG_QR] == 1)
    check(zonebit.REG_BAUD not in m.regs)


def test_configure_retries_lost_and_corrupt_replies():
    m = FakeModule(drop_first=1, corrupt_first=1, preamble=b"GB1:EARLY\r")
    sc, u, clk = make(uart=m)
    check(sc.configure() == 0)
    reads = [f for f in m.frames if f[0] == zonebit.T_READ and f[1] == 0]
    check(len(reads) == 3)  # lost, corrupt, good


def test_configure_gives_up_on_silent_module():
    sc, u, clk = make()
    t0 = clk.t
    failed = sc.configure(retries=2)
    check(failed == 5)
    check(not sc.configured)
    check(clk.t - t0 < 10 * 2 * 320)
    check(len(u.tx) > 0)


def _baud_writes(m):
    return [f for f in m.frames if f[0] == zonebit.T_WRITE and f[1] == zonebit.REG_BAUD]


def test_baud_frame_is_the_documented_one():
    # GM65 appendix: 9600 = 7E 00 08 02 00 2A 39 01 A7 EA; specter-diy: 115200 = 1A 00
    v = zonebit.baud_value(9600)
    check(zonebit.write_cmd(zonebit.REG_BAUD, bytes((v & 0xFF, v >> 8))) ==
          bytes([0x7E, 0, 8, 2, 0, 0x2A, 0x39, 0x01, 0xA7, 0xEA]))
    check(zonebit.baud_value(115200) == 0x001A)
    check(zonebit.baud_value(57600) is None)


def test_configure_switches_line_to_115200_after_the_ack():
    m = FakeModule()
    sc, u, clk = make(uart=m)
    check(sc.configure(baud=115200) == 0)
    check(sc.configured and sc.baud == 115200 and m.rate == 115200 and m.module_rate == 115200)
    w = _baud_writes(m)
    check(len(w) == 1 and w[0][2] == b"\x1a\x00" and w[0][3] == 9600)  # written at 9600
    check(m.frames[-1][0] == zonebit.T_READ and m.frames[-1][3] == 115200)  # verified at 115200
    check(m.inits == [115200])
    check(not [f for f in m.frames if f[0] == zonebit.T_SAVE])  # not saved by default
    m.feed(b"GB1:FAST\r")
    check(drain(sc) == [b"GB1:FAST"])


def test_no_ack_for_the_baud_write_stays_at_9600():
    m = FakeModule(baud_reg=False)
    sc, u, clk = make(uart=m)
    check(sc.configure(baud=115200, retries=2) == 1)
    check(not sc.configured and sc.baud == 9600 and m.rate == 9600)
    check(m.inits == [])  # never left 9600 without an ACK
    check(len(_baud_writes(m)) == 2)
    m.feed(b"GB1:STILL\r")
    check(drain(sc) == [b"GB1:STILL"])


def test_module_that_does_not_switch_falls_back_to_9600():
    m = FakeModule(switches=False)
    sc, u, clk = make(uart=m)
    check(sc.configure(baud=115200, retries=2) == 1)
    check(sc.baud == 9600 and m.rate == 9600 and m.module_rate == 9600)
    check(m.inits == [115200, 9600])
    check(m.frames[-1][0] == zonebit.T_READ and m.frames[-1][3] == 9600)  # answers at 9600 again
    m.feed(b"GB1:NOTDEAF\r")
    check(drain(sc) == [b"GB1:NOTDEAF"])


def test_module_left_at_115200_by_an_earlier_start_is_found():
    m = FakeModule(module_rate=115200)  # soft reset: the UART reopens at 9600, the module not
    sc, u, clk = make(uart=m)
    check(sc.configure(baud=115200, retries=2) == 0)
    check(sc.baud == 115200 and m.rate == 115200 and _baud_writes(m) == [])


def test_baud_9600_keeps_the_old_behaviour():
    m = FakeModule()
    sc, u, clk = make(uart=m)
    check(sc.configure(baud=9600) == 0)
    check(sc.baud == 9600 and m.inits == [] and _baud_writes(m) == [])


def test_save_only_when_asked_and_after_the_switch():
    m = FakeModule()
    sc, u, clk = make(uart=m)
    check(sc.configure(baud=115200, save=True) == 0)
    saves = [f for f in m.frames if f[0] == zonebit.T_SAVE]
    check(len(saves) == 1 and saves[0][3] == 115200)


def test_config_code_can_be_dropped_after_a_switch():
    # what App.start does: afterwards the scan path must not need (or hold) gerbang.zonebit
    import sys

    import gerbang

    m = FakeModule()
    sc, u, clk = make(uart=m)
    check(sc.configure(baud=115200) == 0)
    sys.modules.pop("gerbang.zonebit", None)
    if hasattr(gerbang, "zonebit"):
        delattr(gerbang, "zonebit")
    gc.collect()
    check("gerbang.zonebit" not in sys.modules and not hasattr(scanner, "zonebit"))
    check(not [k for k, v in sc.__dict__.items() if callable(v) and k not in
               ("ticks_ms", "ticks_diff", "sleep_ms")])
    m.rx.extend(b"GB1:AFTER\r")
    check(drain(sc) == [b"GB1:AFTER"])
    check("gerbang.zonebit" not in sys.modules)
    sys.modules["gerbang.zonebit"] = zonebit  # for the tests that follow in this process
    gerbang.zonebit = zonebit


def test_silent_module_is_not_switched_and_start_stays_bounded():
    sc, u, clk = make()
    t0 = clk.t
    check(sc.configure(retries=2, baud=115200) == 6)
    check(sc.baud == 9600 and u.rate == 9600)
    check(u.inits == [115200, 9600])  # looked for it at 115200 once, then back
    check(clk.t - t0 < 12 * 2 * 320)
