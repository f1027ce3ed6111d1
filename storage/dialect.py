"""The one place that picks a dialect's INSERT: ON CONFLICT is spelled per dialect in SQLAlchemy."""
from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import TypeVar

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

DIALECTS = ("postgresql", "sqlite")
CHUNK = 500  # rows or IN-list values per statement: well under either database's limit of bound parameters
T = TypeVar("T")


def insert_for(dialect: str):
    """The INSERT construct (with on_conflict_do_…) of the dialect named: PostgreSQL's, else SQLite's."""
    return postgresql.insert if dialect == "postgresql" else sqlite.insert


def insert_of(bind: AsyncSession | AsyncConnection | AsyncEngine):
    """The INSERT construct of the database a session, connection or engine talks to."""
    return insert_for(dialect_of(bind))


def dialect_of(bind: AsyncSession | AsyncConnection | AsyncEngine) -> str:
    return (bind.bind if isinstance(bind, AsyncSession) else bind).dialect.name


def per_dialect(build: Callable[[str], T]) -> dict[str, T]:
    """A statement built once for each dialect, by the dialect's name (`build` takes the name)."""
    return {name: build(name) for name in DIALECTS}


def chunks(items: Sequence[T], size: int = CHUNK) -> Iterator[Sequence[T]]:
    """The items a statement's worth at a time."""
    for start in range(0, len(items), size):
        yield items[start:start + size]
