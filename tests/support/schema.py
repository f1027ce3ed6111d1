"""What a migrated database holds, as SQLAlchemy's inspector sees it (the migration tests go down and up)."""
from __future__ import annotations

from typing import Awaitable, Callable, TypeVar

from sqlalchemy import Inspector, inspect
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

T = TypeVar("T")


async def inspected(url: str, look: Callable[[Inspector], T]) -> T:
    """`look` applied to the inspector of the database at `url`, through an engine of its own."""
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(lambda sync: look(inspect(sync)))
    finally:
        await engine.dispose()


async def on_database(url: str, work: Callable[[AsyncConnection], Awaitable[T]]) -> T:
    """`work` done in one transaction on the database at `url`, through an engine of its own (a migration test's
    database is not the application's)."""
    engine = create_async_engine(url)
    try:
        async with engine.begin() as connection:
            return await work(connection)
    finally:
        await engine.dispose()
