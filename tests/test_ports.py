"""Issue 17 (ports): what our code calls on a unit of work (outside storage) is what its protocol declares, and
storage implements every declared method with the declared parameters. A runtime stand-in for a type
checker: it reads the code, so a call to an undeclared method fails here before it fails in production."""
from __future__ import annotations

import ast
import importlib
import inspect
import re
from pathlib import Path
from typing import Protocol

import pytest

from core import ports

ROOT = Path(__file__).resolve().parent.parent
CHECKED = ("core", "scheduler", "handlers", "bot")  # every caller of a unit of work but storage itself


def protocols() -> dict[str, type]:
    return {name: value for name, value in vars(ports).items()
            if inspect.isclass(value) and Protocol in value.__mro__ and value is not Protocol}


def declared(protocol: type) -> set[str]:
    return {name for cls in protocol.__mro__ if cls.__module__ == ports.__name__
            for name in vars(cls) if not name.startswith("_")}


def units_of_work() -> dict[str, str]:
    """A store's method that opens a unit of work -> the protocol of what it yields (`transaction` -> Transaction)."""
    found = {}
    for protocol in protocols().values():
        for name in declared(protocol):
            returns = getattr(getattr(protocol, name, None), "__annotations__", {}).get("return", "")
            match = re.fullmatch(r"AbstractAsyncContextManager\[(\w+)\]", str(returns))
            if match:
                found[name] = match.group(1)
    return found


def _annotation(node: ast.expr | None) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def _own_nodes(function: ast.AST):
    """The nodes of a function's body, not of the functions defined in it (they bind their own names)."""
    stack = list(ast.iter_child_nodes(function))
    while stack:
        node = stack.pop()
        yield node
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            stack.extend(ast.iter_child_nodes(node))


def calls_on_units_of_work(source: str) -> list[tuple[int, str, str]]:
    """(line, protocol, attribute) of every attribute used on a unit of work: a parameter annotated with a
    protocol of core/ports.py, a name bound by `async with store.transaction() as tx` (or another method that
    yields one), an unannotated `tx`, or `something.tx` (Turn's); the last two are Transactions."""
    known, units = protocols(), units_of_work()
    uses = []
    for function in ast.walk(ast.parse(source)):
        if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        bound: dict[str, str] = {}
        arguments = function.args
        for argument in arguments.posonlyargs + arguments.args + arguments.kwonlyargs:
            name = _annotation(argument.annotation)
            if name in known:
                bound[argument.arg] = name
            elif argument.arg == "tx" and argument.annotation is None:
                bound["tx"] = "Transaction"
        nodes = list(_own_nodes(function))
        for node in nodes:
            if isinstance(node, (ast.With, ast.AsyncWith)):
                for item in node.items:
                    call = item.context_expr
                    if (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute)
                            and call.func.attr in units and isinstance(item.optional_vars, ast.Name)):
                        bound[item.optional_vars.id] = units[call.func.attr]
        for node in nodes:
            if not isinstance(node, ast.Attribute):
                continue
            target = node.value
            if isinstance(target, ast.Name) and target.id in bound:
                uses.append((node.lineno, bound[target.id], node.attr))
            elif isinstance(target, ast.Attribute) and target.attr == "tx":
                uses.append((node.lineno, "Transaction", node.attr))
    return uses


def undeclared_calls() -> list[str]:
    known = protocols()
    wrong = []
    for folder in CHECKED:
        for path in sorted((ROOT / folder).rglob("*.py")):
            for line, protocol, attribute in calls_on_units_of_work(path.read_text(encoding="utf-8")):
                if attribute not in declared(known[protocol]):
                    wrong.append(f"{path.relative_to(ROOT)}:{line}: {protocol} does not declare {attribute}")
    return wrong


def test_core_and_the_scheduler_call_only_what_their_protocols_declare():
    assert undeclared_calls() == []


def test_the_check_sees_an_undeclared_call():
    source = '''
async def render(tx, item):
    return await tx.invoice(1, "2026-11"), tx.session

async def planned(store: OutboxStore):
    async with store.delivery() as unit:
        await unit.record_delivery(1, "sent", now=None)
        await unit.vacuum()
'''
    uses = calls_on_units_of_work(source)
    assert (3, "Transaction", "invoice") in uses and (3, "Transaction", "session") in uses
    known = protocols()
    assert [attribute for _, protocol, attribute in uses if attribute not in declared(known[protocol])] == \
        ["session", "vacuum"]


IMPLEMENTATIONS = [
    ("Transaction", "storage.repositories", "SqlTransaction"),
    ("ReminderPlanning", "storage.scheduling", "SqlOutboxTransaction"),
    ("Delivery", "storage.scheduling", "SqlOutboxTransaction"),
    ("OutboxStore", "storage.scheduling", "SqlOutbox"),
    ("Leadership", "storage.scheduling", "AdvisoryLock"),
]


def _shape(function) -> list[tuple[str, object, object]]:
    return [(p.name, p.kind, p.default) for p in inspect.signature(function).parameters.values()]


@pytest.mark.parametrize("protocol, module, implementation", IMPLEMENTATIONS,
                         ids=[f"{p}-{i}" for p, _, i in IMPLEMENTATIONS])
def test_storage_implements_every_declared_method_as_declared(protocol, module, implementation):
    protocol, implementation = getattr(ports, protocol), getattr(importlib.import_module(module), implementation)
    wrong = []
    for name in sorted(declared(protocol)):
        wanted = inspect.getattr_static(protocol, name)
        given = inspect.getattr_static(implementation, name, None)
        if given is None:
            wrong.append(f"{name}: missing")
        elif isinstance(wanted, property) or isinstance(given, property):
            if not isinstance(given, property):
                wrong.append(f"{name}: not a property")
        elif inspect.iscoroutinefunction(wanted) != inspect.iscoroutinefunction(given):
            wrong.append(f"{name}: async in one, not in the other")
        elif _shape(wanted) != _shape(given):
            wrong.append(f"{name}: {inspect.signature(given)}, declared {inspect.signature(wanted)}")
    assert wrong == []


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_the_scheduler_reaches_storage_only_through_the_ports():
    reaching = {f"{path.name}: {name}" for path in (ROOT / "scheduler").glob("*.py") for name in _imports(path)
                if name.split(".")[0] in ("storage", "sqlalchemy")}
    assert reaching == set()


def test_the_admin_api_imports_no_orm_rows():
    assert {name for name in _imports(ROOT / "bot" / "admin.py") if name in ("storage.models", "sqlalchemy")} == set()


async def test_one_process_leads_the_scheduler_until_it_lets_go(database):
    """The store's Leadership: on PostgreSQL an advisory lock, so a second process follows; on SQLite there is
    one process, always the leader."""
    from storage.scheduling import SqlOutbox

    first, second = SqlOutbox(database).leadership(), SqlOutbox(database).leadership()
    try:
        assert await first.try_take() and first.held
        assert await first.try_take()  # kept, not taken twice
        if database.is_sqlite:
            assert await second.try_take()
            return
        assert not await second.try_take() and not second.held
        await first.release()
        assert not first.held
        assert await second.try_take()
        assert not await first.try_take()
    finally:
        await first.release()
        await second.release()
