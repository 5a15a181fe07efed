"""The sync request counter file (docs/FIRMWARE.md "Sync"): `sync.ctr` = counter u32, failures
u32, CRC-32 of both (little-endian), replaced atomically. This module alone knows it: the sync
boot (gerbang.sync) counts with it, the start-up (gerbang.startup) backs off with the
failures."""

import os
import struct
from binascii import crc32


def read():
    """-> (counter, failures); (0, 0) when missing or damaged (a damaged file restarts the
    counter: the server then answers 409 until it passes the last one; never a silent reuse
    of an accepted counter, since acceptance needs a higher one)."""
    try:
        with open("sync.ctr", "rb") as f:
            b = f.read(12)
        c, n, k = struct.unpack("<III", b)
        if crc32(b[:8]) & 0xFFFFFFFF == k:
            return c, n
    except (OSError, ValueError):
        pass
    return 0, 0


def write(counter, fails):
    b = struct.pack("<II", counter, fails)
    b += struct.pack("<I", crc32(b) & 0xFFFFFFFF)
    with open("sync.ctr.tmp", "wb") as f:
        f.write(b)
    os.rename("sync.ctr.tmp", "sync.ctr")  # atomic on littlefs: the old counter or the new one
