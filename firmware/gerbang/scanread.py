"""Reading the scan log for sync (ScanLog.read, docs/SCANLOG.md): segment by segment into the
caller's buffer, never the whole log; a stored seq whose record is lost becomes a tombstone.
"""

from micropython import const

from gerbang import record

_REC = const(32)
_INTERNAL = const(20)  # reason code of a tombstone (PROTOCOL.md section 7)
_LOST = const(2)  # flags bit 1: record lost to flash damage (a tombstone)
_UNKNOWN = const(2)  # clock quality: unknown


def _find(segs, seq):
    lo, hi = 0, len(segs)
    while lo < hi:  # first index whose segment starts after seq
        mid = (lo + hi) // 2
        if segs[mid] <= seq:
            lo = mid + 1
        else:
            hi = mid
    return lo - 1 if lo else 0


def read(log, after, buf):
    """Copy the records with seq > after into buf (a multiple of 32 bytes), consecutive.

    -> (first_seq, count); (0, 0) when there is none. Reads segment by segment, never the
    whole log. A record that is unreadable or fails its CRC/seq check although its seq was
    stored (flash damage) is replaced by a tombstone (see _tombstone) so the sequence the
    server receives stays contiguous; seqs before the oldest segment were acknowledged."""
    mv = memoryview(buf)
    cap = len(mv) // _REC
    segs = log._segs
    want = after + 1
    if not segs or not cap:
        return 0, 0
    if want < segs[0]:
        want = segs[0]
    first = want
    n = 0
    i = _find(segs, want)
    while n < cap and want < log.next_seq:
        s = segs[i]
        end = segs[i + 1] if i + 1 < len(segs) else log.next_seq
        if want >= end:
            i += 1
            continue
        take = min(cap - n, end - want)
        off = n * _REC
        got = 0
        try:
            with open(log._path(s), "rb") as f:
                f.seek((want - s) * _REC)
                got = f.readinto(mv[off:off + take * _REC]) or 0
        except OSError:
            pass
        for k in range(take):
            o = off + k * _REC
            if (k + 1) * _REC > got or not record.valid(mv, o) or \
                    record.seq_of(mv, o) != want + k:
                _tombstone(mv, o, want + k)
                log.lost += 1
        n += take
        want += take
        i += 1
    return (first, n) if n else (0, 0)


def _tombstone(mv, off, seq):
    # a stored seq whose record is lost (bit rot, a lost segment): deny, INTERNAL, flags
    # bit 1, zero kid/tag, clock unknown, time of the record before it (0 if none here)
    t = record.time_of(mv, off - _REC) if off else 0
    record.pack_into(mv, seq, t, 0, _INTERNAL, _UNKNOWN, _LOST, None, None, off)
