"""A full partition: the scan log on a real littlefs (vfs.VfsLfs2), 512 blocks of 4 KiB.

The log fills the flash with unacknowledged records; scanning goes on (append returns 0 and
counts the drop, persisted); the reserve stays free for the trust list; every stored record is
intact after a remount; an acknowledgement frees space for new records. Mounted with the ESP32
defaults (VfsLfs2(bdev): readsize/progsize 32, lookahead 32, mtime on).
"""

import os
import sys

from fwtest import check, on_micropython, skip
from gerbang import record
from gerbang.scanlog import ScanLog

MNT = "/fill"
ROOT = MNT + "/log"
# file-backed: the 2 MiB image stays out of the heap; one per interpreter (word size): the
# 64- and 32-bit lanes run this file at the same time
IMG = "/tmp/gerbang_fill_%d.img" % (64 if sys.maxsize > 1 << 40 else 32)
RESERVE = 20
_BUF = bytearray(32 * 100)  # one sync batch of 100 records, allocated first
_TRUST = bytes(4096)


def _vfs():
    if not on_micropython():
        skip("needs vfs.VfsLfs2 (MicroPython unix port)")
    import vfs

    return vfs


def _fields(seq):
    kid = bytes([(seq >> 8) & 0xFF, seq & 0xFF, 1, 2, 3, 4, 5, 6])
    return (1700000000 + seq, seq & 1, seq % 21, seq % 3, 0, kid, kid)


def _write_trust(name, kib):
    # what the trust store does: write a new file, then rename it over the old one
    with open(MNT + "/" + name + ".tmp", "wb") as f:
        for _ in range(kib // 4):
            f.write(_TRUST)
    os.rename(MNT + "/" + name + ".tmp", MNT + "/" + name)


def _check_all(log, upto):
    """Every record after the cursor up to `upto`, in batches, intact and consecutive."""
    want = log.cursor + 1
    for first, n in log.batches(_BUF):
        check(first == want, "batch starts at %d, expected %d" % (first, want))
        for k in range(n):
            check(record.unpack(_BUF, k * 32) == (first + k,) + _fields(first + k))
        want = first + n
    check(want == upto + 1, "records end at %d, expected %d" % (want - 1, upto))


def _fill(log):
    stored = 0
    while True:
        s = log.append(*_fields(log.next_seq))
        if not s:
            return stored
        stored += 1


def test_full_flash_keeps_scanning_counts_drops_and_reclaims_after_ack():
    vfs = _vfs()
    from board.blockdev import FileBlockDevice

    try:
        os.remove(IMG)
    except OSError:
        pass
    dev = FileBlockDevice(IMG)
    vfs.VfsLfs2.mkfs(dev)
    vfs.mount(vfs.VfsLfs2(dev), MNT)
    try:
        _write_trust("trust.bin", 36)
        log = ScanLog(ROOT, reserve_blocks=RESERVE)
        stored = _fill(log)
        check(stored >= 40000, "only %d records fit" % stored)
        check(log.dropped == 1)
        for _ in range(99):
            check(log.append(*_fields(1)) == 0)  # the door keeps deciding; nothing stored
        check(log.dropped == 100 and log.next_seq == stored + 1)
        free = os.statvfs(MNT)[3]
        check(free >= RESERVE, "reserve kept: %d free blocks" % free)
        _write_trust("trust.bin", 36)  # a new trust list still fits in the reserve
        log.close()
        vfs.umount(MNT)

        vfs.mount(vfs.VfsLfs2(dev), MNT)
        log = ScanLog(ROOT, reserve_blocks=RESERVE)
        check(log.dropped == 100, "drop count persisted")
        check(log.next_seq == stored + 1 and log.damaged == 0)
        _check_all(log, stored)
        nseg = log.segments()
        check(log.append(*_fields(1)) == 0 and log.dropped == 101)

        half = stored // 2
        check(log.ack(half))
        s = log.append(*_fields(stored + 1))
        check(s == stored + 1, "space reclaimed after the acknowledgement")
        check(log.segments() < nseg)
        more = 1
        for _ in range(2000):  # about 16 segments' worth: older acknowledged ones make room
            check(log.append(*_fields(log.next_seq)) == stored + 1 + more)
            more += 1
        check(log.dropped == 101)
        _check_all(log, stored + more)
        print("  %d records filled 2 MiB (%d free blocks kept); %d more after acknowledging %d"
              % (stored, free, more, half))
        log.close()
    finally:
        vfs.umount(MNT)
        dev.close()
