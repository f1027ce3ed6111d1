"""The hot statements on PostgreSQL, past SQLAlchemy's execution layer (on by default; Database(fast_path=False),
KABINET_DATABASE_FAST_PATH=off, runs everything through SQLAlchemy).

A turn runs two of the built-once statements on average (OPEN_TURN and its writes). On PostgreSQL each cost
SQLAlchemy's execution context, its greenlet hand-off and its result wrapping, about as much CPU as asyncpg's
own work and the round trip together. Here they are compiled once to PostgreSQL's text and run as asyncpg
prepared statements on the transaction's own connection (inside its transaction: begun the way SQLAlchemy's
adapter begins it), with SQLAlchemy's bind processors applied to the parameters and the TypeDecorators' to the
results (json and numeric come back decoded from asyncpg, through the codecs SQLAlchemy's dialect sets on
connect).

A consumer's turn also skips SQLAlchemy's Connection (DirectTransaction): it checks its connection out of the
engine's pool, runs its statements here and commits on asyncpg; a Connection, and an ORM session on it, is made over
the same pooled connection, in the same transaction, only when a statement needs one.

This is the only module that touches SQLAlchemy's private attributes: the compiled statement's
`_bind_processors` and `_result_columns`, and the asyncpg adapter's `_transaction` (and 2.0's `_started`),
`_start_transaction` and `_handle_exception`. No public API hands out a compiled statement's processors or begins
the adapter's transaction without running a statement. Checked against SQLAlchemy 2.0.58 and 2.1.9
(DirectTransaction against 2.1.9 only, and 2.0's adapter by reading it): after an upgrade, run
tests/test_direct_statements.py and tests/test_transaction.py (they run on PostgreSQL both ways), and switch
the fast path off if they fail.
"""
from __future__ import annotations

import re
from operator import itemgetter
from weakref import WeakKeyDictionary

from sqlalchemy.engine import Connection
from sqlalchemy.exc import MultipleResultsFound, NoResultFound
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.util import greenlet_spawn
from sqlalchemy.types import TypeDecorator

# The engine's execution option that carries Database(fast_path=...) to every transaction on it.
OPTION = "kabinet_fast_path"


class Rows:
    """What SqlTransaction reads of a result: the rows (by attribute or _mapping) and the row count."""

    __slots__ = ("rows", "rowcount")

    def __init__(self, rows: list, rowcount: int) -> None:
        self.rows = rows
        self.rowcount = rowcount

    def __iter__(self):
        return iter(self.rows)

    def one_or_none(self):
        if len(self.rows) > 1:
            raise MultipleResultsFound("more than one row where one was expected")
        return self.rows[0] if self.rows else None

    def one(self):
        if len(self.rows) != 1:
            raise (NoResultFound if not self.rows else MultipleResultsFound)("exactly one row was expected")
        return self.rows[0]

    def scalar_one(self):
        return self.one()[0]


class Row(tuple):
    """A row read as SQLAlchemy's Row is read here: by attribute, position or _mapping[name].

    Each statement has a class of its own (row_class), its columns properties over the tuple: reading a column
    is a C call, where a __getattr__ fallback cost an attribute lookup that failed first (mapping a turn's
    accounts view read some 60 columns so)."""

    __slots__ = ()
    _index: dict[str, int] = {}

    @property
    def _mapping(self) -> _Mapping:
        return _Mapping(self)


class _Mapping:
    """A row's columns by name."""

    __slots__ = ("_row",)

    def __init__(self, row: Row) -> None:
        self._row = row

    def __getitem__(self, name: str):
        return self._row[self._row._index[name]]


def row_class(index: dict[str, int]) -> type[Row]:
    """The Row of a statement whose columns are at `index`; a name tuple's own (count, index) stays its method,
    as on SQLAlchemy's Row."""
    columns = {name: property(itemgetter(position)) for name, position in index.items() if not hasattr(Row, name)}
    return type("Row", (Row,), {"__slots__": (), "_index": index, **columns})


class Prepared:
    """One built-once statement as PostgreSQL text: its parameters in order, with their processors."""

    def __init__(self, compiled, dialect) -> None:
        self.sql = compiled.string
        processors = compiled._bind_processors
        # (the caller's parameter name, the statement's own value used when the caller has none (a LIMIT),
        # the bind processor or None)
        self.binds = []
        for name in compiled.positiontup:
            bind = compiled.binds[name]
            self.binds.append((bind.key, bind.effective_value, processors.get(name)))
        columns = compiled._result_columns
        self.row = row_class({entry.keyname: position for position, entry in enumerate(columns)})
        self.results = [
            (position, (lambda value, type_=entry.type: type_.process_result_value(value, dialect)))
            for position, entry in enumerate(columns) if isinstance(entry.type, TypeDecorator)
        ]

    def arguments(self, parameters: dict) -> list:
        values = []
        for key, own, process in self.binds:
            value = parameters.get(key, own)
            values.append(value if process is None else process(value))
        return values

    def rows(self, records) -> list[Row]:
        make = self.row
        if not self.results:
            return [make(record) for record in records]
        rows = []
        for record in records:
            values = list(record)
            for position, process in self.results:
                values[position] = process(values[position])
            rows.append(make(values))
        return rows


_COMPILED: dict[tuple[object, frozenset[str]], Prepared | None] = {}


def prepared(statement, parameters: dict, dialect) -> Prepared | None:
    """The statement compiled for these parameter names, None when SQLAlchemy must run it: a parameter it
    expands, a column default it fills in, or one the caller left out."""
    key = (statement, frozenset(parameters))
    if key not in _COMPILED:
        compiled = statement.compile(dialect=dialect, column_keys=list(parameters))
        runs_here = not (
            compiled.insert_prefetch or compiled.update_prefetch
            or any(bind.expanding or (bind.key not in parameters and (bind.required or bind.callable))
                   for bind in compiled.binds.values())
        )
        _COMPILED[key] = Prepared(compiled, dialect) if runs_here else None
    return _COMPILED[key]


# asyncpg's prepared statements of each connection, by text (a connection keeps them until it closes).
_STATEMENTS: WeakKeyDictionary[object, dict[str, object]] = WeakKeyDictionary()


class Driver:
    """The transaction's asyncpg connection, under SQLAlchemy's adapter of it."""

    def __init__(self, adapted) -> None:
        self.adapted = adapted
        self.connection = adapted.driver_connection
        # Looked up once a transaction, not once a statement (a weak key's lookup makes a weakref each time).
        self.statements = _STATEMENTS.setdefault(self.connection, {})

    @classmethod
    async def of(cls, connection: AsyncConnection) -> Driver | None:
        """The fast path of a transaction's connection; None on SQLite, or where the engine has it off."""
        if connection.dialect.driver != "asyncpg" or not connection.sync_connection.get_execution_options().get(
                OPTION, True):
            return None
        sync = connection.sync_connection
        # The pooled connection as it stands: awaiting get_raw_connection() costs a greenlet hand-off a turn, for
        # the reconnection an invalidated connection needs (and only it).
        raw = sync.connection if not sync.invalidated else await connection.get_raw_connection()
        return cls(raw.dbapi_connection)

    async def run(self, prepared: Prepared, parameters: dict) -> Rows:
        adapted = self.adapted
        try:
            if adapted._transaction is None:
                await adapted._start_transaction()  # what the adapter does before its first statement
            statement = self.statements.get(prepared.sql)
            if statement is None:
                statement = self.statements[prepared.sql] = await self.connection.prepare(prepared.sql)
            records = await statement.fetch(*prepared.arguments(parameters))
        except Exception as error:
            # A statement a migration outdated, a lost connection: prepared again on the next turn.
            self.statements.clear()
            adapted._handle_exception(error)  # raised as SQLAlchemy's DBAPI error, as the adapter does
            raise
        status = _ROWCOUNT.match(statement.get_statusmsg() or "")
        return Rows(prepared.rows(records), int(status.group(1)) if status else -1)


class DirectTransaction:
    """A consumer turn's transaction on a connection of the engine's pool, past SQLAlchemy's Connection.

    Making, beginning, committing and closing a Connection cost four greenlet hand-offs and its bookkeeping, about
    60 us a turn, for turns whose statements all run on the fast path. Here the turn takes a pooled connection
    (one hand-off: the pool may have to connect or wait), its statements begin the asyncpg transaction as the
    adapter would, the commit is asyncpg's, and a committed connection goes back to the pool with nothing for the
    pool's reset to roll back. A statement the fast path cannot run, or an ORM session, makes a Connection over the
    same pooled connection (`connection()`), which then commits and closes it instead."""

    def __init__(self, engine: AsyncEngine, pooled) -> None:
        self.engine = engine
        self.pooled = pooled  # the pool's proxy of the connection: closing it checks the connection in
        self.driver = Driver(pooled.dbapi_connection)
        self._connection: AsyncConnection | None = None

    @classmethod
    async def begin(cls, engine: AsyncEngine) -> DirectTransaction:
        return cls(engine, await engine.raw_connection())

    def connection(self) -> AsyncConnection:
        """A SQLAlchemy Connection in this transaction: made on first use, begun without I/O (asyncpg's BEGIN
        is sent before the first statement, by the adapter or by Driver.run, whichever runs first)."""
        if self._connection is None:
            connection = AsyncConnection(self.engine, Connection(self.engine.sync_engine, connection=self.pooled))
            connection.sync_connection.begin()  # the dialect's do_begin: nothing on asyncpg, so no hand-off either
            self._connection = connection
        return self._connection

    async def commit(self) -> None:
        if self._connection is not None:
            await self._connection.commit()
            return
        adapted = self.driver.adapted
        transaction = adapted._transaction
        if transaction is None:
            return
        try:
            await transaction.commit()
        except Exception as error:
            adapted._handle_exception(error)  # raised as SQLAlchemy's DBAPI error, as the adapter's commit does
        finally:
            # Done whether or not it raised, as the adapter's own commit has it (2.0's adapter also keeps `_started`).
            adapted._transaction = None
            if hasattr(adapted, "_started"):
                adapted._started = False

    async def close(self) -> None:
        """The connection back to the pool, what was not committed rolled back."""
        if self._connection is not None:
            await self._connection.close()
        elif self.driver.adapted._transaction is None:
            self.pooled.close()  # committed or never begun: the pool's reset has no I/O to do, so no hand-off
        else:
            # The pool's reset rolls back; a connection it cannot roll back is dropped (invalidated), not pooled.
            await greenlet_spawn(self.pooled.close)


_ROWCOUNT = re.compile(r"(?:SELECT|UPDATE|DELETE|INSERT \d+) (\d+)")
