"""Door unit start-up: read /config.json, pick the board, wire the app and run it.

On the ESP32 (sys.platform "esp32") the board is board.esp32; in the unix port (the virtual
board) board.virtual. Config format: docs/FIRMWARE.md. A broken config or trust list never
crash-loops the unit: the error is printed, the red LED stays on and the REPL stays usable.

Heap (docs/FIRMWARE.md "Heap budget"): this file is compiled on the unit, so every name in it
(locals too) becomes a qstr that is never freed: few names. The heap in use after each stage
is kept in M (ints) and emitted once as the "boot" event.
"""

import gc
import os
import sys

M = []


def m():
    gc.collect()
    M.append(gc.mem_alloc())


def build(c):
    from binascii import unhexlify

    if sys.platform == "esp32":
        from board import esp32 as b
    else:
        from board import virtual as b
    # The sync boot (docs/FIRMWARE.md "Sync"): the app asked for it with an "S" after the
    # TimeKeeper's 12-byte record in RTC memory. Cleared first (a sync that crashes never
    # loops), run before the trust list and the scan path, then the unit resets.
    r = b.State("/host/rtc.bin")  # the ESP32's ignores the path; the virtual board's default
    n = r.load() or b""
    if n[12:13] == b"S":
        r.save(bytes(n[:12]))
        from gerbang import sync

        sync.run_sync_mode(c, b.Board(c))
    from gerbang import truststore

    # The trust list first, while the heap is empty (installing one needs the most memory).
    m()
    s = truststore.TrustStore(c.get("trust_path", "trust.bin"), unhexlify(c["root_pub"]),
                              c["area"])
    try:
        os.stat(s.pending)
        n = 1  # a staged bundle: installed now
    except OSError:
        n = 0
    s.load(None)
    m()
    b = b.Board(c)
    # An install or a cache rebuild at this boot leaves the load-time code's qstrs (never
    # freed) and a fragmented heap: reset once, so the scan path starts from the cache in a
    # clean heap. A marker byte after the TimeKeeper's 12-byte RTC record stops a reset loop.
    r = b.state.load() or b""
    if (n or s.source == "bundle") and r[12:13] != b"R":
        b.state.save(bytes(r[:12]) + b"R")
        b.reset()
    elif len(r) > 12:
        b.state.save(bytes(r[:12]))
    m()
    from gerbang import app

    m()
    from gerbang import check

    m()
    from gerbang import scanlog

    m()
    r = app.TimeKeeper(b.clock, b.state, c.get("floor_path", "time.floor"))
    if s.trust is not None:
        r.raise_floor(s.trust.issued)  # the list cannot be older than now
        r.max_unsynced = s.trust.max_unsynced
    n = c.get("log_dir", "log")
    try:
        os.mkdir(n)
    except OSError:
        pass  # exists
    n = scanlog.ScanLog(n)
    r = app.App(b, check.Checker(s, c["area"]), n, c, r)
    if c.get("server"):
        # Sync hook (docs/FIRMWARE.md "Sync"): when due, mark RTC memory and reset into the
        # sync boot, radio off (it replaces App.run_sync). Here, not in gerbang.sync: that
        # module does not fit beside the scan path. Failed syncs (gerbang.sync's counter
        # file: counter u32, failures u32) stretch the interval: x2, x4 at most.
        def h(*a):
            b.state.save(bytes((b.state.load() or b"")[:12]) + b"S")
            b.reset()

        r.sync = r.run_sync = h
        try:
            with open("sync.ctr", "rb") as f:
                r.sync_interval_ms <<= min(f.read(8)[4], 2)
        except (OSError, IndexError):
            pass
    b.events.emit("trust", serial=s.serial, error=s.error)
    return r


def start():
    import json

    with open("config.json") as f:
        c = json.load(f)
    try:  # the server's device config wins for its keys (gerbang.sync.OVERRIDE, checked there)
        with open("config.over.json") as f:
            c.update(json.load(f))
    except (OSError, ValueError):
        pass  # none set, or damaged: config.json's values
    m()
    return build(c)  # the config dict goes on return: every part took what it needs


def main():
    m()
    a = start()
    m()
    a.start()
    m()
    a.board.events.emit("boot", heap=M)
    del M[:]
    a.run()


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        raise
    except Exception as e:  # noqa: BLE001 - leave the REPL usable for the technician
        sys.print_exception(e)
