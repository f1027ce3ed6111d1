"""The channel contract's import rule: the messenger adapters know nothing of the application that wires them, nor of
the database."""
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


def test_no_handler_imports_bot_or_storage():
    """Issue 17's rule: handlers turn messenger events into core calls; the database and the wiring are bot's."""
    offenders = {
        str(path.relative_to(HANDLERS.parent)): sorted(m for m in imported_modules(path)
                                                       if m.split(".")[0] in ("bot", "storage", "sqlalchemy"))
        for path in sorted(HANDLERS.rglob("*.py"))
    }
    assert {path: modules for path, modules in offenders.items() if modules} == {}
