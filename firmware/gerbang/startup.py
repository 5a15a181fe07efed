"""Door unit start-up, called by main.py with the board module's Board and State (board.esp32
on the ESP32, board.virtual in the unix port): read the config, run the sync boot when one was asked for,
open the trust list, wire the app and run it. Config format: docs/FIRMWARE.md. A broken config
or trust list never crash-loops the unit: the error is printed, the red LED stays on and the
REPL stays usable.

Compiled (.mpy) like the rest of the core; main.py is a stub of a few lines, so the unit no
longer compiles a module from source at every boot (docs/FIRMWARE.md "Heap budget"). The heap
in use after each stage is kept in `heap` and emitted once as the "boot" event. Every name
here (and parameter names anywhere) is a qstr that stays in RAM: few, and existing ones where
they fit (Board, State, config, heap, stage, run_sync)."""

import gc
import os
import sys

from gerbang import timekeeper

heap = []
# Boot markers after the RTC record (gerbang.timekeeper): b"S" the app asked for the sync boot,
# b"R" this boot follows the reset after an install. (Every name here is a qstr for good: few.)


def stage():
    gc.collect()
    heap.append(gc.mem_alloc())


def read_config():
    """config.json, with the server's device config (gerbang.sync.OVERRIDE, checked there)
    winning for its keys."""
    import json

    with open("config.json") as f:
        config = json.load(f)
    try:
        with open("config.over.json") as f:
            config.update(json.load(f))
    except (OSError, ValueError):
        pass  # none set, or damaged: config.json's values
    return config


def _exists(path):
    try:
        os.stat(path)
        return True
    except OSError:
        return False


def build(config, Board, State):
    """The wired App for the config on the board (the board module's Board and State; or
    the sync boot, which resets)."""
    from binascii import unhexlify

    # The sync boot: cleared first (a sync that crashes never loops), run before the trust
    # list and the scan path, then the unit resets.
    rtc = State("/host/rtc.bin")  # the ESP32's ignores the path; the virtual default
    if timekeeper.marker(rtc) == b"S":
        timekeeper.marker(rtc, b"")
        from gerbang import sync

        sync.run_sync_mode(config, Board(config))
    rtc = None
    from gerbang import truststore

    # The trust list first, while the heap is empty (installing one needs the most memory).
    stage()
    store = truststore.TrustStore(config.get("trust_path", "trust.bin"),
                                  unhexlify(config["root_pub"]), config["area"])
    staged = _exists(store.pending)  # a staged bundle: installed now
    from gerbang import trustcache

    if not trustcache.load(store, None):  # a good cache needs nothing else
        from gerbang import trustinstall

        trustinstall.load(store, None)  # install, or rebuild the cache
        trustinstall = None  # dropped by load(): it goes with this reference
    trustcache = None
    truststore.drop(("trustcache",))
    stage()
    board = Board(config)
    # An install or a cache rebuild at this boot leaves the load-time code's qstrs (never
    # freed) and a fragmented heap: reset once, so the scan path starts from the cache in a
    # clean heap. The marker stops a reset loop.
    if (staged or store.source == "bundle") and timekeeper.marker(board.state) != b"R":
        # said before the reset, which would lose why a staged list was refused
        board.events.emit("trust", serial=store.serial, error=store.error,
                          pending_error=store.pending_error)
        timekeeper.marker(board.state, b"R")
        board.reset()
    else:
        timekeeper.marker(board.state, b"")
    stage()
    from gerbang import app

    stage()
    from gerbang import check

    stage()
    from gerbang import scanlog

    stage()
    clock = timekeeper.TimeKeeper(board.clock, board.state, config.get("floor_path", "time.floor"))
    if store.trust is not None:
        clock.raise_floor(store.trust.issued)  # the list cannot be older than now
        clock.max_unsynced = store.trust.max_unsynced
    log_dir = config.get("log_dir", "log")
    try:
        os.mkdir(log_dir)
    except OSError:
        pass  # exists
    door = app.App(board, check.Checker(store, config["area"]), scanlog.ScanLog(log_dir), config,
                   clock)
    if config.get("server"):
        # Sync hook (docs/FIRMWARE.md "Sync"): when due, mark RTC memory and reset into the
        # sync boot, radio off (it replaces App.run_sync). Here, not in gerbang.sync: that
        # module does not fit beside the scan path.
        def run_sync(*_):
            timekeeper.marker(board.state, b"S")
            board.reset()

        door.sync = door.run_sync = run_sync
        # failed syncs (gerbang.syncctr) stretch the interval: x2, x4 at most
        from gerbang import syncctr

        door.sync_interval_ms <<= min(syncctr.read()[1], 2)
        syncctr = None
        truststore.drop(("syncctr",))
    board.events.emit("trust", serial=store.serial, error=store.error,
                      pending_error=store.pending_error)
    return door


def _start(Board, State):
    config = read_config()
    stage()
    return build(config, Board, State)  # the config dict goes on return: every part took what it needs


def run(Board, State):
    """Boot and run the door (never returns unless interrupted); an error is printed, the
    REPL stays usable for the technician."""
    try:
        stage()
        door = _start(Board, State)
        stage()
        door.start()
        stage()
        door.board.events.emit("boot", heap=heap)
        del heap[:]
        door.run()
    except KeyboardInterrupt:
        raise
    except Exception as e:  # noqa: BLE001 - leave the REPL usable for the technician
        sys.print_exception(e)
