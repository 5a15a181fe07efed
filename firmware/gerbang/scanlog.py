"""Append-only, crash-safe scan log on littlefs (docs/SCANLOG.md).

Layout under `root`: segment files `SSSSSSSS.log` (8 hex digits = seq of their first record)
holding consecutive 32-byte records (gerbang/record.py), and two state slots `state.0` /
`state.1` (counter, cursor, dropped, CRC-32); the valid slot with the higher counter wins, so
a torn state write falls back to the previous state.

Durability: append() writes one record and flushes (lfs_file_sync on littlefs) before it
returns. Space: a segment is only started when the filesystem keeps `reserve_blocks` free
blocks after it; acknowledged segments are deleted (oldest first) to make room, otherwise the
scan is counted in `dropped` (persisted) and append() returns 0. Storage errors never raise.
Only open/os.listdir/ilistdir/stat/statvfs/remove/mkdir are used: runs on CPython too.
"""

import os
import struct
from binascii import crc32

from micropython import const

from gerbang import record, scanread

_REC = const(32)
_SLACK = const(3)  # blocks beyond a segment: 1 copy-on-write block + 2 for a metadata split
_MARGIN = const(32)  # free-block estimate this far above the need: no statvfs (a traversal)
_RECHECK = const(8)  # segment starts between statvfs calls even when the estimate is ample
_STATE = "<III"  # counter, cursor, dropped (+ CRC-32)


def _names(root):
    if hasattr(os, "ilistdir"):
        for ent in os.ilistdir(root):
            yield ent[0]
    else:
        for name in os.listdir(root):
            yield name


class ScanLog:
    def __init__(self, root, reserve_blocks=40, segment_records=128, statvfs=None,
                 keep_acked=False):
        self.root = root
        self.keep_acked = keep_acked  # True: delete acknowledged segments only for room
        self._reserve = reserve_blocks
        self._segrec = segment_records
        self._statvfs = statvfs or os.statvfs
        self._rec = bytearray(_REC)
        self._st = bytearray(16)
        self._f = None  # current segment, open for append; None: next append starts/resumes one
        self._cur = 0  # first seq of the current segment
        self._n = 0  # records in the current segment
        self._resume = False  # recovery found a clean, unfinished last segment
        self._segs = []  # first seq of every segment file, ascending
        self._counter = 0
        self._est = -1  # free blocks estimated since the last statvfs; -1: unknown
        self._since = 0  # segments started since that statvfs
        self._segblk = 1  # blocks a full segment takes (set from the block size)
        self.cursor = 0  # highest seq the server acknowledged
        self.dropped = 0  # scans not stored for lack of space (persisted, monotonic)
        self.damaged = 0  # invalid records/bytes found at recovery (not persisted)
        self.lost = 0  # tombstones sent in place of damaged records (not persisted)
        self.next_seq = 1
        try:
            self._recover()
        except (OSError, ValueError):
            # never fail the boot: start a fresh segment after everything we could see
            self.damaged += 1
            self._resume = False
            if self.next_seq <= self.cursor:
                self.next_seq = self.cursor + 1

    # -- paths and state ------------------------------------------------------------------------
    def _path(self, first):
        return "%s/%08x.log" % (self.root, first)

    def _load_state(self):
        best = None
        for i in (0, 1):
            try:
                with open("%s/state.%d" % (self.root, i), "rb") as f:
                    n = f.readinto(self._st)
            except OSError:
                continue
            st = self._st
            if n != 16 or crc32(memoryview(st)[:12]) & 0xFFFFFFFF != struct.unpack_from("<I", st, 12)[0]:
                continue
            vals = struct.unpack_from(_STATE, st, 0)
            if best is None or vals[0] > best[0]:
                best = vals
        if best:
            self._counter, self.cursor, self.dropped = best

    def _save_state(self):
        # two alternating slots: a torn write leaves the other (previous) state intact
        self._counter += 1
        st = self._st
        struct.pack_into(_STATE, st, 0, self._counter, self.cursor, self.dropped)
        struct.pack_into("<I", st, 12, crc32(memoryview(st)[:12]) & 0xFFFFFFFF)
        try:
            with open("%s/state.%d" % (self.root, self._counter & 1), "wb") as f:
                f.write(st)
            return True
        except OSError:
            return False

    # -- recovery -------------------------------------------------------------------------------
    def _recover(self):
        try:
            os.mkdir(self.root)
        except OSError:
            pass  # exists
        self._load_state()
        segs = []
        for name in _names(self.root):
            if len(name) == 12 and name[8:] == ".log":
                try:
                    segs.append(int(name[:8], 16))
                except ValueError:
                    pass
        segs.sort()
        self._segs = segs
        self.next_seq = self.cursor + 1
        if not segs:
            return
        first = segs[-1]
        valid, clean = self._scan_tail(first)
        end = first + valid
        if end > self.next_seq:
            self.next_seq = end
        # continue the last segment only if its tail is clean and the sequence runs on from it
        self._resume = clean and end == self.next_seq and valid < self._segrec
        self._cur = first
        self._n = valid

    def _scan_tail(self, first):
        """-> (valid records at the head of segment `first`, tail clean). Reads from the end."""
        try:
            size = os.stat(self._path(first))[6]
        except OSError:
            return 0, False
        cnt = size // _REC
        k = cnt
        rec = self._rec
        try:
            with open(self._path(first), "rb") as f:
                while k > 0:
                    f.seek((k - 1) * _REC)
                    if f.readinto(rec) == _REC and record.valid(rec) and \
                            record.seq_of(rec) == first + k - 1:
                        break
                    k -= 1
        except OSError:
            k = 0
        torn = cnt - k + (1 if size % _REC else 0)
        self.damaged += torn
        return k, torn == 0

    # -- appending ------------------------------------------------------------------------------
    def _stat(self):
        # statvfs on littlefs walks every file (thousands of block reads): only at segment
        # starts, and only when the estimate is stale or near the need
        st = self._statvfs(self.root)
        self._segblk = (self._segrec * _REC + st[0] - 1) // st[0]
        self._est = st[3]
        self._since = 0

    def _start(self):
        """Open the segment for next_seq (resume or new). False: no room, scan is dropped."""
        resume = self._resume and self._cur + self._n == self.next_seq
        if self._est < 0:
            self._stat()
        seg = 0 if resume else self._segblk
        need = self._reserve + seg + _SLACK
        if self._est < need + _MARGIN or self._since >= _RECHECK:
            self._stat()
        if self._est < need:
            self._delete_acked(need)
            if self._est < need:
                return False
        if resume:
            self._f = open(self._path(self._cur), "ab")
        else:
            first = self.next_seq
            self._f = open(self._path(first), "wb")  # creating the file is committed at once
            if not self._segs or self._segs[-1] != first:
                self._segs.append(first)
            self._cur = first
            self._n = 0
            self._est -= seg
            self._since += 1
        self._resume = False
        return True

    def _delete_acked(self, need=0):
        """Delete fully acknowledged segments, oldest first (all of them, or until `need` free
        blocks); never one that may still be appended to."""
        segs = self._segs
        gone = 0
        while segs and (not need or self._est < need):
            last = (segs[1] if len(segs) > 1 else self.next_seq) - 1
            if last > self.cursor or (len(segs) == 1 and self._f is not None):
                break
            try:
                os.remove(self._path(segs[0]))
            except OSError:
                break
            if self._cur == segs[0]:
                self._resume = False
            segs.pop(0)
            gone += 1
            if need:
                self._stat()
            elif self._est >= 0:
                self._est += self._segblk
        return gone

    def _close(self):
        f, self._f = self._f, None
        if f is not None:
            try:
                f.close()
            except OSError:
                pass

    def append(self, time, decision, reason, clock=0, flags=0, kid=None, tag=None):
        """Store one scan; -> its seq once it is on flash, or 0 when it was dropped (counted).

        Raises ValueError only for invalid arguments, never because of the storage."""
        seq = self.next_seq
        record.pack_into(self._rec, seq, time, decision, reason, clock, flags, kid, tag)
        try:
            if self._f is None and not self._start():
                return self._drop()
            self._f.write(self._rec)
            self._f.flush()  # lfs_file_sync: the record is committed when this returns
        except OSError:
            # out of space mid-segment or a flash error: close it, see whether the record landed
            self._close()
            valid, clean = self._scan_tail(self._cur)
            self._resume = False
            if self._cur + valid - 1 != seq:
                return self._drop()
        self.next_seq = seq + 1
        self._n += 1
        if self._n >= self._segrec:
            self._close()
        return seq

    def _drop(self):
        self.dropped += 1
        self._save_state()
        return 0

    # -- acknowledgement ------------------------------------------------------------------------
    def ack(self, seq):
        """The server stored every seq up to `seq`. -> True when the cursor is persisted."""
        if seq <= self.cursor:
            return True
        if seq >= self.next_seq:
            # the server holds seqs this log no longer has (replaced unit, wiped flash):
            # never reuse them; continue after them in a new segment
            self._close()
            self._resume = False
            self.next_seq = seq + 1
        self.cursor = seq
        ok = self._save_state()
        if ok and not self.keep_acked:
            # delete acknowledged segments now, not when space runs out: the free blocks stay
            # many, so littlefs's copy-on-write spreads over the whole partition
            self._delete_acked()
        return ok

    def flush_state(self):
        """Persist cursor and drop count again (e.g. after a failed save)."""
        return self._save_state()

    # -- reading for sync -----------------------------------------------------------------------
    def read(self, after, buf):
        """Copy the records with seq > after into buf (a multiple of 32 bytes), consecutive.

        -> (first_seq, count); (0, 0) when there is none (gerbang/scanread.py)."""
        return scanread.read(self, after, buf)

    def read_after_cursor(self, buf):
        return self.read(self.cursor, buf)

    def batches(self, buf, after=None):
        """Yield (first_seq, count) batches in buf from `after` (default: the cursor) on."""
        after = self.cursor if after is None else after
        while True:
            first, n = self.read(after, buf)
            if not n:
                return
            yield first, n
            after = first + n - 1

    def pending(self):
        return self.next_seq - 1 - self.cursor

    def segments(self):
        return len(self._segs)

    def close(self):
        self._close()
