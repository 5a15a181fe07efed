"""A fault-injecting HTTP proxy for the sync endpoint, between virtual door units and a real
server, on 127.0.0.1 (tests/e2e/test_field_faults.py, the demo).

The door speaks HTTP/1.0 with one request per connection (`Content-Length`, `Connection:
close`, firmware/gerbang/sync.py): the proxy reads the whole request, then does what its
current `mode` says. Every request's device id and counter are logged (`requests`), read from
the COSE payload without verifying it (the proxy is a network, not a party).

Modes (set `proxy.mode` between syncs; `pass` forwards untouched):

- `slow`: forwards, then holds the answer `delay` seconds (past the unit's `sync_http_ms`);
- `status500`, `status503`: answers 500 / 503 with `Retry-After` itself (nothing forwarded);
- `cut_after_request`: forwards (the server commits), then closes without an answer;
- `cut_mid_answer`: forwards, sends the headers and half of the body, closes;
- `forged`: the server's answer, re-signed with a key of another server (signature forged);
- `replay`: the answer the server gave to this device's previous good sync, again;
- `other_device`: the server's answer with another device id, signed with the real signer
  (`signer` key: a misrouted answer that passes every check but the device id);
- `old_list`: the server's answer naming `old_bundle`, signed with the real signer (a
  server restored from an old backup), and that bundle served to the unit's GET;
- `truncated_bundle`: the server's answer naming `bundle` cut in half, signed with the real
  signer (the signature is good, the list is not), and the cut bundle served;
- `inject_bundle`: the server's answer naming `bundle` (e.g. a list too large for the server
  to publish), signed with the real signer, and that bundle served;
- `cut_bundle_download`: the server's answer as it is, but the unit's GET of the bundle it
  names is cut in the middle.

A sync answer names a newer bundle (serial, size, SHA-256) and the unit fetches it with
`GET /api/v1/areas/<id>/trustlist?serial=N` through the proxy: in the bundle modes the proxy
answers that GET with the bundle its answer named; otherwise it forwards it.
- `time_back`: the server's answer with its time `time_back` seconds in the past, signed with
  the real signer (a server whose clock jumped backwards).
"""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from gerbang_protocol import BundleRef, cbor
from gerbang_protocol.cose import decode_sign1, sign1

MODES = ("pass", "slow", "status500", "status503", "cut_after_request", "cut_mid_answer",
         "forged", "replay", "other_device", "old_list", "truncated_bundle", "inject_bundle",
         "time_back", "cut_bundle_download")
_MAX = 1 << 20


@dataclass
class Seen:
    """One request through the proxy: who sent it, its counter, what the proxy did."""

    device_id: str
    counter: int
    mode: str
    status: int | None = None  # the server's status (None: not forwarded)


@dataclass
class _Http:
    head: bytes
    body: bytes
    status: int = 0
    headers: dict[str, str] = field(default_factory=dict)


def _read_http(sock: socket.socket, response: bool) -> _Http:
    """One HTTP/1.x message with a Content-Length (or, for an answer, up to close)."""
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed before the headers ended")
        buf += chunk
        if len(buf) > _MAX:
            raise ConnectionError("headers too long")
    head, body = buf.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    n = int(headers["content-length"]) if "content-length" in headers else None
    while (n is None and response) or (n is not None and len(body) < n):
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
        if len(body) > _MAX:
            raise ConnectionError("body too long")
    msg = _Http(head, body if n is None else body[:n], headers=headers)
    if response:
        msg.status = int(lines[0].split()[1])
    return msg


def _answer(status: int, body: bytes, ctype: str = "application/cose",
            extra: str = "") -> bytes:
    reason = {200: "OK", 500: "INTERNAL SERVER ERROR", 503: "SERVICE UNAVAILABLE"}.get(status, "X")
    return (f"HTTP/1.0 {status} {reason}\r\nContent-Type: {ctype}\r\n"
            f"Content-Length: {len(body)}\r\n{extra}Connection: close\r\n\r\n").encode() + body


class FaultProxy:
    """`with FaultProxy("http://127.0.0.1:PORT", signer=key) as p:` -> p.url for the units."""

    def __init__(self, upstream: str, signer: Ed25519PrivateKey | None = None,
                 delay: float = 8.0) -> None:
        host, port = upstream.split("://", 1)[1].split(":")
        self.upstream = (host, int(port.split("/")[0]))
        self.signer = signer
        self.delay = delay
        self.mode = "pass"
        self.old_bundle: bytes | None = None
        self.bundle: bytes | None = None
        self.time_back = 2 * 86400
        self.other_device = "gb-other-0001"
        self.forger = Ed25519PrivateKey.generate()  # another server's key
        self.requests: list[Seen] = []
        self.fetches: list[str] = []  # the paths of the units' GETs (bundle downloads)
        self._serving: bytes | None = None  # the bundle the last rewritten answer named
        self._last_good: dict[str, bytes] = {}  # device -> the body of its last 200 answer
        self._lock = threading.Lock()
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(32)
        self.url = f"http://127.0.0.1:{self._sock.getsockname()[1]}"
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, name="faultproxy", daemon=True)

    def start(self) -> FaultProxy:
        self._thread.start()
        return self

    def close(self) -> None:
        self._stop.set()
        try:
            self._sock.close()
        except OSError:
            pass
        self._thread.join(timeout=5)

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def counters(self, device_id: str) -> list[int]:
        """Every counter this device sent through the proxy, in arrival order."""
        with self._lock:
            return [s.counter for s in self.requests if s.device_id == device_id]

    # -- serving --
    def _accept(self) -> None:
        self._sock.settimeout(0.2)
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _forward(self, req: _Http) -> _Http:
        with socket.create_connection(self.upstream, timeout=30) as up:
            up.sendall(req.head + b"\r\n\r\n" + req.body)
            return _read_http(up, response=True)

    def _serve(self, conn: socket.socket) -> None:
        try:
            conn.settimeout(30)
            req = _read_http(conn, response=False)
            mode = self.mode
            if req.head.startswith(b"GET "):
                out = self._get(mode, req, conn)
                if out is not None:
                    conn.sendall(out)
                return
            seen = Seen(*_who(req.body), mode)
            with self._lock:
                self.requests.append(seen)
            out = self._fault(mode, req, seen, conn)
            if out is not None:
                conn.sendall(out)
        except (OSError, ValueError, KeyError):
            pass  # a unit that gave up (timeout) or a malformed request: nothing to answer
        finally:
            conn.close()

    def _fault(self, mode: str, req: _Http, seen: Seen, conn: socket.socket) -> bytes | None:
        if mode == "status500":
            return _answer(500, b'{"error": "internal"}', "application/json")
        if mode == "status503":
            return _answer(503, b'{"error": "unavailable"}', "application/json",
                           "Retry-After: 120\r\n")
        if mode == "replay":
            old = self._last_good.get(seen.device_id)
            if old is None:
                raise ValueError("replay: no earlier answer recorded for " + seen.device_id)
            return _answer(200, old)
        resp = self._forward(req)
        seen.status = resp.status
        if resp.status == 200 and mode == "pass":
            self._last_good[seen.device_id] = resp.body
        if mode == "pass" or resp.status != 200:
            return _answer(resp.status, resp.body, resp.headers.get("content-type", ""))
        if mode == "slow":
            time.sleep(self.delay)
            return _answer(200, resp.body)
        if mode == "cut_after_request":
            return None
        if mode == "cut_mid_answer":
            whole = _answer(200, resp.body)
            conn.sendall(whole[:len(whole) - len(resp.body) // 2])
            return None
        return _answer(200, self._rewrite(mode, resp.body))

    def _get(self, mode: str, req: _Http, conn: socket.socket) -> bytes | None:
        with self._lock:
            self.fetches.append(req.head.split(b" ", 2)[1].decode("latin-1"))
        served = self._serving
        if served is not None and mode in ("old_list", "truncated_bundle", "inject_bundle"):
            return _answer(200, served, "application/cbor")
        resp = self._forward(req)
        if mode == "cut_bundle_download" and resp.status == 200:
            whole = _answer(200, resp.body, "application/cbor")
            conn.sendall(whole[:len(whole) - len(resp.body) // 2])
            return None
        return _answer(resp.status, resp.body, resp.headers.get("content-type", ""))

    def _name(self, m: dict, bundle: bytes) -> None:
        """Make the answer m name bundle (serial above the unit's), served to the GET."""
        serial = m[8][0] if 8 in m else 1 << 20
        m[8] = BundleRef.of(serial, bundle).to_cbor()
        self._serving = bundle

    def _rewrite(self, mode: str, body: bytes) -> bytes:
        m = cbor.loads(decode_sign1(body, _MAX).payload)
        key = self.signer
        if mode == "forged":
            key = self.forger
            m[2] = 1 << 20  # and it claims everything is acknowledged
        elif mode == "other_device":
            m[1] = self.other_device
        elif mode == "old_list":
            if self.old_bundle is None:
                raise ValueError("old_list: set old_bundle first")
            self._name(m, self.old_bundle)
        elif mode == "inject_bundle":
            if self.bundle is None:
                raise ValueError("inject_bundle: set bundle first")
            self._name(m, self.bundle)
        elif mode == "time_back":
            m[3] -= self.time_back
        elif mode == "truncated_bundle":
            if self.bundle is None:
                raise ValueError("truncated_bundle: set bundle first (the list to cut)")
            self._name(m, self.bundle[:len(self.bundle) // 2])
        if key is None:
            raise ValueError(mode + ": needs the signer key")
        return sign1(key, cbor.dumps(m))


def _who(body: bytes) -> tuple[str, int]:
    """(device id, counter) of a sync request, unverified."""
    m: Any = cbor.loads(decode_sign1(body, _MAX).payload)
    return str(m[1]), int(m[2])
