"""The CBOR modules of the door form no import circle (issue 9), and decoding never loads the
encoder: cbor (decoder, Tag) <- cbor_enc (encoder); cbor -> cbor_float (first float only),
cbor -> cbor_utf8 (first non-ASCII text only)."""

import ast
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
PKG = os.path.join(ROOT, "firmware", "gerbang")
MICROPYTHON = os.path.join(os.path.dirname(sys.executable), "micropython")


def _imports(name: str) -> set[str]:
    """Every gerbang module `name` imports, at module level or inside a function."""
    with open(os.path.join(PKG, name + ".py")) as f:
        tree = ast.parse(f.read())
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "gerbang":
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("gerbang."):
            out.add(node.module.split(".", 1)[1])
        elif isinstance(node, ast.Import):
            out |= {a.name.split(".", 1)[1] for a in node.names if a.name.startswith("gerbang.")}
    return out


def _reachable(start: str) -> set[str]:
    seen: set[str] = set()
    todo = [start]
    while todo:
        for m in _imports(todo.pop()):
            if m not in seen and os.path.exists(os.path.join(PKG, m + ".py")):
                seen.add(m)
                todo.append(m)
    return seen


def test_no_circle_through_the_cbor_modules() -> None:
    for name in ("cbor", "cbor_enc", "cbor_float", "cbor_utf8"):
        assert name not in _reachable(name), f"{name} imports itself through {_reachable(name)}"


def test_decoder_never_imports_the_encoder() -> None:
    assert "cbor_enc" not in _reachable("cbor") | _reachable("cbor_float") | _reachable("cbor_utf8")


def test_decoding_leaves_the_encoder_out_of_ram() -> None:
    code = (
        "import sys\nsys.path.insert(0, 'firmware')\nfrom gerbang import cbor, cose\n"
        "cbor.loads(bytes.fromhex('8301f93c00fb3ff8000000000000'))\n"
        "cbor.loads(b'\\x6dGB/balai-kota')\n"
        "print(sorted(m for m in sys.modules if m.startswith('gerbang.')))\n"
        "cbor.loads(b'\\x62\\xc3\\xbc')\n"
        "print('gerbang.cbor_utf8' in sys.modules)\n"
    )
    out = subprocess.run([MICROPYTHON, "-X", "heapsize=112K", "-c", code], cwd=ROOT,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    mods, utf8_after = out.stdout.split()[:-1], out.stdout.split()[-1]
    mods = " ".join(mods)
    assert "gerbang.cbor_float" in mods and "gerbang.cbor_enc" not in mods, mods
    assert "gerbang.cbor_utf8" not in mods and utf8_after == "True", out.stdout  # ASCII: no check
