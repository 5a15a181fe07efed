"""Device side of the sync exchange (docs/PROTOCOL.md §6): the signed request, and the
verified response (signer = key certified by the pinned root in the response's keycert)."""

from micropython import const

from gerbang import cbor, cose
from gerbang.reasons import CBOR, SIGNATURE, Reject
from gerbang.truststore import drop

MAX_RESPONSE = const(65536)
MAX_BUNDLE = const(73728)  # as gerbang.trustverify's: the largest bundle fetched
_U32 = const(0xFFFFFFFF)
_BYTES = (bytes, memoryview)


def build_request(seed, kid, device_id, counter, nonce, device_time, first_seq, records,
                  trust_serial, firmware, health):
    """Tagged COSE_Sign1 body of POST /api/v1/sync, signed with the device's Ed25519 seed
    (kid = kid of its public key). counter and nonce come from the caller (persisted counter,
    random nonce); records is the concatenation of 32-byte scan records from first_seq."""
    from gerbang import cbor_enc  # the encoder is not resident: only the sync boot encodes

    payload = cbor_enc.dumps({1: device_id, 2: counter, 3: bytes(nonce), 4: device_time,
                              5: first_seq, 6: bytes(records), 7: trust_serial,
                              8: firmware, 9: health})
    return cose.sign(seed, payload, kid)


class Response:
    __slots__ = ("device_id", "acked_seq", "server_time", "bundle", "config", "signer_pub")
    # bundle: None, or (serial, size, sha256) of a newer trust bundle the door fetches itself


def _uint(v, what, maximum=_U32):
    if type(v) is not int or v < 0 or v > maximum:
        raise Reject(CBOR, what + " must be an unsigned integer")
    return v


def _field(m, label, what):
    if label not in m:
        raise Reject(CBOR, what + " is missing")
    return m[label]


def open_response(data, root_pub, nonce, device_id=None, now=None):
    """Verify and decode a sync response. Raises Reject: CBOR/COSE (malformed), NO_TRUST (key
    certificate not from the pinned root, wrong role, outside validity when now is given),
    SIGNATURE (not signed by the certified key, or the nonce/device is not ours: a replayed
    or misdirected response). Returns a Response; bundle is None or (serial, size, sha256)
    of a newer trust bundle to fetch (gerbang.sync), config None or
    {1: sync_interval, 2: relay_ms, 3: debounce_ms}."""
    if len(data) > MAX_RESPONSE:
        raise Reject(CBOR, "response too large")
    # Views into data, never copies: an answer with a bundle of thousands of revocations is
    # tens of KB, held once (docs/FIRMWARE_CORE.md "Two interpreters").
    msg = cose.decode(memoryview(data), True)
    # The keycert sits in the (not yet trusted) payload: only it can tell who the signer is.
    m = cbor.loads(msg.payload, CBOR, True)
    if type(m) is not dict:
        raise Reject(CBOR, "sync response must be a map")
    keycert = _field(m, 5, "keycert")
    if not isinstance(keycert, _BYTES):
        raise Reject(CBOR, "keycert must be a byte string")
    from gerbang import ed25519, trustverify

    try:  # one-off verifies: their load-time code is dropped again after
        signer_pub, _ = trustverify.open_keycert(keycert, root_pub, now)
        good = ed25519.verify(signer_pub, trustverify.sig_parts(msg.protected, msg.payload),
                              msg.signature)
    finally:
        trustverify = None
        drop(("trustverify", "ed25519_oneoff", "ed25519_tables"))
    if not good:
        raise Reject(SIGNATURE, "sync response signature does not verify")
    # Trusted from here on.
    r = Response()
    r.signer_pub = signer_pub
    r.device_id = _field(m, 1, "device_id")
    if type(r.device_id) is not str or len(r.device_id) > 32:
        raise Reject(CBOR, "device_id must be text of at most 32 characters")
    if device_id is not None and r.device_id != device_id:
        raise Reject(SIGNATURE, "response is for another device")
    echoed = _field(m, 4, "nonce")
    if not isinstance(echoed, _BYTES) or len(echoed) != 16:
        raise Reject(CBOR, "nonce must be 16 bytes")
    if bytes(echoed) != bytes(nonce):
        raise Reject(SIGNATURE, "nonce does not match the request (replayed response)")
    r.acked_seq = _uint(_field(m, 2, "acked_seq"), "acked_seq")
    r.server_time = _uint(_field(m, 3, "server_time"), "server_time")
    r.bundle = m.get(8)
    if r.bundle is not None:
        b = r.bundle
        if type(b) is not list or len(b) != 3 or not isinstance(b[2], _BYTES) or len(b[2]) != 32:
            raise Reject(CBOR, "bundle must be [serial, size, sha256]")
        r.bundle = (_uint(b[0], "bundle serial"), _uint(b[1], "bundle size", MAX_BUNDLE),
                    bytes(b[2]))
    r.config = m.get(7)
    if r.config is not None:
        if type(r.config) is not dict:
            raise Reject(CBOR, "config must be a map")
        for k in r.config:
            _uint(k, "config key", 255)
            _uint(r.config[k], "config value", 0xFFFFFFFFFFFFFFFF)
    return r
