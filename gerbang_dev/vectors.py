"""Golden vectors: every certificate case, a trust bundle and a sync exchange, from fixed seeds.

    gerbang vectors [--out tests/vectors/golden.json] [--check] [--write-doc | --check-doc]

Ed25519 signatures and zlib output are deterministic, so the same seeds give the same bytes;
`--check` fails when the committed file differs from what the code produces now.
"""

import argparse
import hashlib
import json
import os
import sys
import zlib
from typing import Any

import cbor2

from gerbang_protocol import (
    BundleRef,
    Certificate,
    KeyCertificate,
    Policy,
    Reason,
    ScanRecord,
    Status,
    SyncRequest,
    SyncResponse,
    TrustedKey,
    TrustList,
    base45,
    cbor,
    check_qr,
    encode_qr,
    issue_cose,
    kid_of,
    load_private_key,
    make_bundle,
    make_keycert,
    make_sync_request,
    make_sync_response,
    public_key_bytes,
    revocation_hash,
    sign1,
    sign_trustlist,
)
from gerbang_protocol.keys import L

ROOT_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GOLDEN = os.path.join(ROOT_DIR, "tests", "vectors", "golden.json")
PROTOCOL_DOC = os.path.join(ROOT_DIR, "docs", "PROTOCOL.md")
NOW = 1_795_000_000  # 2026-11-18T08:53:20Z
DAY = 86400
AREA = 1


def seed(name: str) -> bytes:
    return hashlib.sha256(b"gerbang golden vectors: " + name.encode()).digest()


def key(name: str):
    return load_private_key(seed(name))


def cti(name: str) -> bytes:
    return seed("cti " + name)[:16]


def recompress(cose: bytes, wbits: int = 10) -> str:
    c = zlib.compressobj(9, zlib.DEFLATED, wbits)
    return "GB1:" + base45.encode(c.compress(cose) + c.flush())


def build() -> dict[str, Any]:
    root, signer = key("root"), key("trust-list signer")
    issuer, retired, unknown = key("issuer 2026-11"), key("issuer 2026-08"), key("unknown issuer")
    other_area = key("issuer of area 5")  # trusted by area 5's doors, named in area 1's list
    issuer_pub = public_key_bytes(issuer)
    decoy_pub = public_key_bytes(key("decoy with a colliding kid"))
    keycert = make_keycert(root, KeyCertificate(1, public_key_bytes(signer), NOW - 30 * DAY,
                                                NOW + 365 * DAY))
    tag_key = seed("tag key area 1")[:16]

    def trustlist(serial: int) -> TrustList:
        return TrustList(
            area=AREA, serial=serial, issued=NOW - DAY, expires=NOW + 13 * DAY,
            keys=[
                # Same kid as the issuer's, another key: the door must try both (kid collision).
                TrustedKey(kid_of(issuer_pub), decoy_pub, NOW - 10 * DAY, NOW + 60 * DAY, AREA),
                TrustedKey(kid_of(issuer_pub), issuer_pub, NOW - 10 * DAY, NOW + 60 * DAY, AREA),
                TrustedKey(kid_of(public_key_bytes(retired)), public_key_bytes(retired),
                           NOW - 100 * DAY, NOW - DAY, AREA),
            ],
            policy=Policy(min_doses=2, categories=0b101110, clock_policy=1,
                          max_unsynced=3 * DAY, reuse_window=0),
            revoked=sorted({revocation_hash(cti("revoked")), seed("other revoked 1")[:8],
                            seed("other revoked 2")[:8]}),
            tag_key=tag_key,
            other_kids=[kid_of(public_key_bytes(other_area)), seed("other area kid")[:8]],
        )

    bundle = make_bundle(keycert, sign_trustlist(signer, trustlist(5)))
    bundle_older = make_bundle(keycert, sign_trustlist(signer, trustlist(4)))

    def cert(name: str, signer_key=issuer, iat=NOW - DAY, nbf=NOW - DAY, exp=NOW + 30 * DAY,
             category=1, doses=2, areas=None) -> bytes:
        return issue_cose(signer_key, Certificate("GB/balai-kota", iat, nbf, exp, cti(name),
                                                  Status(category, doses, areas)))

    cases: list[tuple[str, str, int]] = []  # (name, qr, clock quality)

    def add(name: str, qr: str, clock: int = 0) -> None:
        cases.append((name, qr, clock))

    valid = cert("valid")
    add("valid", encode_qr(valid))
    add("valid_listed_areas", encode_qr(cert("valid_listed_areas", areas=[AREA, 3])))
    add("valid_clock_stale_flagged", encode_qr(cert("valid_clock_stale")), clock=1)
    add("valid_recovery", encode_qr(cert("valid_recovery", category=2, doses=0)))
    add("expired", encode_qr(cert("expired", nbf=NOW - 40 * DAY, iat=NOW - 5 * DAY, exp=NOW - 1)))
    add("not_yet_valid", encode_qr(cert("not_yet_valid", nbf=NOW + 3600)))
    add("other_area", encode_qr(cert("other_area", areas=[2])))
    add("revoked", encode_qr(cert("revoked")))
    add("unknown_kid", encode_qr(cert("unknown_kid", signer_key=unknown)))
    add("other_area_kid", encode_qr(cert("other_area_kid", signer_key=other_area, areas=[5])))
    add("key_outside_window", encode_qr(cert("key_outside_window", signer_key=retired,
                                             iat=NOW - 20 * DAY)))
    add("iat_before_key_window", encode_qr(cert("iat_before_key_window", iat=NOW - 11 * DAY)))
    add("too_few_doses", encode_qr(cert("too_few_doses", doses=1)))
    add("category_not_accepted", encode_qr(cert("category_not_accepted", category=4)))
    claims_missing_exp = {1: "GB/balai-kota", 6: NOW - DAY, 5: NOW - DAY, 7: cti("claims"),
                          -65537: [1, 2]}
    add("claims_malformed", encode_qr(sign1(issuer, cbor.dumps(claims_missing_exp))))

    item = cbor2.loads(valid)
    prot, unprot, payload, sig = item.value
    tampered = bytearray(payload)
    tampered[-3] ^= 0x01  # inside the status claim
    add("tampered_payload", encode_qr(cbor2.dumps(cbor2.CBORTag(18, [prot, unprot, bytes(tampered), sig]))))
    bad_sig = bytearray(sig)
    bad_sig[5] ^= 0x40
    add("bad_signature", encode_qr(cbor2.dumps(cbor2.CBORTag(18, [prot, unprot, payload, bytes(bad_sig)]))))
    s = int.from_bytes(sig[32:], "little") + L  # same point equation, non-canonical S >= L
    add("non_canonical_s", encode_qr(cbor2.dumps(cbor2.CBORTag(18, [prot, unprot, payload, sig[:32] + s.to_bytes(32, "little")]))))
    add("wrong_prefix", "HC1:" + encode_qr(valid)[4:])
    add("bad_base45", encode_qr(valid)[:-3] + "a!~")
    add("zlib_bomb", recompress(bytes(60_000)))
    add("zlib_window_too_large", recompress(valid, wbits=15))
    add("not_cbor", recompress(b"\xff\x00\x01"))
    add("not_cose", recompress(cbor2.dumps([1, 2, 3])))
    add("too_long", "GB1:" + "0" * 600)
    add("empty", "")

    certificates = []
    for name, qr, clock in cases:
        d = check_qr(qr, bundle, public_key_bytes(root), AREA, NOW, clock)
        certificates.append({
            "name": name, "qr": qr, "clock_quality": clock, "allow": d.allow,
            "reason": int(d.reason), "reason_name": d.reason.name,
            "kid": d.kid.hex() if d.kid else None,
            "subject_tag": d.subject_tag.hex() if d.subject_tag else None, "flags": d.flags,
        })

    device = key("device gb-01-0001")
    records = b"".join(ScanRecord(seq, NOW - 300 + seq, 1 if seq != 2 else 0,
                                  0 if seq != 2 else int(Reason.EXPIRED), 0, 0,
                                  kid_of(issuer_pub), seed(f"tag {seq}")[:8]).pack()
                       for seq in (1, 2, 3))
    req = SyncRequest("gb-01-0001", 7, seed("nonce")[:16], NOW, 1, records, 4, "0.1.0",
                      {1: 61_000, 2: 1_900_000, 3: 0, 4: 86_400, 5: 0})
    resp = SyncResponse("gb-01-0001", 3, NOW + 1, req.nonce, keycert, BundleRef.of(5, bundle),
                        {1: 900, 2: 3000})
    return {
        "_origin": "generated by `gerbang vectors` (gerbang_dev/vectors.py) from fixed seeds",
        "now": NOW, "area": AREA, "root_pub": public_key_bytes(root).hex(),
        "signer_pub": public_key_bytes(signer).hex(), "issuer_pub": issuer_pub.hex(),
        "tag_key": tag_key.hex(), "keycert": keycert.hex(),
        "bundle": bundle.hex(), "bundle_serial": 5,
        "bundle_older": bundle_older.hex(), "bundle_older_serial": 4,
        "certificates": certificates,
        "sync_request": {"device_id": req.device_id, "device_seed": seed("device gb-01-0001").hex(),
                         "device_pub": public_key_bytes(device).hex(), "counter": req.counter,
                         "nonce": req.nonce.hex(), "first_seq": 1, "records": records.hex(),
                         "cose": make_sync_request(device, req).hex()},
        "sync_response": {"signer_pub": public_key_bytes(signer).hex(), "acked_seq": 3,
                          "server_time": NOW + 1, "cose": make_sync_response(signer, resp).hex()},
    }


GOLDEN_FW = os.path.join(ROOT_DIR, "tests", "vectors", "golden_fw.txt")


def dump(vectors: dict[str, Any]) -> str:
    return json.dumps(vectors, indent=1) + "\n"


def dump_fw(v: dict[str, Any]) -> str:
    """The same vectors one per line, for the door's heap: `key value`, and for certificates
    `cert NAME ALLOW REASON CLOCK FLAGS KID TAG QR` (QR last: base45 has spaces; - = none)."""
    lines = [f"# {v['_origin']}; same content as golden.json"]
    lines += [f"{k} {v[k]}" for k in ("now", "area", "root_pub", "signer_pub", "issuer_pub",
                                      "tag_key", "keycert", "bundle", "bundle_serial",
                                      "bundle_older", "bundle_older_serial")]
    for c in v["certificates"]:
        lines.append(" ".join(["cert", c["name"], str(int(c["allow"])), str(c["reason"]),
                               str(c["clock_quality"]), str(c["flags"]), c["kid"] or "-",
                               c["subject_tag"] or "-", c["qr"]]))
    rq, rs = v["sync_request"], v["sync_response"]
    lines += [f"sync_request_{k} {rq[k]}" for k in ("device_id", "device_seed", "device_pub",
                                                      "counter", "nonce", "first_seq", "records",
                                                      "cose")]
    lines += [f"sync_response_{k} {rs[k]}" for k in ("acked_seq", "server_time", "cose")]
    return "\n".join(lines) + "\n"


def register():  # type: ignore[no-untyped-def]
    """The `gerbang vectors` click command (entry point gerbang.dev_commands)."""
    import click

    @click.command("vectors", help=__doc__, short_help="write (or --check) the golden vectors")
    @click.option("--out", default=GOLDEN, type=click.Path(dir_okay=False),
                  help="where to write golden.json")
    @click.option("--check", is_flag=True, help="fail if the committed file differs")
    @click.option("--write-doc", is_flag=True, help="refresh the examples in docs/PROTOCOL.md")
    @click.option("--check-doc", is_flag=True, help="fail if docs/PROTOCOL.md examples differ")
    def vectors(**kw) -> int:  # type: ignore[no-untyped-def]
        return run(argparse.Namespace(**kw))

    return vectors


def run(args: argparse.Namespace) -> int:
    from gerbang_dev import doc_examples

    vectors = build()
    if args.write_doc or args.check_doc:
        return doc_examples.sync_doc(PROTOCOL_DOC, vectors, write=args.write_doc)
    outputs = {args.out: dump(vectors), os.path.join(os.path.dirname(args.out),
                                                      os.path.basename(GOLDEN_FW)): dump_fw(vectors)}
    if args.check:
        stale = []
        for path, text in outputs.items():
            try:
                with open(path) as f:
                    if f.read() != text:
                        stale.append(path)
            except OSError:
                stale.append(path)
        for path in stale:
            print(f"{path} differs: run `gerbang vectors`")
        if not stale:
            print("golden vectors up to date")
        return 1 if stale else 0
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    for path, text in outputs.items():
        with open(path, "w") as f:
            f.write(text)
    print(f"wrote {len(vectors['certificates'])} certificate cases to {', '.join(outputs)}")
    return 0


if __name__ == "__main__":
    from gerbang_cli.cli import run_module

    sys.exit(run_module("vectors"))
