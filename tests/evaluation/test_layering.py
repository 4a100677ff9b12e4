"""The package's layering: commands are thin shells over library calls, so nothing else
imports them (lit_gan/reproduce used to, for evaluation and mode coverage)."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "lit_gan"


def imported_modules(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def test_nothing_outside_commands_imports_commands():
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        relative = path.relative_to(PACKAGE)
        if relative.parts[0] == "commands" or relative.name == "__main__.py":  # the dispatcher names them
            continue
        bad = sorted(m for m in imported_modules(path) if m == "lit_gan.commands" or m.startswith("lit_gan.commands."))
        if bad:
            offenders.append(f"{relative}: {', '.join(bad)}")
    assert not offenders, offenders


def test_the_scanner_sees_an_import_of_commands(tmp_path):
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from lit_gan.commands.evaluate import parse\n")
    assert "lit_gan.commands.evaluate" in imported_modules(module)
