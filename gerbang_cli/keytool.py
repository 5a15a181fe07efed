"""Key material: the offline root, the server's trust-list signer and door-unit device keys.

    gerbang keys init-root     --dir keys/          root.key (OFFLINE) + root.pub
    gerbang keys certify-signer --dir keys/ [--days 365]
                                                    signer.key + signer.keycert (root-signed)
    gerbang keys device ID     --dir keys/          devices/ID.key (goes onto the unit only) + ID.pub
    gerbang keys show FILE                          public key and kid of a .key or .pub file

Private keys are 64 hex digits (a raw Ed25519 seed) in files of mode 0600; git ignores them.
The server gets the signer key and its key certificate with `flask --app gerbang_server import-keycert`;
it only ever gets the *public* half of a device key.
"""

import argparse
import os
import sys
import time

from gerbang_protocol import (
    KeyCertificate,
    kid_of,
    load_private_key,
    make_keycert,
    new_private_key,
    open_keycert,
    private_key_bytes,
    public_key_bytes,
)

DAY = 86400


def write_secret(path: str, seed: bytes, force: bool = False) -> None:
    if os.path.exists(path) and not force:
        raise SystemExit(f"{path} exists: refusing to overwrite a private key (use --force)")
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(seed.hex() + "\n")


def write_public(path: str, pub: bytes) -> None:
    with open(path, "w") as f:
        f.write(pub.hex() + "\n")


def read_key(path: str):
    try:
        with open(path) as f:
            return load_private_key(bytes.fromhex(f.read().strip()))
    except (OSError, ValueError) as e:
        raise SystemExit(f"{path}: not a Gerbang private key file ({e})") from None


def read_pub(path: str) -> bytes:
    with open(path) as f:
        text = f.read().strip()
    pub = bytes.fromhex(text) if len(text) == 64 else b""
    if len(pub) == 32:
        return pub
    raise SystemExit(f"{path}: expected 64 hex digits (a public key)")


def cmd_init_root(a: argparse.Namespace) -> int:
    key = new_private_key()
    write_secret(os.path.join(a.dir, "root.key"), private_key_bytes(key), a.force)
    pub = public_key_bytes(key)
    write_public(os.path.join(a.dir, "root.pub"), pub)
    print(f"root public key {pub.hex()} (kid {kid_of(pub).hex()})")
    print(f"{a.dir}/root.key is the root of all trust: move it OFFLINE after certifying the signer")
    return 0


def cmd_certify_signer(a: argparse.Namespace) -> int:
    root = read_key(a.root or os.path.join(a.dir, "root.key"))
    signer = new_private_key()
    now = int(time.time())
    kc = KeyCertificate(1, public_key_bytes(signer), now - DAY, now + a.days * DAY)
    keycert = make_keycert(root, kc)
    open_keycert(keycert, public_key_bytes(root), now)  # prove it verifies before writing it
    write_secret(os.path.join(a.dir, "signer.key"), private_key_bytes(signer), a.force)
    with open(os.path.join(a.dir, "signer.keycert"), "wb") as f:
        f.write(keycert)
    print(f"signer public key {kc.pub.hex()} (kid {kid_of(kc.pub).hex()}), "
          f"certified for {a.days} days")
    print(f"import it: flask --app gerbang_server import-keycert --key {a.dir}/signer.key "
          f"--keycert {a.dir}/signer.keycert --root-pub {a.dir}/root.pub")
    return 0


def cmd_device(a: argparse.Namespace) -> int:
    key = new_private_key()
    base = os.path.join(a.dir, "devices", a.device_id)
    write_secret(base + ".key", private_key_bytes(key), a.force)
    pub = public_key_bytes(key)
    write_public(base + ".pub", pub)
    print(f"device {a.device_id}: public key {pub.hex()} (kid {kid_of(pub).hex()})")
    print(f"register the PUBLIC key on the server; {base}.key goes onto the unit only")
    return 0


def cmd_show(a: argparse.Namespace) -> int:
    pub = read_pub(a.file) if a.file.endswith(".pub") else public_key_bytes(read_key(a.file))
    print(f"public key {pub.hex()}\nkid        {kid_of(pub).hex()}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    from gerbang_cli.cli import subcommand

    p = subcommand(sub, "keys", "make root, signer and device keys", __doc__)
    ks = p.add_subparsers(required=True, metavar="ACTION")
    r = ks.add_parser("init-root", help="new offline root key")
    r.set_defaults(func=cmd_init_root)
    s = ks.add_parser("certify-signer", help="new trust-list signer, certified by the root")
    s.add_argument("--root", help="root key file (default DIR/root.key)")
    s.add_argument("--days", type=int, default=365, help="validity of the key certificate")
    s.set_defaults(func=cmd_certify_signer)
    d = ks.add_parser("device", help="new door-unit device key")
    d.add_argument("device_id")
    d.set_defaults(func=cmd_device)
    w = ks.add_parser("show", help="public key and kid of a key file")
    w.add_argument("file")
    w.set_defaults(func=cmd_show)
    for q in (r, s, d):
        q.add_argument("--dir", default="keys", help="key directory (default keys/)")
        q.add_argument("--force", action="store_true", help="overwrite existing private keys")


if __name__ == "__main__":
    from gerbang_cli.cli import run_module

    sys.exit(run_module("keys"))
