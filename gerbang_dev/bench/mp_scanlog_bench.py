"""MicroPython side of `make bench` (scan log): run under the unix port from the repo root.

Counts what the flash sees (erases, programs, bytes programmed) on a 512 x 4 KiB littlefs image
mounted with the ESP32 defaults, and prints `key value` lines for gerbang_dev/bench/scanlog.py.
"""

import os
import sys
import time
from array import array

import vfs

sys.path.insert(0, "firmware")

from board.blockdev import FileBlockDevice  # noqa: E402
from gerbang import record  # noqa: E402
from gerbang.scanlog import ScanLog  # noqa: E402

IMG = "/tmp/gerbang_bench_scanlog.img"
MNT = "/bench"
KID = b"\x11" * 8
ACK_EVERY = 52  # 5,000 scans a day, a sync every 15 minutes
STEADY = 15000  # appends per steady-state run (~30 passes of the allocator over the flash)
LONG = 4  # the new policy runs on to LONG x STEADY appends: a longer window for the worst block


class CountingDevice(FileBlockDevice):
    def __init__(self, path):
        FileBlockDevice.__init__(self, path)
        self.erases = self.progs = self.prog_bytes = self.reads = 0
        self.per_block = array("H", bytes(2 * self.block_count))

    def readblocks(self, block, buf, offset=0):
        self.reads += 1
        FileBlockDevice.readblocks(self, block, buf, offset)

    def _program(self, block, buf, offset):
        self.progs += 1
        self.prog_bytes += len(buf)
        FileBlockDevice._program(self, block, buf, offset)

    def _erase(self, block):
        self.erases += 1
        self.per_block[block] += 1
        FileBlockDevice._erase(self, block)

    def snap(self):
        return (self.erases, self.progs, self.prog_bytes, self.reads, time.ticks_ms())


def out(key, value):
    print(key, value)


def delta(dev, s0):
    s1 = dev.snap()
    return [s1[i] - s0[i] for i in range(4)] + [time.ticks_diff(s1[4], s0[4])]


def append(log, i):
    return log.append(1700000000 + i, 1, 0, 0, 0, KID, KID)


def run(log, dev, n, ack_every, prefix):
    """n appends, acking everything every `ack_every` (0: never, offline); stops at a drop.
    Prints appends, erases, programs, bytes, reads and the worst single append's reads."""
    s0 = dev.snap()
    worst = done = 0
    while done < n:
        r = dev.reads
        if not append(log, done):
            break
        r = dev.reads - r
        if r > worst:
            worst = r
        done += 1
        if ack_every and done % ack_every == 0:
            log.ack(log.next_seq - 1)
    d = delta(dev, s0)
    out(prefix + "_appends", done)
    out(prefix + "_erases", d[0])
    out(prefix + "_progs", d[1])
    out(prefix + "_bytes", d[2])
    out(prefix + "_reads", d[3])
    out(prefix + "_ms_unix", d[4])
    out(prefix + "_worst_reads", worst)
    return done


def wear(dev, prefix, reset=True):
    """Per-block erase counts since the last reset: max, blocks erased, and the hot blocks."""
    pb = dev.per_block
    mx = max(pb)
    out(prefix + "_max_block", mx)
    out(prefix + "_blocks_erased", sum(1 for c in pb if c))
    out(prefix + "_hot_blocks", sum(1 for c in pb if c * 2 > mx))
    for b in range(len(pb) if reset else 0):
        pb[b] = 0


def main():
    try:
        os.remove(IMG)
    except OSError:
        pass
    dev = CountingDevice(IMG)
    vfs.VfsLfs2.mkfs(dev)
    vfs.mount(vfs.VfsLfs2(dev), MNT)  # the ESP32's defaults: readsize/progsize 32, lookahead 32
    with open(MNT + "/trust.bin", "wb") as f:  # a static trust bundle beside the log
        for _ in range(9):
            f.write(bytes(4096))
    out("record_bytes", len(record.pack(1, 0, 1, 0, 0, 0)))
    log = ScanLog(MNT + "/log")
    out("reserve_blocks", log._reserve)
    out("segment_records", log._segrec)
    out("ack_every", ACK_EVERY)
    # cost per append in the two regimes: synced (ack every ACK_EVERY, acknowledged segments
    # deleted at once) and offline (no acks: the directory grows to dozens of segments)
    run(log, dev, 1000, ACK_EVERY, "warm")
    run(log, dev, 1000, ACK_EVERY, "sync")
    run(log, dev, 5000, 0, "warm2")
    run(log, dev, 1000, 0, "offline")
    s0 = dev.snap()
    for _ in range(20):
        log.ack(log.next_seq - 1)  # the first deletes 48 acknowledged segments
    s0 = dev.snap()
    for _ in range(20):
        append(log, 0)
        log.ack(log.next_seq - 1)
    d = delta(dev, s0)
    out("ackpair_20_erases", d[0])
    out("ackpair_20_bytes", d[2])
    # baseline in the same run: 1000 records written with a flush every 128 only
    # (one littlefs sync per 4 KiB block): what per-record durability costs
    buf = bytearray(32)
    s0 = dev.snap()
    with open(MNT + "/batched.bin", "wb") as f:
        for i in range(1000):
            record.pack_into(buf, i + 1, 1700000000 + i, 1, 0, 0, 0, KID, KID)
            f.write(buf)
            if i % 128 == 127:
                f.flush()
    d = delta(dev, s0)
    os.remove(MNT + "/batched.bin")
    out("batched_1000_erases", d[0])
    out("batched_1000_bytes", d[2])
    # wear: a long offline period fills the partition (first drop), then the old policy
    # (acknowledged segments kept until space is needed: the log lives near full) and the new
    # one (deleted at the ack), same image, same number of appends, per-block erase counts
    wear(dev, "pre")
    c0 = log.cursor
    run(log, dev, 10 ** 6, 0, "fill")
    out("records_in_2mib", log.next_seq - 1 - c0)
    out("dropped_at_full", log.dropped)
    out("free_blocks_at_full", os.statvfs(MNT)[3])
    wear(dev, "fill")
    log.keep_acked = True  # the old policy: the ack only moves the cursor
    log.ack(log.next_seq - 1)
    run(log, dev, STEADY, ACK_EVERY, "lazy")
    wear(dev, "lazy")
    log.keep_acked = False
    log.ack(log.next_seq - 1)
    run(log, dev, STEADY, ACK_EVERY, "prompt")
    wear(dev, "prompt", False)
    run(log, dev, STEADY * (LONG - 1), ACK_EVERY, "more")
    wear(dev, "long")
    log.close()
    vfs.umount(MNT)
    dev.close()
    os.remove(IMG)


main()
