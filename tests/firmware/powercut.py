"""Test-only block devices for power-loss testing of littlefs on the MicroPython unix port.

CountingBlockDevice counts erase/program operations (and bytes programmed) and can stop the
world after the Nth: every later write raises PowerCut, so nothing more lands on the image.
With `torn`, the Nth program lands only as a prefix. `oplog` records every write operation to
a file, so one run yields the image after any N operations (replay, see OverlayBlockDevice).
"""

import struct

from board.blockdev import FileBlockDevice


class PowerCut(Exception):
    pass


_OP = "<BIII"  # kind (1 program, 2 erase), block, offset, length


class CountingBlockDevice(FileBlockDevice):
    def __init__(self, path, block_size=4096, block_count=512, cut_after=None, torn=0,
                 oplog=None, cache=False):
        FileBlockDevice.__init__(self, path, block_size, block_count, cache)
        self.ops = 0
        self.progs = 0
        self.erases = 0
        self.prog_bytes = 0
        self.cut_after = cut_after  # stop taking writes after this many operations
        self.torn = torn  # with a cut: bytes of the next program that still land (prefix)
        self.dead = False
        self.oplog = oplog  # open binary file: every write operation, for replay
        self.erase_counts = None  # bytearray-like per-block counters when enabled

    def _gate(self):
        # False: the power is off, the write is lost. The cut itself raises PowerCut to stop
        # the run; later writes (e.g. finalizers of abandoned files during GC) are ignored.
        if self.dead:
            return False
        if self.cut_after is not None and self.ops >= self.cut_after:
            self.dead = True
            raise PowerCut()
        self.ops += 1
        return True

    def _program(self, block, buf, offset):
        if self.cut_after is not None and self.ops >= self.cut_after and self.torn and \
                not self.dead:
            FileBlockDevice._program(self, block, memoryview(buf)[:min(self.torn, len(buf))],
                                     offset)
        if not self._gate():
            return
        self.progs += 1
        self.prog_bytes += len(buf)
        if self.oplog:
            self.oplog.write(struct.pack(_OP, 1, block, offset, len(buf)))
            self.oplog.write(buf)
        FileBlockDevice._program(self, block, buf, offset)

    def _erase(self, block):
        if not self._gate():
            return
        self.erases += 1
        if self.erase_counts is not None:
            self.erase_counts[block] += 1
        if self.oplog:
            self.oplog.write(struct.pack(_OP, 2, block, 0, 0))
        FileBlockDevice._erase(self, block)


def read_op(f, hdr, data):
    """Next recorded op from an oplog file -> (kind, block, offset, length) or None at the end.

    The program's bytes are read into data[:length] (data must hold a block)."""
    if f.readinto(hdr) != len(hdr):
        return None
    kind, block, offset, length = struct.unpack(_OP, hdr)
    if length:
        f.readinto(memoryview(data)[:length])
    return kind, block, offset, length


def apply_op(dev, op, data):
    """Apply a recorded op to a plain FileBlockDevice (no counting)."""
    kind, block, offset, length = op
    if kind == 1:
        FileBlockDevice._program(dev, block, memoryview(data)[:length], offset)
    else:
        FileBlockDevice._erase(dev, block)


class OverlayBlockDevice:
    """Reads a base image, keeps every write in RAM: mount and check an image, then discard."""

    def __init__(self, base, pool):
        self.base = base
        self.bs = base.block_size
        self.blocks = {}
        self.pool = pool  # preallocated block buffers (a fragmented 112 KiB heap has no 4 KiB)
        self.used = 0

    def _new(self):
        if self.used >= len(self.pool):
            raise MemoryError("overlay pool exhausted")
        self.used += 1
        return self.pool[self.used - 1]

    def _blk(self, block):
        b = self.blocks.get(block)
        if b is None:
            b = self._new()
            self.base.readblocks(block, b, 0)
            self.blocks[block] = b
        return b

    def readblocks(self, block, buf, offset=0):
        b = self.blocks.get(block)
        if b is None:
            self.base.readblocks(block, buf, offset)
        else:
            buf[:] = memoryview(b)[offset:offset + len(buf)]

    def writeblocks(self, block, buf, offset=None):
        b = self._blk(block)
        offset = offset or 0
        b[offset:offset + len(buf)] = buf

    def ioctl(self, op, arg):
        if op == 4:
            return self.base.block_count
        if op == 5:
            return self.bs
        if op == 6:
            b = self.blocks.get(arg)
            if b is None:
                b = self.blocks[arg] = self._new()
            b[:] = self.base._ff
            return 0
        if op in (1, 2, 3):
            return 0
        return None
