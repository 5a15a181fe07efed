"""Scan log logic against a real directory (CPython temp dir / MicroPython unix port's host FS).

The flash-level behaviour (littlefs, power cuts, a full partition) is in test_scanlog_powercut
and test_scanlog_fill, which need the MicroPython unix port's vfs.VfsLfs2."""

import os

from fakes import tmpdir
from fwtest import check, raises
from gerbang import record
from gerbang.scanlog import ScanLog


def _kid(i):
    return bytes([(i * 7 + j) & 0xFF for j in range(8)])


def _add(log, i):
    return log.append(1700000000 + i, i & 1, i % 21, i % 3, 0, _kid(i), _kid(i + 100))


def _check_rec(buf, k, seq, i):
    check(record.unpack(buf, k * 32) == (seq, 1700000000 + i, i & 1, i % 21, i % 3, 0,
                                         _kid(i), _kid(i + 100)), "record %d" % seq)


def _all(log, after=0):
    """Every (first, count) batch and the records, via small batches."""
    buf = bytearray(32 * 3)
    seqs = []
    for first, n in log.batches(buf, after):
        for k in range(n):
            check(record.seq_of(buf, k * 32) == first + k)
            seqs.append(first + k)
    return seqs


def _seg_files(root):
    return sorted(n for n in os.listdir(root) if n.endswith(".log"))


def test_append_read_and_reopen_continue_the_sequence():
    root = tmpdir("scanlog") + "/log"
    log = ScanLog(root, segment_records=4)
    for i in range(10):
        check(_add(log, i) == i + 1)
    check(_seg_files(root) == ["00000001.log", "00000005.log", "00000009.log"])
    buf = bytearray(32 * 16)
    first, n = log.read(0, buf)
    check(first == 1 and n == 10)
    for k in range(10):
        _check_rec(buf, k, k + 1, k)
    log.close()
    log = ScanLog(root, segment_records=4)
    check(log.next_seq == 11 and log.damaged == 0)
    check(_add(log, 10) == 11)
    check(len(_seg_files(root)) == 3)  # the unfinished segment was resumed
    check(_all(log) == list(range(1, 12)))


def test_batches_of_a_given_size_from_the_cursor():
    log = ScanLog(tmpdir("scanlog") + "/log", segment_records=5)
    for i in range(13):
        _add(log, i)
    check(log.ack(4))
    buf = bytearray(32 * 3)
    got = list(log.batches(buf))
    check(got == [(5, 3), (8, 3), (11, 3)])
    check(log.read_after_cursor(buf) == (5, 3))
    check(log.read(13, buf) == (0, 0) and log.pending() == 9)


def test_torn_tail_is_dropped_and_the_sequence_continues():
    root = tmpdir("scanlog") + "/log"
    log = ScanLog(root, segment_records=8)
    for i in range(6):
        _add(log, i)
    log.close()
    with open(root + "/00000001.log", "ab") as f:
        f.write(record.pack(7, 1, 1, 0, 0, 0)[:19])  # a record cut short by a power loss
    log = ScanLog(root, segment_records=8)
    check(log.next_seq == 7 and log.damaged == 1)
    check(_add(log, 6) == 7)
    check(_all(log) == list(range(1, 8)))
    buf = bytearray(32 * 8)
    check(log.read(6, buf) == (7, 1))
    _check_rec(buf, 0, 7, 6)


def test_corrupt_last_record_is_replaced_not_repeated():
    root = tmpdir("scanlog") + "/log"
    log = ScanLog(root, segment_records=8)
    for i in range(5):
        _add(log, i)
    log.close()
    with open(root + "/00000001.log", "r+b") as f:
        f.seek(4 * 32 + 9)
        f.write(b"\xee")  # record 5 torn inside: CRC fails
    log = ScanLog(root, segment_records=8)
    check(log.next_seq == 5 and log.damaged == 1)
    check(_add(log, 50) == 5)
    buf = bytearray(32 * 8)
    check(log.read(0, buf) == (1, 5))
    _check_rec(buf, 4, 5, 50)  # the new record, not the torn one


def test_empty_or_garbage_last_segment_is_reused():
    root = tmpdir("scanlog") + "/log"
    log = ScanLog(root, segment_records=2)
    for i in range(4):
        _add(log, i)
    log.close()
    with open(root + "/00000005.log", "wb") as f:
        f.write(b"\x00" * 40)
    log = ScanLog(root, segment_records=2)
    check(log.next_seq == 5)
    check(_add(log, 4) == 5 and _add(log, 5) == 6)
    check(_all(log) == [1, 2, 3, 4, 5, 6])


def test_cursor_and_drops_persist_and_a_torn_state_slot_falls_back():
    root = tmpdir("scanlog") + "/log"
    log = ScanLog(root, segment_records=4)
    for i in range(9):
        _add(log, i)
    check(log.ack(3) and log.ack(6))
    check(log.ack(2))  # an older ack never moves the cursor back
    log.close()
    log = ScanLog(root, segment_records=4)
    check(log.cursor == 6 and log.next_seq == 10)
    check(_all(log, log.cursor) == [7, 8, 9])
    newest = [n for n in os.listdir(root) if n.startswith("state.")]
    check(len(newest) == 2)
    # tear the newest slot (counter 2 is in state.0): the previous cursor comes back
    with open(root + "/state.0", "r+b") as f:
        f.write(b"\xff\xff")
    log = ScanLog(root, segment_records=4)
    check(log.cursor == 3)


def test_ack_beyond_the_log_never_reuses_server_seqs():
    root = tmpdir("scanlog") + "/log"
    log = ScanLog(root, segment_records=4)
    _add(log, 0)
    _add(log, 1)
    check(log.ack(500) and _seg_files(root) == [])  # 1 and 2 acknowledged: deleted
    check(_add(log, 2) == 501)
    log.close()
    log = ScanLog(root, segment_records=4)
    check(log.next_seq == 502 and log.cursor == 500)
    check(_all(log, 0) == [501], "no tombstones for seqs this log never held")


def test_wiped_log_keeps_counting_after_the_cursor():
    root = tmpdir("scanlog") + "/log"
    log = ScanLog(root, segment_records=4)
    for i in range(6):
        _add(log, i)
    log.ack(6)
    log.close()
    for n in _seg_files(root):
        os.remove(root + "/" + n)
    log = ScanLog(root, segment_records=4)
    check(log.next_seq == 7 and _add(log, 6) == 7)


def _is_tombstone(buf, k, seq, time):
    check(record.unpack(buf, k * 32) == (seq, time, 0, 20, 2, 2, bytes(8), bytes(8)),
          "tombstone %d" % seq)


def test_damaged_record_in_the_middle_is_sent_as_a_tombstone():
    root = tmpdir("scanlog") + "/log"
    log = ScanLog(root, segment_records=16)
    for i in range(10):
        _add(log, i)
    with open(root + "/00000001.log", "r+b") as f:
        f.seek(3 * 32)
        f.write(b"\x00\x00\x00\x00")
    buf = bytearray(32 * 16)
    check(log.read(0, buf) == (1, 10), "the batch runs on over the damaged record")
    for k in (0, 1, 2, 4, 5, 9):
        _check_rec(buf, k, k + 1, k)
    _is_tombstone(buf, 3, 4, 1700000002)  # time of the record before it
    check(log.lost == 1)
    check(log.read(3, buf) == (4, 7))
    _is_tombstone(buf, 0, 4, 0)  # first in its batch: no time known
    check(log.read(4, buf) == (5, 6))
    check(_all(log) == list(range(1, 11)))


def test_lost_segment_becomes_tombstones_and_old_seqs_are_not_invented():
    root = tmpdir("scanlog") + "/log"
    log = ScanLog(root, segment_records=4)
    for i in range(14):
        _add(log, i)
    check(log.ack(4) and _seg_files(root)[0] == "00000005.log")
    os.remove(root + "/00000009.log")  # seqs 9..12 lost with their file
    log = ScanLog(root, segment_records=4)
    buf = bytearray(32 * 16)
    check(log.read(0, buf) == (5, 10), "starts at the oldest segment, contiguous to the end")
    for k in range(4):
        _check_rec(buf, k, 5 + k, 4 + k)
        _is_tombstone(buf, 4 + k, 9 + k, 1700000007)  # time carried on
    _check_rec(buf, 8, 13, 12)
    check(log.lost == 4)


def _fake_statvfs(total):
    # a tiny disk of `total` 4 KiB blocks: each file takes its blocks, at least one
    def statvfs(root):
        used = 2
        for n in os.listdir(root):
            used += max(1, (os.stat(root + "/" + n)[6] + 4095) // 4096)
        free = total - used
        return (4096, 4096, total, free, free, 0, 0, 0, 0, 255)
    return statvfs


def test_full_log_drops_counts_and_reclaims_acknowledged_segments():
    root = tmpdir("scanlog") + "/log"
    sv = _fake_statvfs(14)
    log = ScanLog(root, reserve_blocks=2, segment_records=4, statvfs=sv)
    seqs = [_add(log, i) for i in range(40)]
    stored = [s for s in seqs if s]
    check(stored == list(range(1, len(stored) + 1)) and len(stored) >= 8)
    check(log.dropped == 40 - len(stored))
    check(sv(root)[3] >= 2)  # the reserve is kept
    log.close()
    log = ScanLog(root, reserve_blocks=2, segment_records=4, statvfs=sv)
    check(log.dropped == 40 - len(stored))  # persisted
    check(_add(log, 99) == 0 and log.dropped == 41 - len(stored))
    check(log.ack(4))  # one segment acknowledged: deleted at once, still not enough room
    check("00000001.log" not in _seg_files(root))
    check(_add(log, 100) == 0)
    check("00000005.log" in _seg_files(root))  # not acknowledged: kept
    check(log.ack(12))  # two more segments deleted at the ack: room for one more
    check(_seg_files(root)[0] == "0000000d.log", "acknowledged segments deleted at the ack")
    s = _add(log, 101)
    check(s == len(stored) + 1, "space reclaimed after an ack")
    check(_all(log, 12) == list(range(13, s + 1)))


def test_ack_deletes_acknowledged_segments_but_not_the_open_one():
    root = tmpdir("scanlog") + "/log"
    log = ScanLog(root, segment_records=4)
    for i in range(10):
        _add(log, i)
    check(_seg_files(root) == ["00000001.log", "00000005.log", "00000009.log"])
    check(log.ack(6) and _seg_files(root) == ["00000005.log", "00000009.log"])
    check(log.ack(10) and _seg_files(root) == ["00000009.log"])  # open: appended to next
    check(_add(log, 10) == 11 and _all(log, 10) == [11])
    check(_add(log, 11) == 12 and log.ack(12) and _seg_files(root) == [])  # full, closed
    log = ScanLog(root, segment_records=4)
    check(log.next_seq == 13 and _add(log, 12) == 13 and _all(log, 12) == [13])


def test_unusable_root_never_raises():
    base = tmpdir("scanlog")
    with open(base + "/log", "wb") as f:
        f.write(b"not a directory")
    log = ScanLog(base + "/log")
    check(log.append(1, 1, 0) == 0 and log.dropped == 1)
    check(log.read(0, bytearray(64)) == (0, 0))


def test_foreign_files_are_ignored():
    root = tmpdir("scanlog") + "/log"
    os.mkdir(root)
    for name in ("README", "zzzzzzzz.log", "state.7", "00000001.lo"):
        with open(root + "/" + name, "wb") as f:
            f.write(b"x" * 40)
    log = ScanLog(root)
    check(log.next_seq == 1 and _add(log, 0) == 1 and _all(log) == [1])


def test_bad_arguments_raise_but_storage_problems_do_not():
    log = ScanLog(tmpdir("scanlog") + "/log")
    raises(ValueError, log.append, -5, 1, 0)
    raises(ValueError, log.append, 5, 1, 0, 0, 0, b"abc")
    check(log.next_seq == 1)
