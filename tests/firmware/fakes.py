"""Fakes at the board boundary, shared by the firmware tests (CPython and MicroPython)."""

import os


class RecordingPin:
    """An output pin that logs every change as (name, value)."""

    def __init__(self, name, log):
        self.name = name
        self.log = log
        self.v = 0

    def value(self, v=None):
        if v is None:
            return self.v
        if v != self.v:
            self.log.append((self.name, v))
        self.v = v


def rmtree(path):
    """Remove a directory tree (MicroPython's os has no shutil)."""
    try:
        names = os.listdir(path)
    except OSError:
        return
    for n in names:
        p = path + "/" + n
        try:
            os.remove(p)
        except OSError:
            rmtree(p)
    os.rmdir(path)


def exists(path):
    try:
        os.stat(path)
        return True
    except OSError:
        return False


_made = [0]


def tmpdir(name):
    """A fresh empty directory under /tmp, unique per process (xdist workers and the
    MicroPython run of the same file may run at once)."""
    from binascii import hexlify

    _made[0] += 1
    base = "/tmp/gerbang_%s_%s_%d" % (name, hexlify(os.urandom(3)).decode(), _made[0])
    rmtree(base)
    os.mkdir(base)
    return base
