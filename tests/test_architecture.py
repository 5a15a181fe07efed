"""Import directions between the parts (docs/ARCHITECTURE.md), read from the source with
``ast`` (nothing is imported): every ``import`` counts, at module level or inside a function.

- gerbang_server never imports gerbang_cli or gerbang_dev;
- gerbang_protocol imports none of gerbang_server, gerbang_cli, gerbang_dev;
- gerbang_cli never imports gerbang_server or gerbang_dev (it reaches a server over HTTP);
- the firmware core (firmware/gerbang) never imports the board layer nor ``machine``,
  ``network``, ``esp32``;
- no import circle inside gerbang_server, none inside firmware/gerbang.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Where each importable name lives: host packages from the repo root, firmware packages from
# firmware/ (the device's sys.path).
SOURCE_ROOTS = {
    "gerbang_protocol": ROOT,
    "gerbang_server": ROOT,
    "gerbang_cli": ROOT,
    "gerbang_dev": ROOT,
    "gerbang": ROOT / "firmware",
    "board": ROOT / "firmware",
}

FORBIDDEN = {
    "gerbang_server": {"gerbang_cli", "gerbang_dev"},
    "gerbang_protocol": {"gerbang_server", "gerbang_cli", "gerbang_dev"},
    "gerbang_cli": {"gerbang_server", "gerbang_dev"},
    "gerbang": {"board", "machine", "network", "esp32"},  # the firmware core
}


def _modules() -> dict[str, Path]:
    """Dotted module name -> file, for every Python file of the parts above."""
    out: dict[str, Path] = {}
    for top, base in SOURCE_ROOTS.items():
        for path in sorted((base / top).rglob("*.py")):
            rel = path.relative_to(base).with_suffix("")
            parts = list(rel.parts)
            if parts[-1] == "__init__":
                parts.pop()
            out[".".join(parts)] = path
    return out


MODULES = _modules()


def _imports(name: str, path: Path) -> Iterator[tuple[str, int]]:
    """(imported module, line) for every import statement of module ``name``."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base_parts = package.split(".")
                base_parts = base_parts[:len(base_parts) - (node.level - 1)]
                base = ".".join(base_parts + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                yield (sub if sub in MODULES else base), node.lineno


def _edges(top: str) -> dict[str, set[str]]:
    """Import graph among the modules of package ``top``."""
    graph: dict[str, set[str]] = {}
    for name, path in MODULES.items():
        if name.split(".")[0] != top:
            continue
        graph[name] = {target for target, _ in _imports(name, path)
                       if target.split(".")[0] == top and target in MODULES and target != name}
    return graph


def _circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_every_part_is_found():
    tops = {name.split(".")[0] for name in MODULES}
    assert tops == set(SOURCE_ROOTS)
    assert "gerbang_server.app" in MODULES and "gerbang.check" in MODULES


@pytest.mark.parametrize("top", sorted(FORBIDDEN))
def test_import_directions(top):
    bad = []
    for name, path in MODULES.items():
        if name.split(".")[0] != top:
            continue
        for target, line in _imports(name, path):
            if target.split(".")[0] in FORBIDDEN[top]:
                bad.append(f"{path.relative_to(ROOT)}:{line} imports {target}")
    assert bad == [], f"{top} must not import {sorted(FORBIDDEN[top])}:\n" + "\n".join(bad)


def test_no_import_circle_in_server():
    assert _circles(_edges("gerbang_server")) == []


def test_no_import_circle_in_firmware_core():
    assert _circles(_edges("gerbang")) == []


def test_circle_finder_finds_a_circle():
    """The checker itself: a two-module loop and a longer one are found, a chain is not."""
    assert _circles({"a": {"b"}, "b": {"a"}, "c": {"a"}}) == [["a", "b"]]
    assert _circles({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == [["a", "b", "c"]]
    assert _circles({"a": {"b"}, "b": {"c"}, "c": set()}) == []
