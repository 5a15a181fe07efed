"""Block devices for littlefs (vfs.VfsLfs2) on the MicroPython unix port: the virtual board's flash.

The extended block protocol: readblocks(block, buf, offset), writeblocks(block, buf, offset)
programs without erasing, ioctl(6, block) erases (to 0xFF), ioctl(4/5) give count/size.
On the ESP32 the flash partition (esp32.Partition) plays this role; this file is plain Python.
"""

_ERASED = 0xFF
# Erasing writes 0xFF in 256-byte pieces from this one shared chunk: no block-sized buffer on
# the heap (the virtual board's flash driver shares the door's 112 KiB heap; the ESP32's does
# not). Block sizes are multiples of 256 (littlefs needs a multiple of the program size).
_CHUNK = b"\xff" * 256
_FF = {}  # block size -> one erased block, for _ff only


class FileBlockDevice:
    """littlefs block device backed by an image file (created erased when missing).

    Default shape = the ESP32's filesystem partition: 512 blocks of 4 KiB (2 MiB)."""

    def __init__(self, path, block_size=4096, block_count=512, cache=True):
        self.path = path
        self.block_size = block_size
        self.block_count = block_count
        try:
            self._f = open(path, "r+b")
        except OSError:
            self._f = open(path, "w+b")
        self._f.seek(0, 2)
        size = self._f.tell()
        # grow a new or short image with erased blocks
        while size < block_size * block_count:
            self._fill(block_size)
            size += block_size
        self._f.flush()
        # littlefs reads a block in many small pieces: keep the last block read (one syscall)
        self._cache = bytearray(block_size) if cache else None
        self._cached = -1

    @property
    def _ff(self):
        """One erased block, made on first use and shared (only tests that emulate erases
        themselves use it; the device's own erases never allocate it)."""
        ff = _FF.get(self.block_size)
        if ff is None:
            ff = _FF[self.block_size] = bytes([_ERASED]) * self.block_size
        return ff

    def _fill(self, n):
        w = self._f.write
        while n >= 256:
            w(_CHUNK)
            n -= 256
        if n:
            w(_CHUNK[:n])

    def readblocks(self, block, buf, offset=0):
        c = self._cache
        if c is not None and offset + len(buf) <= self.block_size:
            if block != self._cached:
                self._cached = -1
                self._read(block, c, 0)
                self._cached = block
            buf[:] = memoryview(c)[offset:offset + len(buf)]
            return
        self._read(block, buf, offset)

    def _read(self, block, buf, offset):
        self._f.seek(block * self.block_size + offset)
        n = self._f.readinto(buf)
        if n != len(buf):
            raise OSError(5)  # EIO: read past the image

    def _program(self, block, buf, offset):
        if block == self._cached:
            self._cached = -1
        self._f.seek(block * self.block_size + offset)
        self._f.write(buf)

    def _erase(self, block):
        if block == self._cached:
            self._cached = -1
        self._f.seek(block * self.block_size)
        self._fill(self.block_size)

    def writeblocks(self, block, buf, offset=None):
        if offset is None:
            # simple protocol: whole blocks, erase first
            for i in range(len(buf) // self.block_size):
                self._erase(block + i)
            offset = 0
        self._program(block, buf, offset)

    def ioctl(self, op, arg):
        if op == 4:  # block count
            return self.block_count
        if op == 5:  # block size
            return self.block_size
        if op == 6:  # erase
            self._erase(arg)
            return 0
        if op in (2, 3):  # deinit, sync
            self._f.flush()
            return 0
        if op == 1:  # init
            return 0
        return None

    def close(self):
        self._f.close()
