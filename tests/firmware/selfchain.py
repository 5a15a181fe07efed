"""A self-made trust chain (root -> key certificate -> trust list) for what the golden bundle
cannot show: role, sortedness, key caps, long revocation lists. Signed on the spot with the
firmware's own Ed25519 (CPython and MicroPython)."""

from gerbang import cbor_enc, cose, ed25519

ROOT = bytes(range(32))
SIGNER = bytes(range(1, 33))
ISSUER_PUB = bytes.fromhex("3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c")


def self_made(role=1, revoked=b"", keys=None, area=1, serial=9):
    """(root public key, bundle) of a list for area with the given revocations (8-byte ids,
    joined), valid from t=100 to 2**31, its keys [kid, pub, from, until, area] (default: one
    issuer for area 1)."""
    root_pub = ed25519.public_key(ROOT)
    signer_pub = ed25519.public_key(SIGNER)
    kc = cose.sign(ROOT, cbor_enc.dumps({1: role, 2: signer_pub, 3: 0, 4: 2**32 - 1}),
                   cose.kid_of(root_pub))
    if keys is None:
        keys = [[cose.kid_of(ISSUER_PUB), ISSUER_PUB, 0, 2**32 - 1, 1]]
    tl = {1: area, 2: serial, 3: 100, 4: 2**31, 5: keys, 6: {}, 7: revoked, 8: bytes(16)}
    lst = cose.sign(SIGNER, cbor_enc.dumps(tl), cose.kid_of(signer_pub))
    return root_pub, cbor_enc.dumps([kc, lst])
