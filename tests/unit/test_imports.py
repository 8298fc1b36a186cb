"""trainyard's import graph: no cycles, and the layer rules of docs/architecture.md.

The graph is read from the source with ``ast``, so it holds every import a module names: at the
top, inside functions (a lazy import still ties the two modules together, it only moves the cost
to the first call) and under ``TYPE_CHECKING`` (the type checker follows it, and a type-only cycle
is two modules that cannot be understood apart). ``from package import name`` is an edge to the
submodule ``package.name`` when there is one, else to the package's ``__init__``; the parent
packages that Python initialises on the way are not edges, since importing ``a.b.c`` names only
``a.b.c`` and an ``__init__``'s own imports are edges of their own.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src"
ROOT = "trainyard"

# Who may import the public SDK: the layers drawn above it, and the package's own lazy exports.
ABOVE_SDK = ("trainyard.sdk", "trainyard.cli", "trainyard.server", "trainyard.azureml", "trainyard.__main__")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def within(module: str, *packages: str) -> bool:
    return any(module == p or module.startswith(p + ".") for p in packages)


def _named(node: ast.Import | ast.ImportFrom, module: str, is_package: bool) -> Iterator[tuple[str, str]]:
    """(imported module, name taken from it or "") for each name the import statement names."""
    if isinstance(node, ast.Import):
        for alias in node.names:
            yield alias.name, ""
        return
    base = node.module or ""
    if node.level:
        package = module.split(".") if is_package else module.split(".")[:-1]
        anchor = package[: len(package) - node.level + 1]
        base = ".".join([*anchor, *([base] if base else [])])
    for alias in node.names:
        yield base, alias.name


def source_files() -> dict[str, Path]:
    return {module_name(p): p for p in (SRC / ROOT).rglob("*.py")}


def import_graph() -> dict[str, set[str]]:
    """Each trainyard module -> the trainyard modules it imports, anywhere in its text."""
    files = source_files()
    graph: dict[str, set[str]] = {}
    for module, path in files.items():
        targets: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if not isinstance(node, ast.Import | ast.ImportFrom):
                continue
            for base, name in _named(node, module, path.name == "__init__.py"):
                if name and f"{base}.{name}" in files:
                    targets.add(f"{base}.{name}")
                    continue
                while base and base not in files:  # `import a.b.c` of a package's attribute
                    base = base.rpartition(".")[0]
                if base:
                    targets.add(base)
        graph[module] = targets - {module}
    return graph


def ground_floor(graph: dict[str, set[str]]) -> set[str]:
    """The single-file modules at the top of the package (``errors.py``, ``status.py``…) that
    import nothing of trainyard but each other: what every layer may lean on."""
    files = source_files()
    ground = {m for m in graph if m.count(".") == 1 and files[m].name not in ("__init__.py", "__main__.py")}
    while True:
        kept = {m for m in ground if graph[m] <= ground}
        if kept == ground:
            return ground
        ground = kept


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    found = import_graph()
    assert "trainyard.sdk.run" in found and "trainyard.tracking.run" in found["trainyard.sdk.run"]
    return found


def edges(graph: dict[str, set[str]]) -> Iterator[tuple[str, str]]:
    for importer, targets in sorted(graph.items()):
        for target in sorted(targets):
            yield importer, target


def test_the_graph_reads_lazy_and_type_only_imports() -> None:
    tree = ast.parse("if TYPE_CHECKING:\n    from .b import B\ndef f():\n    import trainyard.c.d\n")
    named = [
        n
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for n in _named(node, "trainyard.a.x", False)
    ]
    assert sorted(named) == [("trainyard.a.b", "B"), ("trainyard.c.d", "")]


def test_the_cycle_finder_names_each_loop_once() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a", "d"}, "d": set(), "e": {"a"}}) == [["a", "b", "c"]]


def test_no_import_cycles(graph: dict[str, set[str]]) -> None:
    described = [
        " <-> ".join(c) + ": " + "; ".join(f"{a} -> {b}" for a in c for b in sorted(graph[a] & set(c)))
        for c in cycles(graph)
    ]
    assert not described, "import cycles:\n" + "\n".join(described)


def test_nothing_below_the_sdk_imports_it(graph: dict[str, set[str]]) -> None:
    wrong = [
        f"{a} -> {b}"
        for a, b in edges(graph)
        if within(b, "trainyard.sdk") and a != ROOT and not within(a, *ABOVE_SDK)
    ]
    assert not wrong, (
        "below the SDK, these import it (use trainyard.tracking / trainyard.registry):\n" + "\n".join(wrong)
    )


def test_only_the_store_reaches_its_sql_implementation(graph: dict[str, set[str]]) -> None:
    wrong = [
        f"{a} -> {b}"
        for a, b in edges(graph)
        if within(b, "trainyard.store.sql") and not within(a, "trainyard.store")
    ]
    assert not wrong, "outside store/, these import trainyard.store.sql:\n" + "\n".join(wrong)


def test_errors_and_status_stay_on_the_ground_floor(graph: dict[str, set[str]]) -> None:
    ground = ground_floor(graph)
    assert {"trainyard.errors", "trainyard.status"} <= ground, sorted(ground)
    assert "trainyard.workspace" not in ground  # it opens stores: a layer, not the ground


def test_the_wire_contract_imports_only_the_ground_floor(graph: dict[str, set[str]]) -> None:
    """api/ is what the server and every client share, so it may not pull in either side."""
    ground = ground_floor(graph)
    wrong = [
        f"{a} -> {b}"
        for a, b in edges(graph)
        if within(a, "trainyard.api") and not (within(b, "trainyard.api") or b in ground)
    ]
    assert not wrong, f"api/ imports more than the ground floor ({', '.join(sorted(ground))}):\n" + "\n".join(
        wrong
    )
