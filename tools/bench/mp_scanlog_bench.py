"""MicroPython side of `make bench` (scan log): run under the unix port from the repo root.

Counts what the flash sees (erases, programs, bytes programmed) on a 512 x 4 KiB littlefs image
mounted with the ESP32 defaults, and prints `key value` lines for tools/bench/scanlog.py.
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


def main():
    try:
        os.remove(IMG)
    except OSError:
        pass
    dev = CountingDevice(IMG)
    vfs.VfsLfs2.mkfs(dev)
    vfs.mount(vfs.VfsLfs2(dev), MNT)  # the ESP32's defaults: readsize/progsize 32, lookahead 32
    out("record_bytes", len(record.pack(1, 0, 1, 0, 0, 0)))
    log = ScanLog(MNT + "/log")
    out("reserve_blocks", log._reserve)
    out("segment_records", log._segrec)
    for i in range(5000):  # warm up: a partly used partition
        append(log, i)
    s0 = dev.snap()
    for i in range(1000):
        append(log, i)
    d = delta(dev, s0)
    out("durable_1000_erases", d[0])
    out("durable_1000_progs", d[1])
    out("durable_1000_bytes", d[2])
    out("durable_1000_reads", d[3])
    out("durable_1000_ms_unix", d[4])
    s0 = dev.snap()
    for _ in range(20):
        log.ack(log.next_seq - 1)
    d = delta(dev, s0)
    out("ack_20_erases", d[0])
    out("ack_20_bytes", d[2])
    # baseline in the same run: the same 1000 records written with a flush every 128 only
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
    # fill the partition: records that fit, and how evenly littlefs spread the erases
    for b in range(dev.block_count):
        dev.per_block[b] = 0
    e0 = dev.erases
    while append(log, 0):
        pass
    out("records_in_2mib", log.next_seq - 1)
    out("dropped_at_full", log.dropped)
    out("free_blocks_at_full", os.statvfs(MNT)[3])
    n = dev.erases - e0
    used = [c for c in dev.per_block if c]
    out("fill_erases", n)
    out("fill_blocks_erased", len(used))
    out("fill_max_erases_per_block", max(used) if used else 0)
    log.close()
    vfs.umount(MNT)
    dev.close()
    os.remove(IMG)


main()
