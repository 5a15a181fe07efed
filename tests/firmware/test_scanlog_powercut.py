"""Power cuts at every flash operation: the scan log on a real littlefs (vfs.VfsLfs2).

One workload (appends, acknowledgements, a reboot, deletions of acknowledged segments, drops
on a nearly full 512 x 4 KiB partition) runs once on a CountingBlockDevice that records every
erase/program. The image after any N operations is the base image plus the first N recorded
operations (littlefs is deterministic: what happens before the Nth write does not depend on a
cut after it), so the test replays them one by one and, for EVERY N, mounts a copy-on-write
view of that image and checks the log; the torn variant lands only a prefix of program N+1.
A sample of N is also cut for real (the device raises after the Nth operation) and the
resulting image is compared byte for byte with the replayed one. littlefs is mounted with
mtime=False here: file timestamps would make two runs differ in those bytes (and, through the
allocator seed, in block choice after a remount); the fill test uses the ESP32 default.
"""

import gc
import os
import sys
from array import array

from fwtest import check, on_micropython, skip
from gerbang import record
from gerbang.scanlog import ScanLog

MNT = "/pcut"
ROOT = MNT + "/log"
# one per interpreter (word size): the 64- and 32-bit lanes run this file at the same time
WORK = "/tmp/gerbang_powercut_%d" % (64 if sys.maxsize > 1 << 40 else 32)
NCALLS = 300
REBOOTS = (47, 190)
DRY = (100, 180)  # no acknowledgements here: the log fills up and drops scans
SEGREC = 16
RESERVE = 2
FREE_AT_START = 12  # blocks left free by the ballast file
# allocated first, before the heap fragments
_BUF = bytearray(4096)
_BUF2 = bytearray(4096)
_POOL = [bytearray(4096) for _ in range(5)]


def _need_vfs():
    if not on_micropython():
        skip("needs vfs.VfsLfs2 (MicroPython unix port)")
    import vfs

    return vfs


def _kid(i):
    return bytes([(i * 13 + j) & 0xFF for j in range(8)])


def _fields(i):
    return (1700000000 + i * 60, i & 1, i % 21, i % 3, i & 1, _kid(i), _kid(i + 50))


def _mkdir(path):
    try:
        os.mkdir(path)
    except OSError:
        pass


def _base_image(vfs):
    from board.blockdev import FileBlockDevice

    _mkdir(WORK)
    path = WORK + "/base.img"
    try:
        os.remove(path)
    except OSError:
        pass
    dev = FileBlockDevice(path, cache=False)
    vfs.VfsLfs2.mkfs(dev)
    vfs.mount(vfs.VfsLfs2(dev, mtime=False), MNT)
    try:
        chunk = bytes(4096)
        with open(MNT + "/ballast", "wb") as f:
            while True:
                free = os.statvfs(MNT)[3]
                if free <= FREE_AT_START:
                    break
                for _ in range(max(1, (free - FREE_AT_START) // 2)):
                    f.write(chunk)
                f.flush()
    finally:
        vfs.umount(MNT)
    dev.close()
    return path


def _copy(src, dst):
    buf = _BUF
    with open(src, "rb") as a, open(dst, "wb") as b:
        while True:
            n = a.readinto(buf)
            if not n:
                break
            b.write(memoryview(buf)[:n])


def _workload(vfs, dev, trace):
    """The run under test. trace(kind, arg, ops_before, result, log) after each action."""
    vfs.mount(vfs.VfsLfs2(dev, mtime=False), MNT)
    try:
        log = ScanLog(ROOT, reserve_blocks=RESERVE, segment_records=SEGREC)
        last = 0
        for i in range(NCALLS):
            before = dev.ops
            if i in REBOOTS:
                log.close()
                vfs.umount(MNT)
                vfs.mount(vfs.VfsLfs2(dev, mtime=False), MNT)
                log = ScanLog(ROOT, reserve_blocks=RESERVE, segment_records=SEGREC)
                trace(i, _BOOT, 0, before, log.next_seq, log)
            elif i % 10 == 9 and not DRY[0] <= i < DRY[1] and last > 2:
                upto = last - 2 if i % 20 == 9 else last  # sometimes all, sometimes not
                log.ack(upto)
                trace(i, _ACK, upto, before, log.cursor, log)
            else:
                s = log.append(*_fields(i))
                last = s or last
                trace(i, _APPEND, 0, before, s, log)
        log.close()
    finally:
        vfs.umount(MNT)


_APPEND, _ACK, _BOOT = 0, 1, 2
_W = 7  # per action: ops_before, ops_after, kind, arg, result, dropped, cursor


class _Run:
    """What the uncut run did: per action its ops window and results (flat int arrays,
    allocated once: a growing list of tuples fragments the 112 KiB heap)."""

    def __init__(self):
        self.a = array("H", bytes(2 * _W * NCALLS))  # every value < 65536 in this workload
        self.n = 0
        self.call_of_seq = array("H", b"\xff" * (2 * (NCALLS + 2)))  # 0xFFFF: no record
        self._dev = None

    def act(self, k):
        return self.a[k * _W:(k + 1) * _W]

    def trace(self, i, kind, arg, before, result, log):
        a, o = self.a, self.n * _W
        a[o], a[o + 1], a[o + 2], a[o + 3] = before, self._dev.ops, kind, arg
        a[o + 4], a[o + 5], a[o + 6] = result, log.dropped, log.cursor
        self.n += 1
        if kind == _APPEND and result:
            self.call_of_seq[result] = i

    def top(self):
        for s in range(NCALLS + 1, 0, -1):
            if self.call_of_seq[s] != 0xFFFF:
                return s
        return 0


_RUN = _Run()  # allocated at import, while the heap is still in one piece


def _no_trace(*args):
    pass


def _record(vfs, base):
    from powercut import CountingBlockDevice

    _copy(base, WORK + "/run.img")
    oplog = open(WORK + "/ops.bin", "wb")
    dev = CountingBlockDevice(WORK + "/run.img", oplog=oplog)
    run = _RUN
    run._dev = dev
    _workload(vfs, dev, run.trace)
    oplog.close()
    dev.close()
    return run, dev.ops


def _expect(run, n):
    """State the log must show after a cut at n operations: (done, in-flight action or None)."""
    done = None
    flight = None
    for k in range(run.n):
        a = run.act(k)
        if a[1] <= n:
            done = a
        elif a[0] <= n:
            flight = a
            break
    return done, flight


def _verify(vfs, dev, run, n, what):
    vfs.mount(vfs.VfsLfs2(dev, mtime=False), MNT)  # a fresh mount must work whatever the cut
    try:
        log = ScanLog(ROOT, reserve_blocks=RESERVE, segment_records=SEGREC)
        done, flight = _expect(run, n)
        ok_top = 0  # appends return consecutive seqs: those returned before the cut are 1..ok_top
        for k in range(run.n):
            a = run.act(k)
            if a[1] <= n and a[2] == _APPEND and a[4]:
                ok_top = a[4]
        maybe = flight[4] if flight and flight[2] == _APPEND and flight[4] else 0
        cursors = {done[6] if done else 0}
        drops = {done[5] if done else 0}
        if flight:
            cursors.add(flight[6])
            drops.add(flight[5])
        ctx = "%s cut after %d ops" % (what, n)
        check(log.cursor in cursors, ctx + ": cursor %d not in %r" % (log.cursor, cursors))
        check(log.dropped in drops, ctx + ": dropped %d" % log.dropped)
        buf = bytearray(32 * 16)
        seen = 0  # records after the cursor, consecutive
        for first, cnt in log.batches(buf, 0):
            for k in range(cnt):
                seq = first + k
                check(seq <= ok_top or seq == maybe, ctx + ": invented record %d" % seq)
                i = run.call_of_seq[seq]
                check(record.unpack(buf, k * 32) == (seq,) + _fields(i), ctx + ": record %d" % seq)
                if seq > log.cursor:
                    check(seq == log.cursor + 1 + seen, ctx + ": gap before %d" % seq)
                    seen += 1
        # every returned record the server has not acknowledged is there
        check(log.cursor + seen >= ok_top, ctx + ": lost records up to %d" % ok_top)
        top = ok_top
        if maybe and log.cursor + seen == maybe:
            top = maybe
        check(log.next_seq == max(top, log.cursor) + 1,
              ctx + ": next_seq %d after %d" % (log.next_seq, top))
        s = log.append(*_fields(999))
        check(s in (0, log.next_seq - 1) and (s == 0 or s == max(top, log.cursor) + 1),
              ctx + ": sequence continues")
        log.close()
    finally:
        vfs.umount(MNT)


def _replay_all(vfs, run, total, base, torn):
    from board.blockdev import FileBlockDevice
    from powercut import OverlayBlockDevice, apply_op, read_op

    _copy(base, WORK + "/replay.img")
    img = FileBlockDevice(WORK + "/replay.img", cache=False)
    hdr = bytearray(13)
    data = _BUF2
    checked = 0
    with open(WORK + "/ops.bin", "rb") as f:
        n = 0
        while True:
            if not torn:
                _verify(vfs, OverlayBlockDevice(img, _POOL), run, n, "clean")
                checked += 1
            op = read_op(f, hdr, data)
            if op is None:
                break
            if torn and op[0] == 1 and op[3] > 1:
                ov = OverlayBlockDevice(img, _POOL)
                ov.writeblocks(op[1], memoryview(data)[:op[3] // 2], op[2])
                _verify(vfs, ov, run, n, "torn")
                checked += 1
            apply_op(img, op, data)
            n += 1
    img.close()
    check(n == total, "replayed %d of %d ops" % (n, total))
    return checked


_state = {}


def _setup():
    vfs = _need_vfs()
    if "run" not in _state:
        base = _base_image(vfs)
        run, total = _record(vfs, base)
        _state.update(run=run, total=total, base=base)
    return vfs, _state["run"], _state["total"], _state["base"]


def test_workload_covers_rotation_deletion_drops_and_reboot():
    vfs, run, total, base = _setup()
    boots = acks = 0  # counted, not listed: a list of every action's kind took a 4 KB block
    for k in range(run.n):
        kind = run.act(k)[2]
        boots += kind == _BOOT
        acks += kind == _ACK
    check(run.n == NCALLS and boots == 2 and acks >= 10)
    check(run.act(run.n - 1)[5] > 0, "the workload drops scans when full")
    first_drop = 0
    for k in range(run.n):
        a = run.act(k)
        if a[2] == _APPEND and not a[4] and not first_drop:
            first_drop = k
        if first_drop and a[2] == _APPEND and a[4]:
            break
    else:
        check(False, "appends succeed again after an acknowledgement")
    top = run.top()
    check(top > SEGREC * FREE_AT_START, "acknowledged segments deleted and their space reused")
    print("  %d actions, %d flash ops, %d records stored, %d dropped"
          % (run.n, total, top, run.act(run.n - 1)[5]))


def test_power_cut_after_every_operation():
    vfs, run, total, base = _setup()
    checked = _replay_all(vfs, run, total, base, torn=False)
    check(checked == total + 1)
    print("  clean cuts checked:", checked)


def test_torn_program_after_every_operation():
    vfs, run, total, base = _setup()
    checked = _replay_all(vfs, run, total, base, torn=True)
    check(checked > total // 2)
    print("  torn programs checked:", checked)


def test_real_cut_matches_replay_for_a_sample():
    vfs, run, total, base = _setup()
    from board.blockdev import FileBlockDevice
    from powercut import CountingBlockDevice, PowerCut, apply_op, read_op

    sample = [1, 2, 7, total // 5, total // 3, total // 2, total - 3]
    for n in sample:
        for torn in (0, 7):
            _copy(base, WORK + "/cut.img")
            dev = CountingBlockDevice(WORK + "/cut.img", cut_after=n, torn=torn)
            try:
                _workload(vfs, dev, _no_trace)
                check(False, "no power cut at %d" % n)
            except PowerCut:
                pass
            print("  cut %d torn %d: closing abandoned files (errors they print are expected)"
                  % (n, torn))
            gc.collect()  # finalize the abandoned files now, while the dead device ignores them
            dev.close()
            # the same image by replaying n recorded ops (plus the torn prefix)
            _copy(base, WORK + "/replay.img")
            img = FileBlockDevice(WORK + "/replay.img", cache=False)
            hdr, data = bytearray(13), _BUF2
            with open(WORK + "/ops.bin", "rb") as f:
                for k in range(n + 1):
                    op = read_op(f, hdr, data)
                    if k < n:
                        apply_op(img, op, data)
                    elif torn and op[0] == 1:
                        FileBlockDevice._program(img, op[1], memoryview(data)[:torn], op[2])
            img.close()
            check(_same(WORK + "/cut.img", WORK + "/replay.img"), "image differs at %d" % n)
            cut = FileBlockDevice(WORK + "/cut.img", cache=False)
            _verify(vfs, cut, run, n, "real")
            cut.close()


def _same(a, b):
    x, y = _BUF, _BUF2
    with open(a, "rb") as fa, open(b, "rb") as fb:
        while True:
            n = fa.readinto(x)
            if fb.readinto(y) != n:
                return False
            if not n:
                return True
            if x != y:
                return False
