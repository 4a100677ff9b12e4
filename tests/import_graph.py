"""Every lit_gan module's imports, read with ast (module-level and function-local ones,
relative ones resolved), folded into the package-level graph that tests/test_layers.py
checks against the layer order.

``python tests/test_layers.py`` prints the cycles and upward imports it finds.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "lit_gan"


def module_name(path: Path, package: Path) -> str:
    """lit_gan/data/mnist.py -> lit_gan.data.mnist; lit_gan/data/__init__.py -> lit_gan.data."""
    parts = [package.name, *path.relative_to(package).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _absolute(node: ast.ImportFrom, importer: str, is_package: bool) -> str:
    """The module an ImportFrom names, with ``from . import x`` / ``from ..a import b`` resolved."""
    if not node.level:
        return node.module or ""
    base = importer.split(".") if is_package else importer.split(".")[:-1]
    base = base[:len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def imported_modules(path: Path, name: str | None = None, is_package: bool | None = None) -> set[str]:
    """Every module name an import statement anywhere in ``path`` names, and for
    ``from m import a`` also ``m.a`` (a may be a submodule). Relative imports need the
    importer's ``name``; without it they are skipped."""
    if is_package is None:
        is_package = path.name == "__init__.py"
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level and name is None:
                continue
            module = _absolute(node, name or "", is_package)
            if module:
                found.add(module)
            found.update(f"{module}.{alias.name}" if module else alias.name for alias in node.names)
    return found


def package_modules(package: Path = PACKAGE) -> dict[str, Path]:
    return {module_name(p, package): p for p in sorted(package.rglob("*.py"))}


LAZY_REFERENCE = re.compile(r"^[A-Za-z_][\w.]*:\w+$")  # "lit_gan.evaluation.parzen:parzen_metric"


def _named_modules(path: Path, name: str, modules: dict[str, Path]) -> set[str]:
    """The package's modules that ``path`` imports: ``from m import a`` counts as ``m.a``
    where that is a module, else as ``m``; a name that is no module falls back to the
    module holding it; a "module:attribute" string (a registry's lazy import) counts too."""
    def holder(imported: str) -> str:
        while imported and imported not in modules:
            imported = imported.rpartition(".")[0]
        return imported

    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(holder(alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            module = _absolute(node, name, path.name == "__init__.py")
            for alias in node.names:
                found.add(holder(f"{module}.{alias.name}"))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and LAZY_REFERENCE.match(node.value):
            found.add(holder(node.value.partition(":")[0]))
    return found - {"", name}


def module_imports(package: Path = PACKAGE) -> dict[str, set[str]]:
    """Module -> the package's own modules it imports, anywhere in its body."""
    modules = package_modules(package)
    return {name: _named_modules(path, name, modules) for name, path in modules.items()}


def unit(module: str) -> str:
    """The layer-level unit a module belongs to: its subpackage, or the top-level module itself
    (lit_gan.data.mnist -> data, lit_gan.errors -> errors)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def unit_graph(imports: dict[str, set[str]]) -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for importer, imported in imports.items():
        edges = graph.setdefault(unit(importer), set())
        edges.update(unit(m) for m in imported if unit(m) not in (unit(importer), "__init__"))
    return graph


def within_units(imports: dict[str, set[str]]) -> dict[str, set[str]]:
    """The module graph's edges that stay inside one unit (a cycle across units is the unit graph's)."""
    return {importer: {m for m in imported if unit(m) == unit(importer)} for importer, imported in imports.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one node (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(found)


def cycle_witnesses(component: list[str], imports: dict[str, set[str]]) -> list[str]:
    """The module-level imports that make up a unit cycle, ``a.x -> b.y``."""
    members = set(component)
    return sorted(f"{importer} -> {m}" for importer, imported in imports.items() for m in imported
                  if unit(importer) in members and unit(m) in members and unit(m) != unit(importer))


def upward_imports(imports: dict[str, set[str]], rank: dict[str, int]) -> list[str]:
    """Imports that go to a higher layer than the importer's, ``a.x (layer) -> b.y (layer)``.
    Units missing from ``rank`` are reported as such."""
    found = []
    for importer, imported in sorted(imports.items()):
        if unit(importer) not in rank:
            found.append(f"{importer}: its unit {unit(importer)!r} is in no layer")
            continue
        for m in sorted(imported):
            if unit(m) in rank and rank[unit(m)] > rank[unit(importer)]:
                found.append(f"{importer} ({rank[unit(importer)]}) -> {m} ({rank[unit(m)]})")
    return found
