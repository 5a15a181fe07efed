"""Large trust lists through the sync boot at the ESP32's heap, on both interpreters: a list
with thousands of revoked certificate ids (5,000, and the published maximum: 8,192) and three
keys is named in a sync answer (signed by the server's real signer, injected by the fault
proxy: random ids, not thousands of real revocations in the server's database), streamed to
flash by the sync boot (GET, checked against the signed size and SHA-256), installed from the
file by the boot after it, and decides: the revoked certificate is REVOKED, the others pass,
and the unit syncs again. The server side of the limit: tests/server/test_publish_limit.py."""

from __future__ import annotations

import os
import time

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from gerbang_dev.demo import Lab
from gerbang_dev.faultproxy import FaultProxy
from gerbang_dev.interpreters import ALL
from gerbang_protocol import cbor
from gerbang_protocol.cose import decode_sign1, sign1
from gerbang_protocol.keys import kid_of, public_key_bytes
from gerbang_protocol.trustlist import decode_trustlist, make_bundle, revocation_hash
from gerbang_server.trustlists import MAX_PUBLISHED_REVOKED

from .conftest import RUN_HEAP

REVOKED = 13


@pytest.fixture(scope="module", params=ALL, ids=[i.name for i in ALL])
def lab(request, tmp_path_factory):
    why = request.param.missing()
    if why:
        pytest.skip(why)
    with Lab(str(tmp_path_factory.mktemp("biglist")), heap=RUN_HEAP,
             sync_interval_s=3600, interp=request.param) as lab:
        lab.env["GERBANG_SYNC_MIN_INTERVAL"] = "0"
        lab.start_server()
        yield lab


def big_bundle(lab: Lab, area: int, n: int, revoke: bytes) -> bytes:
    """The area's current list with serial + 1 and n revoked ids (one of them `revoke`'s),
    and three keys as in a rotation overlap (retired, current, pending: the two extra are
    fresh keys, each a comb table on the door), signed by the lab's signer (not through
    sign_trustlist: it refuses lists over the cap)."""
    keycert, signed = cbor.loads(lab.bundle(area))
    tl = decode_trustlist(decode_sign1(signed).payload)
    ids = {revocation_hash(revoke)}
    while len(ids) < n:
        ids.add(os.urandom(8))
    m = tl.to_cbor()
    m[2] = tl.serial + 1
    m[3] = int(time.time())
    m[7] = b"".join(sorted(ids))
    for _ in range(3 - len(m[5])):
        pub = public_key_bytes(Ed25519PrivateKey.generate())
        m[5].append([kid_of(pub), pub, m[3] - 86400, m[4] + 86400, area])
    return make_bundle(keycert, sign1(lab.signer_key(), cbor.dumps(m)))


def _through_sync_boot(lab: Lab, area: int, n: int) -> None:
    victim, other = lab.issue(area), lab.issue(area)
    with FaultProxy(lab.url, signer=lab.signer_key()) as proxy:
        unit = lab.add_unit(f"gb-{area:02d}-{n:04d}", area, server=proxy.url)
        try:
            serial = [e["serial"] for e in unit.ev.items if e["ev"] == "trust"][-1]
            assert unit.scan(victim["qr"])["allow"]
            proxy.bundle = big_bundle(lab, area, n, bytes.fromhex(victim["cti"]))
            proxy.mode = "inject_bundle"
            s = unit.sync_now()  # staged by the sync boot, installed by the boot after it
            assert s["ok"] and s["bundle"] == len(proxy.bundle), (s.get("err"), s["heap"], s.get("mem_free"))
            trust = [e for e in unit.ev.items if e["ev"] == "trust"][-1]
            assert trust["serial"] == serial + 1 and not trust["error"], (trust, unit.console())
            d = unit.scan(victim["qr"])
            assert not d["allow"] and d["reason"] == REVOKED, d
            assert unit.scan(other["qr"])["allow"]
            proxy.mode = "pass"
            s = unit.sync_now()  # and the unit still syncs with it held
            assert s["ok"] and s["acked"] == 3, s
            assert not [e for e in unit.ev.items if e["ev"] == "error"]
        finally:
            unit.stop()


def test_largest_published_list_through_the_sync_boot(lab):
    # the server's publish limit is what the door takes: a list at the limit goes through
    _through_sync_boot(lab, 11, MAX_PUBLISHED_REVOKED)


def test_5000_revoked_ids_through_the_sync_boot(lab):
    _through_sync_boot(lab, 12, 5000)
