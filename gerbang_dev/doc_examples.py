"""The examples in docs/PROTOCOL.md, made from the golden vectors so the doc cannot drift.

A block in the doc looks like:  <!-- example:NAME -->  followed by a fenced code block.
"""

import re
from typing import Any

import cbor2

from gerbang_protocol import Reason, ScanRecord, cbor, decode_qr

# One example block: the marker line, an opening fence, the body (at least one line), a fence.
_BLOCK = re.compile(r"(<!-- example:([a-z0-9-]+) -->\n```[a-z]*\n)(.*?)(\n```$)", re.S | re.M)


def diag(v: Any, indent: int = 0) -> str:
    """CBOR diagnostic notation (RFC 8949 §8), one map entry a line."""
    pad = "  " * (indent + 1)
    if isinstance(v, cbor2.CBORTag):
        return f"{v.tag}({diag(v.value, indent)})"
    if isinstance(v, bytes):
        return f"h'{v.hex()}'"
    if isinstance(v, str):
        return '"' + v + '"'
    if isinstance(v, list):
        return "[" + ", ".join(diag(x, indent) for x in v) + "]"
    if isinstance(v, dict):
        if not v:
            return "{}"
        items = [f"{pad}{diag(k)}: {diag(x, indent + 1)}" for k, x in v.items()]
        return "{\n" + ",\n".join(items) + "\n" + "  " * indent + "}"
    return repr(v)


def _nested(cose: bytes) -> str:
    """A COSE_Sign1 with its protected header and payload shown decoded (`<< >>`)."""
    prot, unprot, payload, sig = cbor.loads(cose).value
    return (f"18([\n  << {diag(cbor.loads(prot), 1)} >>,\n  {diag(unprot)},\n"
            f"  << {diag(cbor.loads(payload), 1)} >>,\n  h'{sig.hex()}'\n])")


def examples(v: dict[str, Any]) -> dict[str, str]:
    valid = next(c for c in v["certificates"] if c["name"] == "valid")
    cose = decode_qr(valid["qr"])
    keycert_hex, tl_hex = (x.hex() for x in cbor2.loads(bytes.fromhex(v["bundle"])))
    rec = bytes.fromhex(v["sync_request"]["records"])[:32]
    r = ScanRecord.unpack(rec)
    return {
        "qr-valid": valid["qr"],
        "cose-valid": f"{len(cose)} bytes of COSE_Sign1, {len(valid['qr'])} characters of QR text\n"
                      + _nested(cose),
        "keycert": _nested(bytes.fromhex(keycert_hex)),
        "trustlist": _nested(bytes.fromhex(tl_hex)),
        "record": f"{rec.hex()}\nseq={r.seq} time={r.time} decision={r.decision} "
                  f"reason={r.reason} clock={r.clock} flags={r.flags} kid={r.kid.hex()} "
                  f"tag={r.tag.hex()}",
        "sync-request": _nested(bytes.fromhex(v["sync_request"]["cose"])),
        "sync-response": _nested(bytes.fromhex(v["sync_response"]["cose"])),
        "golden-cases": "\n".join(f"{c['name']:28} -> {'allow' if c['allow'] else 'deny'} "
                                  f"{c['reason']} {c['reason_name']}" for c in v["certificates"]),
    }


def reason_rows(doc: str) -> dict[int, str]:
    return {int(m[1]): m[2] for m in re.finditer(r"^\| (\d+) \| ([A-Z][A-Z0-9_]*) \|", doc, re.M)}


def sync_doc(path: str, vectors: dict[str, Any], write: bool) -> int:
    with open(path) as f:
        doc = f.read()
    made = examples(vectors)
    found: set[str] = set()

    def fill(m: re.Match) -> str:
        found.add(m[2])
        return m[1] + made.get(m[2], m[3]) + m[4]

    new = _BLOCK.sub(fill, doc)
    problems = [f"example {n!r} is missing from the doc" for n in made if n not in found]
    problems += [f"example {n!r} is unknown" for n in found if n not in made]
    if reason_rows(doc) != {int(r): r.name for r in Reason}:
        problems.append("the reason code table differs from gerbang_protocol.Reason")
    if write:
        with open(path, "w") as f:
            f.write(new)
        print(f"refreshed {len(found)} examples in {path}")
    elif new != doc:
        problems.append("examples differ from what the code makes: run `gerbang vectors --write-doc`")
    for p in problems:
        print(p)
    return 1 if problems else 0
