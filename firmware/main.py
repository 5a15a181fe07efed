"""Door unit start-up: read /config.json, pick the board, wire the app and run it.

On the ESP32 (sys.platform "esp32") the board is board.esp32; in the unix port (the virtual
board) board.virtual. Config format: docs/FIRMWARE.md. A broken config or trust list never
crash-loops the unit: the error is printed, the red LED stays on and the REPL stays usable.
"""

import gc
import json
import os
import sys

CONFIG = "config.json"


def load_config(path=CONFIG):
    with open(path) as f:
        return json.load(f)


def _mkdir(path):
    try:
        os.mkdir(path)
    except OSError:
        pass  # exists


def _sync_hook(cfg, store, log, board):
    # Filled in by the sync module when it is on the unit (docs/FIRMWARE.md "Sync hook").
    try:
        from gerbang import sync
    except ImportError:
        return None
    make = getattr(sync, "make_hook", None)
    return make(cfg, store, log, board) if make else None


def build(cfg):
    from binascii import unhexlify

    from gerbang import truststore

    # The trust list first, while the heap is empty: opening it needs the most memory at once
    # (its load-time code is dropped afterwards). Validity is checked on every scan anyway.
    store = truststore.TrustStore(cfg.get("trust_path", "trust.bin"),
                                  unhexlify(cfg["root_pub"]), cfg["area"])
    store.load(None)
    gc.collect()
    if sys.platform == "esp32":
        from board import esp32 as hw
    else:
        from board import virtual as hw
    board = hw.Board(cfg)
    from gerbang import app, check, scanlog

    tk = app.TimeKeeper(board.clock, board.state, cfg.get("floor_path", "time.floor"))
    if store.trust is not None:
        tk.raise_floor(store.trust.issued)  # the list cannot be older than now
        tk.max_unsynced = store.trust.max_unsynced
    log_dir = cfg.get("log_dir", "log")
    _mkdir(log_dir)
    log = scanlog.ScanLog(log_dir)
    a = app.App(board, check.Checker(store, cfg["area"]), log, cfg, tk)
    a.sync = _sync_hook(cfg, store, log, board)
    board.events.emit("trust", serial=store.serial, error=store.error)
    return a


def main():
    cfg = load_config()
    a = build(cfg)
    del cfg  # every part took what it needs
    gc.collect()
    a.start()
    a.run()


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        raise
    except Exception as e:  # noqa: BLE001 - leave the REPL usable for the technician
        sys.print_exception(e)
