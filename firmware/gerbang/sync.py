"""The door's sync client (docs/FIRMWARE.md "Sync", docs/PROTOCOL.md §6): a boot mode of its own.

The scan path leaves ~13 KiB of the 112 KiB heap free; a sync needs more (Ed25519 signing, the
request, the answer, maybe a trust bundle). So the running app only asks for a sync: the hook
(gerbang.startup's: this module is never imported beside the scan path, it would not fit) sets
the boot marker "S" after the TimeKeeper's record in RTC memory (gerbang.timekeeper) and
resets. gerbang.startup sees the marker at the next boot, clears it, and calls
run_sync_mode() before it loads the trust list or the scan path; that boot resets again when done (the sync's modules and
qstrs are gone, the scan path starts from a clean heap; a staged bundle is installed by the boot
after it). A sync that crashes halfway therefore never loops: the marker is already gone.

Request counter: persisted (file `sync.ctr`, gerbang.syncctr) before every request is sent, so
a crash never reuses one (the server answers 409 to a reused counter). Failures are counted
there too (a crash counts: the file says "failed" until the answer is processed);
gerbang.startup backs off with them (interval x2, x4 at most). Records are never lost or sent twice on
purpose: the cursor moves only with a verified acked_seq, and the server stores (device, seq)
idempotently.

Pure core: the board (RTC memory, clock, network, events, watchdog, reset) is passed in; HTTP is
a plain HTTP/1.0 POST over `socket` (`tls` for https) imported only here, in the sync boot. Its
`post` argument can be replaced (tests, another transport). A newer trust list is not in the
answer: the answer names it (serial, size, SHA-256, signed) and the door fetches it with a GET,
streamed to flash in 512-byte pieces, so the sync boot's heap does not grow with the list.
"""

import gc
import os
from binascii import unhexlify

from micropython import const

from gerbang import syncctr

FIRMWARE = "0.1.0"
_BATCH = const(100)  # records per request (3.2 KB; the request is built and signed in RAM)
_BATCHES = const(3)  # requests per sync boot at most (a backlog drains over a few syncs)
_HTTP_MS = const(5000)  # per request: connect, send, answer (below the ESP32's 8 s watchdog)
_NET_MS = const(6000)  # WiFi association at most (the watchdog is fed before and after)
_U32 = const(0xFFFFFFFF)
OVERRIDE = "config.over.json"  # the server's config; gerbang.startup merges it over config.json
# Sync response config labels 1, 2, 3 (docs/PROTOCOL.md §6): config.json key, accepted range
_KEYS = (("sync_interval_s", 60, 86400), ("relay_ms", 100, 30000), ("scan_debounce_ms", 0, 10000))


def clk_s(board):
    return board.clock.ticks_ms() // 1000  # uptime: this boot's


def http_post(url, body, timeout_ms, max_len):
    """POST body (application/cose) to url (http:// or https://host[:port]/path) with HTTP/1.0.
    -> (status, body bytes). At most max_len bytes are accepted; every socket call is bounded
    by timeout_ms. https: TLS for confidentiality only (no CA store on the unit); the answer's
    authenticity comes from its signature under the pinned root."""
    return _http(url, body, timeout_ms, max_len, None)


def http_get(url, timeout_ms, max_len, sink):
    """GET url, the body handed to sink(chunk) piece by piece (never whole in RAM).
    -> bytes received; raises OSError unless the answer is 200 with at most max_len bytes."""
    return _http(url, None, timeout_ms, max_len, sink)[1]


def _http(url, body, timeout_ms, max_len, sink):
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
        if body is None:
            s.write(("GET /%s HTTP/1.0\r\nHost: %s\r\nConnection: close\r\n\r\n"
                     % (path, host)).encode())
        else:
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
        if sink is not None and status != 200:
            raise OSError("server answered %d to GET /%s" % (status, path))
        if n < 0 or n > max_len:
            raise ValueError("answer length %d" % n)
        out = bytearray(n if sink is None else min(n, 512))
        mv = memoryview(out)
        got = 0
        while got < n:
            k = s.readinto(mv[got:] if sink is None else mv[:min(n - got, len(out))])
            if not k:
                raise OSError("answer cut short")
            if sink is not None:
                sink(mv[:k])
            got += k
        return status, (out if sink is None else got)
    finally:
        s.close()


def fetch_bundle(cfg, store, ref, get=http_get):
    """Download the bundle a verified answer named, ref = (serial, size, sha256), to
    store.pending (via a temporary file), checked against the signed size and SHA-256 before
    it is renamed into place. The next boot installs it (full verification)."""
    import hashlib

    serial, size, digest = ref
    url = "%s/api/v1/areas/%d/trustlist?serial=%d" % (cfg["server"], cfg["area"], serial)
    h = hashlib.sha256()
    tmp = store.pending + ".tmp"
    try:
        with open(tmp, "wb") as f:
            def sink(chunk):
                h.update(chunk)
                f.write(chunk)

            got = get(url, cfg.get("sync_http_ms", _HTTP_MS), size, sink)
        if got != size or h.digest() != digest:
            raise ValueError("bundle %d: %d of %d bytes, or not the one the answer named"
                             % (serial, got, size))
    except Exception:
        try:  # a part is never left on the flash
            os.remove(tmp)
        except OSError:
            pass
        raise
    os.rename(tmp, store.pending)
    return size


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
    counter, fails = syncctr.read()
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
    counter, fails = syncctr.read()
    if ev["ok"]:
        if fails:
            syncctr.write(counter, 0)
    elif not ev["requests"]:
        syncctr.write(counter, fails + 1)  # failed before any request: count it here
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
    if not valid_device_id(did):  # never sign or send a name the server cannot register
        raise ValueError("config device_id %r is not a device id" % (did,))
    url = cfg["server"] + "/api/v1/sync"
    with open("device.key") as f:
        seed = unhexlify(f.read().strip())
    from gerbang import trustcache
    from gerbang.truststore import TrustStore, drop

    serial = trustcache.serial(path, root_pub, cfg["area"])  # the held list's, a hint
    trustcache = None
    drop(("trustcache",))  # before the rest is imported: its room is theirs
    kid = cose.kid_of(ed25519.public_key(seed))
    # The one-off verify's code (trustverify; ed25519_oneoff and ed25519_tables came with the
    # kid) stays imported from here, loaded in a clean heap, instead of dropped and imported
    # again beside the answer: in the heap fragmented by then that import hit MemoryError at
    # 106-110K on the 64-bit port (docs/FIRMWARE_CORE.md "Two interpreters"). open_response
    # drops it after the verify; the sync boot resets at the end anyway.
    from gerbang import scanlog, syncproto, trustverify  # noqa: F401
    from gerbang.timekeeper import CLOCK_UNKNOWN, TimeKeeper

    _m(ev)
    # max_unsynced: a clock set since power-on counts as synced here; the list's limit is
    # the scan path's business
    tk = TimeKeeper(board.clock, board.state, cfg.get("floor_path", "time.floor"), _U32)
    store = TrustStore(path, root_pub, cfg["area"])
    log = scanlog.ScanLog(cfg.get("log_dir", "log"))
    buf = bytearray(32 * cfg.get("sync_batch", _BATCH))
    mv = memoryview(buf)
    _m(ev)
    while ev["requests"] < cfg.get("sync_batches", _BATCHES):
        first, n = log.read_after_cursor(buf)
        if ev["requests"] and not n:
            break  # everything sent; the first request goes even when empty (time, list)
        now, q = tk.now()
        counter += 1
        syncctr.write(counter, fails + 1)  # before sending: a crash never reuses the counter
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
        r = syncproto.open_response(data, root_pub, nonce, did,
                                    now if q != CLOCK_UNKNOWN else None)
        data = None
        board.wdt.feed()
        log.ack(r.acked_seq)
        if not tk.trusted(r.server_time):
            ev["time_back"] = r.server_time  # refused: the clock stays where it was
        _m(ev)
        ev["sent"] += n
        ev["acked"] = r.acked_seq
        try:  # applied by the next boot (gerbang.startup)
            k, ev["cfg_bad"] = apply_config(r.config)
            ev["cfg"] |= k
        except OSError:
            ev["cfg"] = -1  # flash full or failing: the stored override stays as it was
        ref = r.bundle
        r = None
        gc.collect()
        if ref is not None and not ev["bundle"]:
            board.wdt.feed()
            try:  # streamed to flash; installed (and verified) by the next boot
                ev["bundle"] = fetch_bundle(cfg, store, ref)
            except Exception as e:  # noqa: BLE001 - the records are home; the next sync
                ev["bundle_err"] = repr(e)  # names the list again
            board.wdt.feed()
            gc.collect()
        if n and first + n - 1 > log.cursor:
            break  # the server did not take the whole batch (a gap): try again next sync


def valid_device_id(s):
    """gerbang_protocol.device_id's pattern, written out (MicroPython's re has no counted
    repeats): 1-32 of letters, digits, '.', '_', '-', the first a letter or digit."""
    if not isinstance(s, str) or not 0 < len(s) <= 32:
        return False
    for i, c in enumerate(s):
        if not ("0" <= c <= "9" or "A" <= c <= "Z" or "a" <= c <= "z" or (i and c in "._-")):
            return False
    return True
