"""Small programs run on a door unit with `mpremote exec` (raw REPL: main.py is stopped and the
interpreter soft-reset, so the heap is clean). They read the unit's own files through the
firmware's own modules (gerbang.sync, gerbang.trustcache, gerbang.scanlog, the board layer), so
a format change in the firmware changes what they read, not a copy of it here. Each prints one
tagged line of Python literals; the host parses it with ast.literal_eval.

STATUS and LOG only read (ScanLog's recovery may create an empty log directory); SYNC runs the
firmware's own sync boot (gerbang.sync.run_sync_mode) without its final reset.
"""

# The unit's config exactly as main.py builds it: config.json, the server's override over it.
CONFIG = """\
import gc, os, sys, json
with open("config.json") as f:
    c = json.load(f)
try:
    with open("config.over.json") as f:
        c.update(json.load(f))
except (OSError, ValueError):
    pass
"""

BOARD = """\
if sys.platform == "esp32":
    from board import esp32 as b
else:
    from board import virtual as b
"""

# A function: an unprovisioned unit (no config.json) answers so instead of failing.
STATUS = """\
import gc, os, sys, json
from binascii import unhexlify
def _status():
    try:
        with open("config.json") as f:
            c = json.load(f)
    except (OSError, ValueError) as e:
        return {"unprovisioned": repr(e)}
    try:
        with open("config.over.json") as f:
            c.update(json.load(f))
    except (OSError, ValueError):
        pass
    R = {"device_id": c.get("device_id"), "area": c.get("area"), "server": c.get("server", ""),
         "platform": sys.platform}
    if sys.platform == "esp32":
        from board import esp32 as b
        st = b.State()
        ck = b.Clock()
    else:
        from board import virtual as b
        h = b._hw("/host")
        st = b.State(h.get("rtc", "/host/rtc.bin"))
        ck = b.Clock(h.get("clock_offset", 0), h.get("clock_file"))
    class _B:
        pass
    B = _B()
    B.state = st
    B.clock = ck
    from gerbang import sync
    R["firmware"] = sync.FIRMWARE
    R["clock"] = ck.time()
    from gerbang import syncctr, timekeeper
    R["best_time"], R["clock_q"] = timekeeper.TimeKeeper(
        B.clock, B.state, c.get("floor_path", "time.floor")).now()
    R["sync_counter"], R["sync_fails"] = syncctr.read()
    sync = None
    gc.collect()
    from gerbang import scanlog
    L = scanlog.ScanLog(c.get("log_dir", "log"))
    R["unacked"] = L.pending()
    R["dropped"] = L.dropped
    R["next_seq"] = L.next_seq
    R["acked_seq"] = L.cursor
    L.close()
    L = None
    gc.collect()
    from gerbang import truststore
    s = truststore.TrustStore(c.get("trust_path", "trust.bin"), unhexlify(c["root_pub"]),
                              c["area"])
    try:
        os.stat(s.pending)
        R["staged"] = 1
    except OSError:
        R["staged"] = 0
    try:
        from gerbang import trustcache
        t = trustcache.read(s, None)
        R["trust_serial"] = t.serial
        R["trust_expires"] = t.expires
        R["trust_area"] = t.area
        gc.collect()
        R["heap_free"] = gc.mem_free()  # with the list's tables held, as the scan path does
        t = None
    except Exception as e:
        R["trust_error"] = repr(e)
        gc.collect()
        R["heap_free"] = gc.mem_free()
    try:
        v = os.statvfs("/")
        R["flash_free"] = v[0] * v[3]
        R["flash_total"] = v[0] * v[2]
    except (OSError, AttributeError):
        pass
    return R
print("S", repr(_status()))
"""

LOG = CONFIG + """\
from gerbang import scanlog
from binascii import hexlify
L = scanlog.ScanLog(c.get("log_dir", "log"))
n = {n}
b = bytearray(32 * n)
first, k = L.read(max(0, L.next_seq - 1 - n), b)
print("H", repr((L.next_seq, L.cursor, first, k)))
for i in range(k):
    print("R", repr(hexlify(b[32 * i:32 * i + 32]).decode()))
L.close()
"""

SYNC = CONFIG + BOARD + """\
from gerbang import sync
e = sync.run_sync_mode(c, b.Board(c), reset=False)
e.pop("heap", None)
print("Y", repr(e))
"""
