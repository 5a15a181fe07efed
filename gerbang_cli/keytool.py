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

from __future__ import annotations

import os
import time

import click

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

from .errors import failed, refused
from .messages import add, t

add({
    "help.keys": ("buat kunci root, penanda tangan, dan kunci unit pintu",
                  "make root, signer and door-unit device keys"),
    "help.keys.init_root": ("kunci root baru (simpan OFFLINE)", "new offline root key"),
    "help.keys.certify": ("penanda tangan daftar kunci baru, disertifikasi root",
                          "new trust-list signer, certified by the root"),
    "help.keys.device": ("kunci unit pintu baru", "new door-unit device key"),
    "help.keys.show": ("kunci publik dan kid dari berkas kunci", "public key and kid of a key file"),
    "opt.keydir": ("folder kunci (bawaan keys/)", "key directory (default keys/)"),
    "opt.force": ("timpa kunci privat yang ada", "overwrite existing private keys"),
    "opt.root_key": ("berkas kunci root (bawaan DIR/root.key)", "root key file (default DIR/root.key)"),
    "opt.days": ("masa berlaku sertifikat kunci, hari (1..3650)",
                 "validity of the key certificate in days (1..3650)"),
    "keys.exists": ("{path} sudah ada: kunci privat tidak ditimpa (pakai --force)",
                    "{path} exists: refusing to overwrite a private key (use --force)"),
    "keys.write": ("tidak dapat menulis {path}: {detail}; periksa folder --dir",
                   "cannot write {path}: {detail}; check the --dir folder"),
    "keys.bad_key": ("{path}: bukan berkas kunci privat Gerbang ({detail})",
                     "{path}: not a Gerbang private key file ({detail})"),
    "keys.bad_pub": ("{path}: harus 64 digit hex (kunci publik)",
                     "{path}: expected 64 hex digits (a public key)"),
    "keys.bad_id": ("id unit {id!r} tidak sah: huruf, angka, . _ - (maks. 32, diawali huruf/angka)",
                    "device id {id!r} is not valid: letters, digits, . _ - (at most 32, "
                    "starting with a letter or digit)"),
    "keys.root_made": ("kunci publik root {pub} (kid {kid})", "root public key {pub} (kid {kid})"),
    "keys.root_offline": ("{dir}/root.key adalah akar semua kepercayaan: pindahkan OFFLINE setelah "
                          "mensertifikasi penanda tangan",
                          "{dir}/root.key is the root of all trust: move it OFFLINE after "
                          "certifying the signer"),
    "keys.signer_made": ("kunci publik penanda tangan {pub} (kid {kid}), berlaku {days} hari",
                         "signer public key {pub} (kid {kid}), certified for {days} days"),
    "keys.signer_import": ("impor: flask --app gerbang_server import-keycert --key {dir}/signer.key "
                           "--keycert {dir}/signer.keycert --root-pub {dir}/root.pub",
                           "import it: flask --app gerbang_server import-keycert --key "
                           "{dir}/signer.key --keycert {dir}/signer.keycert --root-pub {dir}/root.pub"),
    "keys.device_made": ("unit {id}: kunci publik {pub} (kid {kid})",
                         "device {id}: public key {pub} (kid {kid})"),
    "keys.device_note": ("daftarkan kunci PUBLIK di server (`gerbang unit add` melakukannya); "
                         "{base}.key hanya untuk unit",
                         "register the PUBLIC key on the server (`gerbang unit add` does); "
                         "{base}.key goes onto the unit only"),
    "keys.show": ("kunci publik {pub}\nkid          {kid}", "public key {pub}\nkid        {kid}"),
})

DAY = 86400


def check_writable(*paths: str, force: bool = False) -> None:
    """Refuse before any key is made: an existing private key, or a path the OS refuses."""
    for path in paths:
        if os.path.exists(path) and not force:
            raise refused("keys.exists", path=path)
        d = os.path.dirname(path) or "."
        try:
            os.makedirs(d, exist_ok=True)
        except OSError as e:
            raise refused("keys.write", path=path, detail=e.strerror or str(e)) from None
        if len(os.path.basename(path).encode()) > 255 or len(os.path.abspath(path)) >= 4096:
            raise refused("keys.write", path=path[:60] + "...", detail="name too long")


def write_secret(path: str, seed: bytes, force: bool = False) -> None:
    check_writable(path, force=force)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(seed.hex() + "\n")
    except OSError as e:
        raise failed("keys.write", path=path, detail=e.strerror or str(e)) from None


def write_public(path: str, pub: bytes) -> None:
    try:
        with open(path, "w") as f:
            f.write(pub.hex() + "\n")
    except OSError as e:
        raise failed("keys.write", path=path, detail=e.strerror or str(e)) from None


def read_key(path: str):  # type: ignore[no-untyped-def]
    try:
        with open(path) as f:
            return load_private_key(bytes.fromhex(f.read().strip()))
    except (OSError, ValueError, UnicodeDecodeError) as e:
        raise refused("keys.bad_key", path=path, detail=getattr(e, "strerror", None) or e) \
            from None


def read_pub(path: str) -> bytes:
    try:
        with open(path) as f:
            text = f.read().strip()
        pub = bytes.fromhex(text) if len(text) == 64 else b""
    except (OSError, ValueError, UnicodeDecodeError):
        pub = b""
    if len(pub) == 32:
        return pub
    raise refused("keys.bad_pub", path=path)


def init_root(dir: str, force: bool) -> None:
    check_writable(os.path.join(dir, "root.key"), os.path.join(dir, "root.pub"), force=force)
    key = new_private_key()
    write_secret(os.path.join(dir, "root.key"), private_key_bytes(key), force)
    pub = public_key_bytes(key)
    write_public(os.path.join(dir, "root.pub"), pub)
    click.echo(t("keys.root_made", pub=pub.hex(), kid=kid_of(pub).hex()))
    click.echo(t("keys.root_offline", dir=dir))


def certify_signer(dir: str, root_path: str | None, days: int, force: bool) -> None:
    root = read_key(root_path or os.path.join(dir, "root.key"))
    check_writable(os.path.join(dir, "signer.key"), os.path.join(dir, "signer.keycert"),
                   force=force)
    signer = new_private_key()
    now = int(time.time())
    kc = KeyCertificate(1, public_key_bytes(signer), now - DAY, now + days * DAY)
    keycert = make_keycert(root, kc)
    open_keycert(keycert, public_key_bytes(root), now)  # prove it verifies before writing it
    write_secret(os.path.join(dir, "signer.key"), private_key_bytes(signer), force)
    try:
        with open(os.path.join(dir, "signer.keycert"), "wb") as f:
            f.write(keycert)
    except OSError as e:
        raise failed("keys.write", path=os.path.join(dir, "signer.keycert"),
                     detail=e.strerror) from None
    click.echo(t("keys.signer_made", pub=kc.pub.hex(), kid=kid_of(kc.pub).hex(), days=days))
    click.echo(t("keys.signer_import", dir=dir))


def device_key(dir: str, device_id: str, force: bool, quiet: bool = False) -> tuple[str, bytes]:
    """A new device key pair under DIR/devices/; -> (key path, public key)."""
    from gerbang_protocol.device_id import DEVICE_ID

    if not DEVICE_ID.fullmatch(device_id):
        raise refused("keys.bad_id", id=device_id)
    base = os.path.join(dir, "devices", device_id)
    check_writable(base + ".key", base + ".pub", force=force)
    key = new_private_key()
    write_secret(base + ".key", private_key_bytes(key), force)
    pub = public_key_bytes(key)
    write_public(base + ".pub", pub)
    if not quiet:
        click.echo(t("keys.device_made", id=device_id, pub=pub.hex(), kid=kid_of(pub).hex()))
        click.echo(t("keys.device_note", base=base))
    return base + ".key", pub


def commands() -> list[click.Command]:
    dir_opt = click.option("--dir", "dir", default="keys", show_default=True,
                           type=click.Path(file_okay=False), help=t("opt.keydir"))
    force_opt = click.option("--force", is_flag=True, help=t("opt.force"))

    @click.group("keys", help=t("help.keys"))
    def keys() -> None:
        pass

    @keys.command("init-root", help=t("help.keys.init_root"))
    @dir_opt
    @force_opt
    def _init_root(dir: str, force: bool) -> None:
        init_root(dir, force)

    @keys.command("certify-signer", help=t("help.keys.certify"))
    @dir_opt
    @force_opt
    @click.option("--root", "root_path", type=click.Path(dir_okay=False), help=t("opt.root_key"))
    @click.option("--days", type=click.IntRange(1, 3650), default=365, show_default=True,
                  help=t("opt.days"))
    def _certify(dir: str, force: bool, root_path: str | None, days: int) -> None:
        certify_signer(dir, root_path, days, force)

    @keys.command("device", help=t("help.keys.device"))
    @click.argument("device_id")
    @dir_opt
    @force_opt
    def _device(device_id: str, dir: str, force: bool) -> None:
        device_key(dir, device_id, force)

    @keys.command("show", help=t("help.keys.show"))
    @click.argument("file", type=click.Path(exists=True, dir_okay=False))
    def _show(file: str) -> None:
        pub = read_pub(file) if file.endswith(".pub") else public_key_bytes(read_key(file))
        click.echo(t("keys.show", pub=pub.hex(), kid=kid_of(pub).hex()))

    return [keys]


if __name__ == "__main__":
    import sys

    from gerbang_cli.cli import run_module

    sys.exit(run_module("keys"))
