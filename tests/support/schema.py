"""What a migrated database holds, as SQLAlchemy's inspector sees it (the migration tests go down and up)."""
from __future__ import annotations

from typing import Callable, TypeVar

from sqlalchemy import Inspector, inspect
from sqlalchemy.ext.asyncio import create_async_engine

T = TypeVar("T")


async def inspected(url: str, look: Callable[[Inspector], T]) -> T:
    """`look` applied to the inspector of the database at `url`, through an engine of its own."""
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(lambda sync: look(inspect(sync)))
    finally:
        await engine.dispose()
