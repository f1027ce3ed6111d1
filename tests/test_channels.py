"""The channel contract's import rule: the messenger adapters know nothing of the application that wires them."""
from __future__ import annotations

import ast
from pathlib import Path

HANDLERS = Path(__file__).resolve().parent.parent / "handlers"


def imported_modules(path: Path) -> set[str]:
    modules: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules.add(node.module)
    return modules


def test_no_handler_imports_bot():
    offenders = {
        str(path.relative_to(HANDLERS.parent)): sorted(m for m in imported_modules(path) if m.split(".")[0] == "bot")
        for path in sorted(HANDLERS.rglob("*.py"))
    }
    assert {path: modules for path, modules in offenders.items() if modules} == {}
