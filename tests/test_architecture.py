"""The layout's rules, checked on the source: the folders are the architecture only while they hold.

* only ``kg/store/`` imports pyoxigraph (everything else talks to the store interface);
* no import cycle between modules, counting imports inside functions too;
* ``kg`` reaches the loaders only through their registry (``kg.loaders``), never a loader module;
* our IRIs are minted in ``kg/rdf/iri.py``: nobody else builds one under the base (or a fragment
  node) from a format string.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).parent.parent


def _modules() -> dict[str, Path]:
    """Module name → file, for kg/ and loaders/ (installed as kg.loaders)."""
    out = {}
    for path in sorted((ROOT / "kg").rglob("*.py")):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    for path in sorted((ROOT / "loaders").rglob("*.py")):
        parts = ["kg", "loaders", *path.relative_to(ROOT / "loaders").with_suffix("").parts]
        out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return out


MODULES = _modules()


def _imports(name: str, path: Path) -> set[str]:
    """The kg modules (and third-party roots) a module imports, anywhere in its body."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            for alias in node.names:
                candidate = f"{module}.{alias.name}"
                found.add(candidate if candidate in MODULES else module)
    return found


IMPORTS = {name: _imports(name, path) for name, path in MODULES.items()}


def test_only_the_store_package_imports_pyoxigraph():
    offenders = [name for name, imported in IMPORTS.items()
                 if any(i == "pyoxigraph" or i.startswith("pyoxigraph.") for i in imported)
                 and not name.startswith("kg.store")]
    assert offenders == []


def test_no_import_cycles():
    graph = {name: {i for i in imported if i in MODULES and i != name} for name, imported in IMPORTS.items()}
    # a package's __init__ importing its own submodules is how a package exposes them; a
    # submodule importing its package back is then the cycle, which is what this finds
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(v: str) -> None:  # Tarjan's strongly connected components
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for v in graph:
        if v not in index:
            visit(v)
    assert cycles == []


def test_kg_reaches_loaders_only_through_the_registry():
    offenders = {name: sorted(i for i in imported if i.startswith("kg.loaders."))
                 for name, imported in IMPORTS.items() if not name.startswith("kg.loaders")}
    assert {k: v for k, v in offenders.items() if v} == {}


def test_iris_are_minted_in_one_place():
    """No module but the minter builds one of our IRIs (under the base, or a fragment) from text."""
    minter = ROOT / "kg" / "rdf" / "iri.py"
    offenders = []
    for name, path in MODULES.items():
        if path == minter:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "IRI" and node.args \
                    and isinstance(node.args[0], (ast.JoinedStr, ast.BinOp)):
                text = ast.unparse(node.args[0])
                if any(marker in text for marker in (".id", ".base", ".def_", "#", "id/")):
                    offenders.append(f"{name}:{node.lineno} builds an IRI from text: {text}")
    assert offenders == []
