"""The engine and the unit of work that core's Store protocol asks for."""
from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from storage import fast_path as fast
from storage.repositories import SqlTransaction


def ensure_sqlite_folder(url: str) -> None:
    """SQLite makes the file but not its folder."""
    path = url.split("///", 1)[1] if url.startswith("sqlite") and "///" in url else ""
    if path and path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)


def make_engine(url: str, pool_size: int = 20, **options) -> AsyncEngine:
    """The engine; `pool_size` is the most PostgreSQL connections it opens (SQLite keeps SQLAlchemy's pool)."""
    if url.startswith("sqlite"):
        ensure_sqlite_folder(url)
        engine = create_async_engine(url, connect_args={"timeout": 30}, **options)

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(connection, _record) -> None:
            cursor = connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        return engine
    # No overflow: SQLAlchemy closes an overflow connection as soon as it is back, so with more turns in
    # flight than pool_size every turn past it opened a PostgreSQL backend (a fork and a login, more CPU
    # than the turn). A turn past the pool waits for a connection instead (KABINET_DATABASE_POOL).
    options.setdefault("max_overflow", 0)
    engine = create_async_engine(url, pool_size=pool_size, **options)
    if not options.get("pool_pre_ping"):
        event.listen(engine.sync_engine, "checkout", _closed_is_gone)
    return engine


def _closed_is_gone(dbapi_connection, _record, _proxy) -> None:
    """A pooled connection the server has closed (a restart, a cut) is replaced before anyone uses it.

    This is pool_pre_ping without its cost: the ping is three round trips (BEGIN, a query, ROLLBACK) on
    every checkout, a quarter of a consumer turn's. asyncpg marks a connection closed as soon as the
    event loop sees the server hang up, which is what a restart does; a connection that dies silently
    fails its first statement, the turn apologises, and SQLAlchemy drops the whole pool on that error.
    """
    connection = getattr(dbapi_connection, "_connection", None)
    if connection is not None and connection.is_closed():
        raise DisconnectionError("the server closed this connection")


OPEN_PLANS = "kabinet_open_plans"  # the key of a session's info that holds its database's OpenPlans


class OpenPlans:
    """Whether this process is to look for reminder plans still being expanded (storage/plans.py, `expand_due`).

    A dispatcher polls every second or so and a plan is open for minutes a day: after a look that found none it
    looks again only when this process has committed a plan's opening since, or `recheck` seconds later (a plan
    opened by another process: `kabinet jobs run`, another server's scheduler)."""

    def __init__(self, recheck: float = 60.0) -> None:
        self.recheck = recheck
        self.opened = 0  # plans whose opening this process has committed
        self._none: tuple[int, float] | None = None  # (opened, time.monotonic()) when a look began that found none

    def opened_one(self) -> None:
        self.opened += 1

    def worth_looking(self) -> bool:
        if self._none is None:
            return True
        opened, at = self._none
        return opened != self.opened or time.monotonic() - at >= self.recheck

    def looking(self) -> tuple[int, float]:
        """Taken before the look: an opening committed while it runs is looked for on the next poll."""
        return self.opened, time.monotonic()

    def found(self, any_open: bool, began: tuple[int, float]) -> None:
        self._none = None if any_open else began


class Database:
    """Kabinet's database: hands out one transaction per consumer event or import run.

    `fast_path=False` runs every statement through SQLAlchemy, none straight on asyncpg (storage/fast_path.py):
    for a SQLAlchemy upgrade the fast path was not checked against. It is an option of the engine, so every
    transaction on it keeps it, the operators' and the jobs' too."""

    def __init__(self, url: str, *, fast_path: bool = True, **options) -> None:
        self.url = url
        execution_options = {**options.pop("execution_options", {}), fast.OPTION: fast_path}
        self.engine = make_engine(url, execution_options=execution_options, **options)
        self.open_plans = OpenPlans()
        self._direct_turns = fast_path and self.engine.dialect.driver == "asyncpg"
        # Every session of the database carries it, for storage/plans.py's open_plan to find (a session's info dict).
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False, info={OPEN_PLANS: self.open_plans})

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        async with self.sessions() as session, session.begin():
            yield session

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[SqlTransaction]:
        """One consumer event's unit of work: a pooled connection in a transaction, committed at the end,
        rolled back on an error. On PostgreSQL with the fast path, the turn's statements run on the pooled asyncpg
        connection itself, and a SQLAlchemy connection and ORM session are made only if a query needs them
        (storage/fast_path.py, DirectTransaction); elsewhere on a SQLAlchemy connection, with an ORM session only
        if a query needs one."""
        if not self._direct_turns:
            async with self.engine.connect() as connection, connection.begin():
                tx = SqlTransaction(connection=connection)
                yield tx
                await tx.finish()
            return
        direct = await fast.DirectTransaction.begin(self.engine)
        try:
            tx = SqlTransaction(direct=direct)
            yield tx
            await tx.finish()
            await direct.commit()
        finally:
            await direct.close()

    async def close(self) -> None:
        await self.engine.dispose()
