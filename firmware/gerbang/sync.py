"""The door's sync client (docs/FIRMWARE.md "Sync", docs/PROTOCOL.md §6): a boot mode of its own.

The scan path leaves ~13 KiB of the 112 KiB heap free; a sync needs more (Ed25519 signing, the
request, the answer, maybe a trust bundle). So the running app only asks for a sync: the hook
(in main.py: this module is never imported beside the scan path, it would not fit) writes a
marker byte ("S") after the TimeKeeper's 12-byte record in RTC memory and resets. main.py sees the marker at the next boot, clears it, and calls run_sync_mode() before it
loads the trust list or the scan path; that boot resets again when done (the sync's modules and
qstrs are gone, the scan path starts from a clean heap; a staged bundle is installed by the boot
after it). A sync that crashes halfway therefore never loops: the marker is already gone.

Request counter: persisted (file `sync.ctr`: counter, failures, CRC-32) before every request is
sent, so a crash never reuses one (the server answers 409 to a reused counter). Failures are
counted there too (a crash counts: the file says "failed" until the answer is processed);
main.py backs off with them (interval x2, x4 at most). Records are never lost or sent twice on
purpose: the cursor moves only with a verified acked_seq, and the server stores (device, seq)
idempotently.

Pure core: the board (RTC memory, clock, network, events, watchdog, reset) is passed in; HTTP is
a plain HTTP/1.0 POST over `socket` (`tls` for https) imported only here, in the sync boot. Its
`post` argument can be replaced (tests, another transport).
"""

import gc
import os
import struct
from binascii import crc32, unhexlify

from micropython import const

FIRMWARE = "0.1.0"
_CTR = "sync.ctr"
_BATCH = const(100)  # records per request (3.2 KB; the request is built and signed in RAM)
_BATCHES = const(3)  # requests per sync boot at most (a backlog drains over a few syncs)
_HTTP_MS = const(5000)  # per request: connect, send, answer (below the ESP32's 8 s watchdog)
_NET_MS = const(6000)  # WiFi association at most (the watchdog is fed before and after)
_MAGIC = const(0x31544247)  # gerbang.app.TimeKeeper's RTC record: magic, time, magic ^ time
_U32 = const(0xFFFFFFFF)
OVERRIDE = "config.over.json"  # the server's config; main.py merges it over config.json
# Sync response config labels 1, 2, 3 (docs/PROTOCOL.md §6): config.json key, accepted range
_KEYS = (("sync_interval_s", 60, 86400), ("relay_ms", 100, 30000), ("scan_debounce_ms", 0, 10000))


class _Time:
    """The TimeKeeper's records (gerbang.app, docs/FIRMWARE.md "Time"), read and written the
    same way without importing the app (~15 KB this boot cannot spare): `now` = (best unix
    time, clock quality) at the start of the sync boot; trusted(t) = a verified server time."""

    def __init__(self, board, floor_path):
        self.board = board
        self.path = floor_path
        self.floor = 0
        t = board.clock.time()
        q = 2
        try:
            with open(floor_path, "rb") as f:
                v, nv = struct.unpack("<II", f.read(8))
            if v ^ nv == _U32:
                self.floor = v
                q = 1
                t = max(t, v)
        except (OSError, ValueError):
            pass
        r = board.state.load() or b""
        if len(r) >= 12:
            m, s, c = struct.unpack("<III", r[:12])
            if m == _MAGIC and c == m ^ s:
                q = 0  # synced since power-on (the list's max_unsynced is the app's business)
                t = max(t, s)
        self.now = (t, q)

    def trusted(self, unix):
        b = self.board
        b.clock.set_time(unix)
        b.state.save(struct.pack("<III", _MAGIC, unix, _MAGIC ^ unix))
        if unix > self.floor:
            with open(self.path + ".tmp", "wb") as f:
                f.write(struct.pack("<II", unix, unix ^ _U32))
            os.rename(self.path + ".tmp", self.path)
            self.floor = unix


def clk_s(board):
    return board.clock.ticks_ms() // 1000  # uptime: this boot's


def _read_ctr():
    """-> (counter, failures) from sync.ctr; (0, 0) when missing or damaged (a damaged file
    restarts the counter: the server then answers 409 until it passes the last one; never
    a silent reuse of an accepted counter, since acceptance needs a higher one)."""
    try:
        with open(_CTR, "rb") as f:
            b = f.read(12)
        c, n, k = struct.unpack("<III", b)
        if crc32(b[:8]) & 0xFFFFFFFF == k:
            return c, n
    except (OSError, ValueError):
        pass
    return 0, 0


def _write_ctr(counter, fails):
    b = struct.pack("<II", counter, fails)
    b += struct.pack("<I", crc32(b) & 0xFFFFFFFF)
    with open(_CTR + ".tmp", "wb") as f:
        f.write(b)
    os.rename(_CTR + ".tmp", _CTR)  # atomic on littlefs: the old counter or the new one


def http_post(url, body, timeout_ms, max_len):
    """POST body (application/cose) to url (http:// or https://host[:port]/path) with HTTP/1.0.
    -> (status, body bytes). At most max_len bytes are accepted; every socket call is bounded
    by timeout_ms. https: TLS for confidentiality only (no CA store on the unit); the answer's
    authenticity comes from its signature under the pinned root."""
    import socket

    proto, _, host, path = url.split("/", 3)
    port = 443 if proto == "https:" else 80
    if ":" in host:
        host, port = host.split(":")
        port = int(port)
    ai = socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM)[0]
    s = socket.socket(ai[0], socket.SOCK_STREAM)
    try:
        s.settimeout(timeout_ms / 1000)
        s.connect(ai[-1])
        if proto == "https:":
            import tls

            ctx = tls.SSLContext(tls.PROTOCOL_TLS_CLIENT)
            ctx.verify_mode = tls.CERT_NONE
            s = ctx.wrap_socket(s, server_hostname=host)
        s.write(("POST /%s HTTP/1.0\r\nHost: %s\r\nContent-Type: application/cose\r\n"
                 "Content-Length: %d\r\nConnection: close\r\n\r\n" % (path, host, len(body)))
                .encode())
        s.write(body)
        line = s.readline()
        status = int(line.split(None, 2)[1])
        n = -1
        while True:
            line = s.readline()
            if not line or line == b"\r\n":
                break
            if line[:15].lower() == b"content-length:":
                n = int(line[15:])
        if n < 0 or n > max_len:
            raise ValueError("answer length %d" % n)
        out = bytearray(n)
        mv = memoryview(out)
        got = 0
        while got < n:
            k = s.readinto(mv[got:])
            if not k:
                raise OSError("answer cut short")
            got += k
        return status, out
    finally:
        s.close()


def _cache_serial(path, root_pub, area):
    """Serial of the held list, from its cache header (gerbang.trustcache HDR: magic, root,
    area, serial), without loading the list; 0 when there is none. Only a hint for the
    server (it sends a bundle above it); the install checks the bundle itself."""
    try:
        with open(path + ".cache", "rb") as f:
            h = f.read(112)
        if h[:4] == b"GBC1" and h[8:40] == root_pub and \
                struct.unpack_from("<I", h, 104)[0] == area:
            return struct.unpack_from("<I", h, 108)[0]
    except (OSError, ValueError):
        pass
    return 0


def apply_config(m, path=OVERRIDE):
    """The answer's config map {label: value} (None: none set) -> path holds its known keys
    whose values are in range (JSON, e.g. {"relay_ms": 600}; removed when there are none),
    written (tmp + rename) only when that differs from what it holds (flash wear).
    -> (1 when the flash changed else 0, number of entries ignored)."""
    import json

    over = {}
    bad = 0
    if type(m) is not dict:
        bad = 0 if m is None else 1
        m = {}
    for k in m:
        v = m[k]
        d = _KEYS[k - 1] if type(k) is int and 0 < k < 4 else None
        if d is None or type(v) is not int or not d[1] <= v <= d[2]:
            bad += 1  # unknown key or out of range: as if not sent
        else:
            over[d[0]] = v
    try:
        with open(path) as f:
            k = json.load(f)
    except OSError:
        k = {}  # none stored
    except ValueError:
        k = None  # damaged: replaced
    if k == over:
        return 0, bad
    if over:
        with open(path + ".tmp", "w") as f:
            json.dump(over, f)
        os.rename(path + ".tmp", path)  # atomic on littlefs: the old override or the new one
    else:
        os.remove(path)  # none set (any more): config.json's values again
    return 1, bad


def _free_flash():
    try:
        s = os.statvfs("/")
        return s[0] * s[3]
    except (OSError, AttributeError):
        return 0


def run_sync_mode(cfg, board, post=None, reset=True):
    """The sync boot: network up, send the records after the cursor (up to _BATCHES requests
    of _BATCH), verify each answer, ack, set the trusted time, stage a newer bundle, network
    down, then reset (reset=False: return, for tests). Never raises. -> summary dict (also
    emitted as the "sync" event)."""
    clk = board.clock
    t0 = clk.ticks_ms()
    ev = {"ok": False, "sent": 0, "requests": 0, "acked": 0, "bundle": 0, "cfg": 0, "cfg_bad": 0,
          "heap": []}
    _m(ev)
    counter, fails = _read_ctr()
    up = False
    try:
        board.wdt.feed()
        up = board.net.up(cfg.get("sync_net_ms", _NET_MS))
        board.wdt.feed()
        if not up:
            raise OSError("network did not come up")
        _exchange(cfg, board, post or http_post, ev, counter, fails)
        ev["ok"] = True
    except Exception as e:  # noqa: BLE001 - a failed sync is counted, the door goes on
        ev["err"] = repr(e)
    finally:
        if up:
            board.net.down()
    counter, fails = _read_ctr()
    if ev["ok"]:
        if fails:
            _write_ctr(counter, 0)
    elif not ev["requests"]:
        _write_ctr(counter, fails + 1)  # failed before any request: count it here
    ev["fails"] = 0 if ev["ok"] else fails + (0 if ev["requests"] else 1)
    ev["took_ms"] = clk.ticks_diff(clk.ticks_ms(), t0)
    gc.collect()
    ev["mem_free"] = gc.mem_free()
    board.events.emit("sync", **ev)
    if reset:
        board.reset()
    return ev


def _m(ev):
    gc.collect()
    ev["heap"].append(gc.mem_alloc())


def _exchange(cfg, board, post, ev, counter, fails):
    from gerbang import cose, ed25519

    _m(ev)

    path = cfg.get("trust_path", "trust.bin")
    root_pub = unhexlify(cfg["root_pub"])
    did = cfg["device_id"]
    url = cfg["server"] + "/api/v1/sync"
    with open("device.key") as f:
        seed = unhexlify(f.read().strip())
    kid = cose.kid_of(ed25519.public_key(seed))
    # The one-off verify's code (trustload; ed25519_one and ed25519_make came with the kid)
    # stays imported from here, loaded in a clean heap, instead of dropped and imported again
    # beside the answer: in the heap fragmented by then that import hit MemoryError at
    # 106-110K on the 64-bit port (docs/FIRMWARE_CORE.md "Two interpreters"). open_response
    # drops it after the verify; the sync boot resets at the end anyway.
    from gerbang import scanlog, syncproto, trustload  # noqa: F401

    _m(ev)
    tk = _Time(board, cfg.get("floor_path", "time.floor"))
    log = scanlog.ScanLog(cfg.get("log_dir", "log"))
    serial = _cache_serial(path, root_pub, cfg["area"])
    buf = bytearray(32 * cfg.get("sync_batch", _BATCH))
    mv = memoryview(buf)
    _m(ev)
    while ev["requests"] < cfg.get("sync_batches", _BATCHES):
        first, n = log.read_after_cursor(buf)
        if ev["requests"] and not n:
            break  # everything sent; the first request goes even when empty (time, list)
        now, q = tk.now
        counter += 1
        _write_ctr(counter, fails + 1)  # before sending: a crash never reuses the counter
        ev["requests"] += 1
        nonce = os.urandom(16)
        gc.collect()
        body = syncproto.build_request(
            seed, kid, did, counter, nonce, now, first, mv[:n * 32], serial, FIRMWARE,
            {1: gc.mem_free(), 2: _free_flash(), 3: log.dropped, 4: clk_s(board), 5: q})
        _m(ev)
        board.wdt.feed()
        status, data = post(url, body, cfg.get("sync_http_ms", _HTTP_MS),
                            syncproto.MAX_RESPONSE)
        body = None
        board.wdt.feed()
        if status != 200:
            raise OSError("server answered %d: %s" % (status, bytes(data[:80])))
        r = syncproto.open_response(data, root_pub, nonce, did, now if q != 2 else None)
        data = None
        board.wdt.feed()
        log.ack(r.acked_seq)
        tk.trusted(r.server_time)
        _m(ev)
        ev["sent"] += n
        ev["acked"] = r.acked_seq
        try:  # applied by the next boot (main.py)
            k, ev["cfg_bad"] = apply_config(r.config)
            ev["cfg"] |= k
        except OSError:
            ev["cfg"] = -1  # flash full or failing: the stored override stays as it was
        if r.bundle is not None and not ev["bundle"]:
            _stage(path, r.bundle)  # installed (and verified) by the next boot
            ev["bundle"] = len(r.bundle)
        r = None
        gc.collect()
        if n and first + n - 1 > log.cursor:
            break  # the server did not take the whole batch (a gap): try again next sync


def _stage(path, bundle):
    # TrustStore.stage's file (path.new), written here without importing the trust store
    tmp = path + ".new.tmp"
    with open(tmp, "wb") as f:
        f.write(bundle)
    os.rename(tmp, path + ".new")
