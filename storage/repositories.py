"""Queries core needs, behind core's Transaction protocol; rows become core's plain data here."""
from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal
from weakref import WeakKeyDictionary

from sqlalchemy import Row, and_, bindparam, delete, func, literal, literal_column, or_, select, true, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import MultipleResultsFound, NoResultFound
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.types import TypeDecorator

from core.model import (
    Account, AccountSummary, Chat, ConversationState, Invoice, LinkedAccount, Meter, MeterReading, Submission,
)
from core.notifications import Kind
from core.readings import MAX_ZONES
from storage import outbox
from storage.queries_billing import BillingQueries, sums_since_balance, to_invoice, to_payment
from storage.queries_photos import PhotoQueries
from storage.queries_services import ServiceQueries
from storage.models import (
    AccountRow, ChatAccountRow, ChatRow, ConversationRow, DeliveryRow, InvoiceRow, LinkAttemptRow, MeterRow, PaymentRow,
    PhotoRow, ReadingRow, ReplacedReadingRow, TariffRow,
)


def to_account(row: AccountRow) -> Account:
    return Account(
        id=row.id, number=row.number, eic=row.eic, surname=row.surname, full_name=row.full_name,
        address=row.address, settlement=row.settlement, consumer_type=row.consumer_type,
        tariff_plan=row.tariff_plan, balance=Decimal(row.balance), balance_on=row.balance_on,
        street=row.street, house=row.house, grid_node=row.grid_node,
    )


def to_meter(row, prefix: str = "") -> Meter:
    """A MeterRow, or a row with the meters columns labelled `prefix` + name (METER_COLUMNS)."""
    def value(name: str):
        return getattr(row, prefix + name)
    return Meter(
        id=value("id"), account_id=value("account_id"), serial=value("serial"), type=value("type"),
        digits=value("digits"), zones=value("zones"), k_factor=Decimal(value("k_factor")),
        installed_on=value("installed_on"), next_verification_on=value("next_verification_on"),
        tariff_plan=value("tariff_plan"),
    )


def to_chat(row: ChatRow) -> Chat:
    return Chat(row.id, row.channel, row.external_id, row.language, row.consent_at, row.active)


def _chat_and_state(row, prefix: str = "") -> tuple[Chat, ConversationState | None]:
    """A CHAT_AND_STATE row (or an OPEN_TURN row, its columns labelled "chat_"): the chat and its step."""
    def value(name: str):
        return getattr(row, prefix + name)
    chat = Chat(value("id"), value("channel"), value("external_id"), value("language"), value("consent_at"),
                value("active"))
    step = value("step")
    return chat, (ConversationState(step, dict(value("data") or {})) if step is not None else None)


# ----- the statements of every consumer turn, built once
#
# Building a statement and computing its cache key cost more CPU than PostgreSQL spends running it, and
# the ORM's handling of entity rows as much again: these run on the transaction's Core connection, with
# table columns, and are built at import. (The rest of the queries are not hot and stay plain.)

def _dialects(build):
    return {"postgresql": build(postgresql.insert), "sqlite": build(sqlite.insert)}


def _upsert(table, index: list[str], updated: tuple[str, ...]):
    """INSERT … ON CONFLICT (index) DO UPDATE SET each updated column to the inserted value, per dialect."""
    def build(insert):
        statement = insert(table)
        return statement.on_conflict_do_update(
            index_elements=index, set_={name: statement.excluded[name] for name in updated})
    return _dialects(build)


CHATS, CONVERSATIONS, ACCOUNTS, METERS, READINGS = (
    ChatRow.__table__, ConversationRow.__table__, AccountRow.__table__, MeterRow.__table__, ReadingRow.__table__
)
LINKS, PAYMENTS, INVOICES, TARIFFS = (
    ChatAccountRow.__table__, PaymentRow.__table__, InvoiceRow.__table__, TariffRow.__table__
)
FIRST_DELIVERY = _dialects(lambda insert: insert(DeliveryRow.__table__).on_conflict_do_nothing(
    index_elements=["channel", "key"]))
CHAT_AND_STATE = (
    select(CHATS.c.id, CHATS.c.channel, CHATS.c.external_id, CHATS.c.language, CHATS.c.consent_at,
           CHATS.c.active, CONVERSATIONS.c.step, CONVERSATIONS.c.data)
    .outerjoin(CONVERSATIONS, CONVERSATIONS.c.chat_id == CHATS.c.id)
    .where(CHATS.c.channel == bindparam("channel"), CHATS.c.external_id == bindparam("external_id"))
    .with_for_update(of=CHATS)
)
NEW_CHAT = _dialects(lambda insert: insert(CHATS).on_conflict_do_nothing(index_elements=["channel", "external_id"]))
SAVE_CHAT = (update(CHATS).where(CHATS.c.id == bindparam("chat_id"))
             .values(language=bindparam("language"), consent_at=bindparam("consent_at"), active=bindparam("active")))
SAVE_STATE = _upsert(CONVERSATIONS, ["chat_id"], ("step", "data", "updated_at"))
CLEAR_STATE = delete(CONVERSATIONS).where(CONVERSATIONS.c.chat_id == bindparam("chat_id"))
LINKED_ACCOUNTS = (
    select(ACCOUNTS)
    .join(ChatAccountRow.__table__, ChatAccountRow.account_id == ACCOUNTS.c.id)
    .where(ChatAccountRow.chat_id == bindparam("chat_id"))
    .order_by(ChatAccountRow.linked_at, ACCOUNTS.c.id)
)
METERS_OF = (select(METERS).where(METERS.c.account_id.in_(bindparam("account_ids", expanding=True)))
             .order_by(METERS.c.account_id, METERS.c.id))
_LATEST = (
    select(READINGS.c.zone, func.max(READINGS.c.taken_on).label("taken_on"))
    .where(READINGS.c.meter_id == bindparam("meter_id"), READINGS.c.taken_on < bindparam("before"))
    .group_by(READINGS.c.zone)
    .subquery()
)
LAST_READINGS = (
    select(READINGS.c.zone, READINGS.c.value, READINGS.c.taken_on, READINGS.c.source)
    .join(_LATEST, and_(READINGS.c.zone == _LATEST.c.zone, READINGS.c.taken_on == _LATEST.c.taken_on))
    .where(READINGS.c.meter_id == bindparam("meter_id"))
    .order_by(READINGS.c.id)
)
_READING_KEY = ["meter_id", "zone", "taken_on", "source"]
# A consumer's reading: a new row, or none when the key has one already (a second submission of the day).
NEW_READING = _dialects(lambda insert: insert(READINGS).on_conflict_do_nothing(index_elements=_READING_KEY)
                        .returning(READINGS.c.id))
# A second submission of the key: the first is locked, kept as replaced (with its photo), then overwritten.
READING_OF_KEY = (
    select(READINGS.c.id, READINGS.c.value, READINGS.c.chat_id, READINGS.c.photo_id, READINGS.c.submitted_at)
    .where(*(READINGS.c[name] == bindparam(name) for name in _READING_KEY))
    .with_for_update()
)
KEEP_REPLACED = ReplacedReadingRow.__table__.insert()
REPLACE_READING = update(READINGS).where(READINGS.c.id == bindparam("reading_id"))

# The views of a turn in one statement each (on PostgreSQL read with the opening statement, OPEN_TURN): the
# chat's accounts, a row per meter (one with empty meter columns for an account without), with each zone's
# price (a tariff and a meter have at most MAX_ZONES zones: the import takes no others); for the reading
# flows each zone's reading as LAST_READINGS would give it, for /balance the last payment and invoice and the
# sums of the invoices and payments after the balance's day.
METER_COLUMNS = [column.label(f"meter_{column.name}") for column in METERS.c]


def _price_columns(plan, prefix: str) -> list:
    """Each zone's price of the `plan` column's tariff plan: of the prices valid on the day, the latest."""
    return [
        select(TARIFFS.c.price)
        .where(TARIFFS.c.tariff_plan == plan, TARIFFS.c.zone == zone, TARIFFS.c.valid_from <= bindparam("on"))
        .order_by(TARIFFS.c.valid_from.desc()).limit(1).correlate(plan.table).scalar_subquery()
        .label(f"{prefix}price_{zone}")
        for zone in range(1, MAX_ZONES + 1)
    ]


PRICE_COLUMNS = _price_columns(ACCOUNTS.c.tariff_plan, "")
# A meter's own plan's (read only for a meter that has one: LinkedAccount.prices_of falls back to the account's).
METER_PRICE_COLUMNS = _price_columns(METERS.c.tariff_plan, "meter_")
_ACCOUNT_ROWS = (  # of every chat: _of_chat picks one
    select(*ACCOUNTS.c, *PRICE_COLUMNS, *METER_COLUMNS, *METER_PRICE_COLUMNS)
    .select_from(ACCOUNTS.join(LINKS, LINKS.c.account_id == ACCOUNTS.c.id)
                 .outerjoin(METERS, METERS.c.account_id == ACCOUNTS.c.id))
)


def _of_chat(statement):
    """The rows of one chat's accounts (`chat_id`), in the order it linked them."""
    return statement.where(LINKS.c.chat_id == bindparam("chat_id")).order_by(LINKS.c.linked_at, ACCOUNTS.c.id,
                                                                             METERS.c.id)


def _with_last_readings(statement, lateral: bool):
    """Each zone's last reading before `on` (the latest day; of one day's readings the one stored last).

    On PostgreSQL a LATERAL join, read from the meter's readings index; SQLite has no LATERAL: there the
    reading whose id a scalar subquery finds. (PostgreSQL given the second form hashed the whole readings
    table on each execution where it thought the table small.)"""
    for zone in range(1, MAX_ZONES + 1):
        last = (
            select(READINGS.c.id, READINGS.c.value, READINGS.c.taken_on, READINGS.c.source)
            .where(READINGS.c.meter_id == METERS.c.id, READINGS.c.zone == zone, READINGS.c.taken_on < bindparam("on"))
            .order_by(READINGS.c.taken_on.desc(), READINGS.c.id.desc()).limit(1)
        )
        if lateral:
            reading = last.lateral(f"reading_{zone}")
            statement = statement.outerjoin(reading, true())
        else:
            reading = READINGS.alias(f"reading_{zone}")
            statement = statement.outerjoin(
                reading, reading.c.id == last.with_only_columns(READINGS.c.id).correlate(METERS).scalar_subquery())
        statement = statement.add_columns(*[reading.c[name].label(f"reading_{zone}_{name}")
                                            for name in ("value", "taken_on", "source")])
    return statement


_LAST_PAYMENT = (  # the latest day; of one day's payments the one stored last
    select(PAYMENTS.c.id, PAYMENTS.c.paid_on, PAYMENTS.c.amount, PAYMENTS.c.purpose)
    .where(PAYMENTS.c.account_id == ACCOUNTS.c.id).order_by(PAYMENTS.c.paid_on.desc(), PAYMENTS.c.id.desc()).limit(1)
)
_LAST_INVOICE = (
    select(*INVOICES.c).where(INVOICES.c.account_id == ACCOUNTS.c.id).order_by(INVOICES.c.period.desc()).limit(1)
)

_SUMS_SINCE_BALANCE = [sum_.label(name) for sum_, name in zip(sums_since_balance(), ("invoiced_since", "paid_since"))]


def _with_last_payment_and_invoice(statement, lateral: bool):
    """The account's last payment and last invoice, the way _with_last_readings joins readings, and the sums of
    its invoices and payments after its balance's day."""
    if lateral:
        payment, invoice = _LAST_PAYMENT.lateral("last_payment"), _LAST_INVOICE.lateral("last_invoice")
        statement = statement.outerjoin(payment, true()).outerjoin(invoice, true())
    else:
        payment, invoice = PAYMENTS, INVOICES
        statement = (
            statement
            .outerjoin(PAYMENTS, PAYMENTS.c.id == _LAST_PAYMENT.with_only_columns(PAYMENTS.c.id)
                       .correlate(ACCOUNTS).scalar_subquery())
            .outerjoin(INVOICES, INVOICES.c.id == _LAST_INVOICE.with_only_columns(INVOICES.c.id)
                       .correlate(ACCOUNTS).scalar_subquery())
        )
    return statement.add_columns(
        *[payment.c[name].label(f"payment_{name}") for name in ("paid_on", "amount", "purpose")],
        *[invoice.c[name].label(f"invoice_{name}")
          for name in ("period", "issued_on", "due_on", "amount", "kwh", "pdf")],
        *_SUMS_SINCE_BALANCE,
    )


def _per_dialect(build):
    return {"postgresql": build(True), "sqlite": build(False)}


LINKED_METERS = _per_dialect(lambda lateral: _of_chat(_with_last_readings(_ACCOUNT_ROWS, lateral)))
ACCOUNT_SUMMARIES = _per_dialect(lambda lateral: _of_chat(_with_last_payment_and_invoice(_ACCOUNT_ROWS, lateral)))

# PostgreSQL: a turn's first statement records its delivery key and reads its chat (locked), its step and
# the view of its accounts both LINKED_METERS and ACCOUNT_SUMMARIES are cut from: one round trip instead of
# three. The chat is locked before the key is written (the join reads `chat` before the select list counts
# `fresh`), and every turn on PostgreSQL opens with this statement, so two copies of one update wait for
# each other on the chat, and the second finds the key taken: no lock-order deadlock. A chat's first event
# finds no chat and takes no lock; its copy then waits on the key.
_TURN_CHAT = CHAT_AND_STATE.cte("chat")
_FRESH_DELIVERY = (
    postgresql.insert(DeliveryRow.__table__)
    .from_select(["channel", "key", "seen_at"], select(*[
        bindparam(name, type_=DeliveryRow.__table__.c[name].type) for name in ("channel", "key", "seen_at")]))
    .on_conflict_do_nothing(index_elements=["channel", "key"])
    .returning(literal_column("1"))
    .cte("fresh")
)
_TURN_ACCOUNTS = (  # of the chat by a value, not a join: joined, the planner may build it for every chat
    _with_last_payment_and_invoice(_with_last_readings(_ACCOUNT_ROWS, True), True)
    .add_columns(LINKS.c.linked_at.label("link_linked_at"))
    .where(LINKS.c.chat_id == select(_TURN_CHAT.c.id).scalar_subquery())
    .subquery("accounts_view")
)
OPEN_TURN = (
    select(select(func.count()).select_from(_FRESH_DELIVERY).scalar_subquery().label("fresh"),
           *[column.label(f"chat_{column.name}") for column in _TURN_CHAT.c],
           *[column for column in _TURN_ACCOUNTS.c if not column.name.startswith("link_")])
    .select_from(select(literal(1).label("one")).subquery("one")
                 .outerjoin(_TURN_CHAT, true())
                 .outerjoin(_TURN_ACCOUNTS, true()))
    .order_by(_TURN_ACCOUNTS.c.link_linked_at, _TURN_ACCOUNTS.c.id, _TURN_ACCOUNTS.c.meter_id)
)


# ----- the hot statements on PostgreSQL, past SQLAlchemy's execution layer
#
# A turn runs two of the statements above on average (OPEN_TURN and its writes). On PostgreSQL each cost
# SQLAlchemy's execution context, its greenlet hand-off and its result wrapping, about as much CPU as asyncpg's
# own work and the round trip together. Here they are compiled once to PostgreSQL's text and run as asyncpg
# prepared statements on the transaction's own connection (inside its transaction: begun the way SQLAlchemy's
# adapter begins it), with SQLAlchemy's bind processors applied to the parameters and the TypeDecorators' to the
# results (json and numeric come back decoded from asyncpg, through the codecs SQLAlchemy's dialect sets on
# connect).

class _Rows:
    """What the callers of _run read of a result: the rows (by attribute or _mapping) and the row count."""

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


class _Row:
    """A row read as SQLAlchemy's Row is read here: by attribute, position or _mapping[name]."""

    __slots__ = ("_values", "_index")

    def __init__(self, values: list, index: dict[str, int]) -> None:
        self._values = values
        self._index = index

    @property
    def _mapping(self) -> _Row:
        return self

    def __getattr__(self, name: str):
        try:
            return self._values[self._index[name]]
        except KeyError:
            raise AttributeError(name) from None

    def __getitem__(self, key: int | str):
        return self._values[key if isinstance(key, int) else self._index[key]]

    def __iter__(self):
        return iter(self._values)


class _Prepared:
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
        self.index = {entry.keyname: position for position, entry in enumerate(columns)}
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

    def rows(self, records) -> list[_Row]:
        rows = []
        for record in records:
            values = list(record)
            for position, process in self.results:
                values[position] = process(values[position])
            rows.append(_Row(values, self.index))
        return rows


_COMPILED: dict[tuple[object, frozenset[str]], _Prepared | None] = {}


def _prepared(statement, parameters: dict, dialect) -> _Prepared | None:
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
        _COMPILED[key] = _Prepared(compiled, dialect) if runs_here else None
    return _COMPILED[key]


# asyncpg's prepared statements of each connection, by text (a connection keeps them until it closes).
_STATEMENTS: WeakKeyDictionary[object, dict[str, object]] = WeakKeyDictionary()


class _Driver:
    """The transaction's asyncpg connection, under SQLAlchemy's adapter of it."""

    def __init__(self, adapted) -> None:
        self.adapted = adapted
        self.connection = adapted.driver_connection

    async def run(self, prepared: _Prepared, parameters: dict) -> _Rows:
        adapted = self.adapted
        try:
            if adapted._transaction is None:
                await adapted._start_transaction()  # what the adapter does before its first statement
            cache = _STATEMENTS.setdefault(self.connection, {})
            statement = cache.get(prepared.sql)
            if statement is None:
                statement = cache[prepared.sql] = await self.connection.prepare(prepared.sql)
            records = await statement.fetch(*prepared.arguments(parameters))
        except Exception as error:
            # A statement a migration outdated, a lost connection: prepared again on the next turn.
            _STATEMENTS.pop(self.connection, None)
            adapted._handle_exception(error)  # raised as SQLAlchemy's DBAPI error, as the adapter does
            raise
        status = _ROWCOUNT.match(statement.get_statusmsg() or "")
        return _Rows(prepared.rows(records), int(status.group(1)) if status else -1)


_ROWCOUNT = re.compile(r"(?:SELECT|UPDATE|DELETE|INSERT \d+) (\d+)")


def _by_account(rows) -> list[tuple[Account, list[tuple[Meter, Row]], Row]]:
    """_LINKED rows (a row per meter) grouped: each account, its meters (with their rows) and its first row."""
    grouped: list[tuple[Account, list[tuple[Meter, Row]], Row]] = []
    for row in rows:
        if not grouped or grouped[-1][0].id != row.id:
            grouped.append((to_account(row), [], row))
        if row.meter_id is not None:
            grouped[-1][1].append((to_meter(row, "meter_"), row))
    return grouped


def _money(value) -> Decimal:
    """A sum of amounts as UAH: SQLite sums them as floats."""
    return Decimal(str(value)).quantize(Decimal("0.01"))


def _prices(row: Row, prefix: str = "") -> dict[int, Decimal]:
    return {zone: Decimal(price) for zone in range(1, MAX_ZONES + 1)
            if (price := row._mapping[f"{prefix}price_{zone}"]) is not None}


def _last_readings(row: Row) -> dict[int, MeterReading]:
    found = {}
    for zone in range(1, MAX_ZONES + 1):
        value, taken_on, source = (row._mapping[f"reading_{zone}_{name}"] for name in ("value", "taken_on", "source"))
        if taken_on is not None:
            found[zone] = MeterReading(zone, value, taken_on, source)
    return found


class SqlTransaction(BillingQueries, PhotoQueries, ServiceQueries):
    """Core's Transaction on an ORM session (operators, jobs), or on a Core connection already in a
    transaction (a consumer's turn: see Database.transaction), where the ORM session is made only if a
    query that needs it runs; most turns run only the built-once statements and need none."""

    def __init__(self, session: AsyncSession | None = None, *, connection: AsyncConnection | None = None) -> None:
        if (session is None) == (connection is None):
            raise ValueError("a session or a connection, not both")
        self._session = session
        self._connection = connection
        self._driver: _Driver | None = None
        self._driver_checked = False
        # (chat id, day, rows): the accounts view open_turn read, until a link or reading changes it.
        self._accounts: tuple[int, date, list] | None = None

    @property
    def session(self) -> AsyncSession:
        if self._session is None:
            # Joins the connection's transaction: Database.transaction commits or rolls back, not the session.
            self._session = AsyncSession(bind=self._connection, expire_on_commit=False)
        return self._session

    async def finish(self) -> None:
        """Before the commit: what the ORM session holds is written."""
        if self._session is not None and self._connection is not None:
            await self._session.flush()

    async def _run(self, statement, parameters: dict | list[dict] | None = None):
        """A built-once statement on the transaction's Core connection; on PostgreSQL straight on asyncpg
        where it can (see _Driver)."""
        if self._connection is None:
            self._connection = await self._session.connection()
        if not self._driver_checked:
            self._driver_checked = True
            if self._connection.dialect.driver == "asyncpg":
                self._driver = _Driver((await self._connection.get_raw_connection()).dbapi_connection)
        if self._driver is not None and type(parameters) is dict:
            prepared = _prepared(statement, parameters, self._connection.dialect)
            if prepared is not None:
                return await self._driver.run(prepared, parameters)
        return await self._connection.execute(statement, parameters)

    @property
    def dialect(self) -> str:
        return (self._connection or self._session.bind).dialect.name

    def _insert(self, table):
        return (postgresql if self.dialect == "postgresql" else sqlite).insert(table)

    # ----- chats and conversation state

    async def chat(self, channel: str, external_id: str, language: str) -> Chat:
        return (await self.chat_and_state(channel, external_id, language))[0]

    async def chat_and_state(self, channel: str, external_id: str,
                             language: str) -> tuple[Chat, ConversationState | None]:
        # One round trip for what every turn starts with: the chat (locked) and the step it is in.
        key = {"channel": channel, "external_id": external_id}
        row = (await self._run(CHAT_AND_STATE, key)).one_or_none()
        return _chat_and_state(row) if row is not None else await self._first_contact(key, language)

    async def _first_contact(self, key: dict, language: str) -> tuple[Chat, ConversationState | None]:
        await self._run(NEW_CHAT[self.dialect], dict(key, language=language, active=True, created_at=datetime.now(UTC)))
        return _chat_and_state((await self._run(CHAT_AND_STATE, key)).one())

    async def open_turn(self, channel: str, external_id: str, language: str, delivery_key: str | None,
                        at: datetime, on: date) -> tuple[Chat, ConversationState | None] | None:
        if delivery_key is None or self.dialect != "postgresql":
            # SQLite has one writer at a time: no order of locks to keep, and no round trips to save.
            if delivery_key is not None and not await self.first_delivery(channel, delivery_key, at):
                return None
            return await self.chat_and_state(channel, external_id, language)
        key = {"channel": channel, "external_id": external_id}
        rows = (await self._run(OPEN_TURN, dict(key, key=delivery_key, seen_at=at, on=on))).rows
        if not rows[0].fresh:
            return None
        if rows[0].chat_id is None:
            return await self._first_contact(key, language)
        chat, state = _chat_and_state(rows[0], "chat_")
        self._accounts = (chat.id, on, [row for row in rows if row.id is not None])
        return chat, state

    def _accounts_of(self, chat_id: int, on: date) -> list | None:
        """The rows of the chat's accounts view read by open_turn, while nothing this turn did changed them."""
        if self._accounts is not None and self._accounts[:2] == (chat_id, on):
            return self._accounts[2]
        return None

    async def chat_by_id(self, chat_id: int) -> Chat | None:
        row = await self.session.get(ChatRow, chat_id)
        return to_chat(row) if row else None

    async def save_chat(self, chat: Chat) -> None:
        await self._run(SAVE_CHAT, {"chat_id": chat.id, "language": chat.language, "consent_at": chat.consent_at,
                                    "active": chat.active})

    async def first_delivery(self, channel: str, key: str, at: datetime) -> bool:
        result = await self._run(FIRST_DELIVERY[self.dialect], {"channel": channel, "key": key, "seen_at": at})
        return result.rowcount == 1

    async def queue_reply(self, channel: str, external_id: str, packed: dict, now: datetime,
                          not_before: datetime) -> None:
        chat_id = await self.session.scalar(
            select(ChatRow.id).where(ChatRow.channel == channel, ChatRow.external_id == external_id))
        if chat_id is not None:
            await outbox.queue_reply(self.session, chat_id, packed, now, not_before)

    async def set_reachable(self, channel: str, external_id: str, reachable: bool) -> None:
        await self.session.execute(
            update(ChatRow).where(ChatRow.channel == channel, ChatRow.external_id == external_id)
            .values(active=reachable)
        )

    async def forget_chat(self, chat_id: int) -> None:
        self._accounts = None
        # Explicit, not left to ON DELETE: SQLite enforces foreign keys only where the pragma is on.
        await self.session.execute(update(ReadingRow).where(ReadingRow.chat_id == chat_id).values(chat_id=None))
        await self.session.execute(update(PhotoRow).where(PhotoRow.chat_id == chat_id).values(chat_id=None))
        await self.session.execute(update(ReplacedReadingRow).where(ReplacedReadingRow.chat_id == chat_id)
                                   .values(chat_id=None))
        await self.forget_chat_services(chat_id)
        # Its link attempts stay: they are keyed by the messenger's chat id, so the limit survives /forget.
        for table in (ChatAccountRow, ConversationRow):
            await self.session.execute(delete(table).where(table.chat_id == chat_id))
        await self.session.execute(delete(ChatRow).where(ChatRow.id == chat_id))

    async def save_state(self, chat_id: int, state: ConversationState | None) -> None:
        if state is None:
            await self._run(CLEAR_STATE, {"chat_id": chat_id})
            return
        await self._run(SAVE_STATE[self.dialect], {"chat_id": chat_id, "step": state.step, "data": state.data,
                                                   "updated_at": datetime.now(UTC)})

    # ----- accounts and links

    async def linked_accounts(self, chat_id: int) -> list[Account]:
        return [to_account(row) for row in await self._run(LINKED_ACCOUNTS, {"chat_id": chat_id})]

    async def find_accounts(self, numbers: list[str]) -> list[Account]:
        if not numbers:
            return []
        rows = await self.session.scalars(
            select(AccountRow).where(or_(AccountRow.number.in_(numbers), AccountRow.eic.in_(numbers)))
        )
        return [to_account(row) for row in rows]

    async def link(self, chat_id: int, account_id: int, at: datetime) -> bool:
        self._accounts = None
        result = await self.session.execute(
            self._insert(ChatAccountRow)
            .values(chat_id=chat_id, account_id=account_id, linked_at=at)
            .on_conflict_do_nothing(index_elements=["chat_id", "account_id"])
        )
        return result.rowcount == 1

    async def unlink(self, chat_id: int, account_id: int) -> bool:
        self._accounts = None
        result = await self.session.execute(
            delete(ChatAccountRow).where(
                ChatAccountRow.chat_id == chat_id, ChatAccountRow.account_id == account_id
            )
        )
        return result.rowcount == 1

    async def failed_link_attempts(self, channel: str, external_id: str, since: datetime) -> list[datetime]:
        rows = await self.session.scalars(
            select(LinkAttemptRow.attempted_at).where(
                LinkAttemptRow.channel == channel,
                LinkAttemptRow.external_id == external_id,
                LinkAttemptRow.attempted_at >= since,
                LinkAttemptRow.succeeded.is_(False),
            )
        )
        return list(rows)

    async def failed_links_to(self, account_id: int, since: datetime) -> int:
        return await self.session.scalar(
            select(func.count()).select_from(LinkAttemptRow).where(
                LinkAttemptRow.account_id == account_id,
                LinkAttemptRow.attempted_at >= since,
                LinkAttemptRow.succeeded.is_(False),
            )
        ) or 0

    async def record_link_attempt(self, channel: str, external_id: str, account_ids: list[int], at: datetime,
                                  succeeded: bool) -> None:
        self.session.add_all([
            LinkAttemptRow(channel=channel, external_id=external_id, account_id=account_id, attempted_at=at,
                           succeeded=succeeded)
            for account_id in account_ids or [None]
        ])
        await self.session.flush()

    async def clear_link_failures(self, account_id: int) -> int:
        """The operator lifts the account's lock: its failed attempts stop counting (the chats' own stay)."""
        result = await self.session.execute(
            update(LinkAttemptRow).where(LinkAttemptRow.account_id == account_id,
                                         LinkAttemptRow.succeeded.is_(False)).values(account_id=None))
        return result.rowcount

    async def chats_linked_to(self, account_id: int) -> list[int]:
        return list(await self.session.scalars(
            select(ChatAccountRow.chat_id).where(ChatAccountRow.account_id == account_id)
            .order_by(ChatAccountRow.chat_id)
        ))

    async def plan_notices(self, kind: Kind, notices: list[tuple[int, str, str]], at: datetime) -> int:
        return await outbox.plan_notices(self.session, kind, notices, at)

    # ----- meters and readings

    async def meters(self, account_ids: list[int]) -> list[Meter]:
        if not account_ids:
            return []
        return [to_meter(row) for row in await self._run(METERS_OF, {"account_ids": list(account_ids)})]

    async def linked_meters(self, chat_id: int, on: date) -> list[LinkedAccount]:
        rows = self._accounts_of(chat_id, on)
        if rows is None:
            rows = await self._run(LINKED_METERS[self.dialect], {"chat_id": chat_id, "on": on})
        return [
            LinkedAccount(account, tuple(meter for meter, _ in meters), _prices(row),
                          {meter.id: _last_readings(meter_row) for meter, meter_row in meters},
                          {meter.id: _prices(meter_row, "meter_") for meter, meter_row in meters if meter.tariff_plan})
            for account, meters, row in _by_account(rows)
        ]

    async def account_summaries(self, chat_id: int, on: date) -> list[AccountSummary]:
        rows = self._accounts_of(chat_id, on)
        if rows is None:
            rows = await self._run(ACCOUNT_SUMMARIES[self.dialect], {"chat_id": chat_id, "on": on})
        summaries = []
        for account, meters, row in _by_account(rows):
            payment = to_payment(row, "payment_") if row.payment_paid_on is not None else None
            invoice = to_invoice(row, "invoice_") if row.invoice_period is not None else None
            summaries.append(AccountSummary(account, tuple(meter for meter, _ in meters), _prices(row), payment,
                                            invoice, _money(row.invoiced_since), _money(row.paid_since)))
        return summaries

    async def meter(self, meter_id: int) -> Meter | None:
        row = await self.session.get(MeterRow, meter_id)
        return to_meter(row) if row else None

    async def invoice(self, account_id: int, period: str) -> Invoice | None:
        row = await self.session.scalar(
            select(InvoiceRow).where(InvoiceRow.account_id == account_id, InvoiceRow.period == period)
        )
        return to_invoice(row) if row else None

    async def last_readings(self, meter_id: int, before: date) -> dict[int, MeterReading]:
        found: dict[int, MeterReading] = {}
        for row in await self._run(LAST_READINGS, {"meter_id": meter_id, "before": before}):
            # Of two readings on one day (billing and the consumer's), the one stored last wins.
            found[row.zone] = MeterReading(row.zone, row.value, row.taken_on, row.source)
        return found

    async def add_readings(
        self, meter_id: int, taken_on: date, values: list[int], source: str, chat_id: int,
        submitted_at: datetime, photo_id: int | None,
    ) -> Submission:
        self._accounts = None
        ids, replaced, replaced_at = [], {}, None
        for zone, value in enumerate(values, start=1):
            key = {"meter_id": meter_id, "zone": zone, "taken_on": taken_on, "source": source}
            submitted = {"value": value, "chat_id": chat_id, "submitted_at": submitted_at, "photo_id": photo_id}
            new = (await self._run(NEW_READING[self.dialect], key | submitted)).one_or_none()
            if new is not None:
                ids.append(new[0])
                continue
            earlier = (await self._run(READING_OF_KEY, key)).one()
            await self._run(KEEP_REPLACED, {
                "reading_id": earlier.id, "value": earlier.value, "chat_id": earlier.chat_id,
                "photo_id": earlier.photo_id, "submitted_at": earlier.submitted_at, "replaced_at": submitted_at,
            })
            await self._run(REPLACE_READING, {"reading_id": earlier.id} | submitted)
            ids.append(earlier.id)
            replaced[zone] = earlier.value
            replaced_at = replaced_at or earlier.submitted_at
        return Submission(ids, replaced, replaced_at)

    # ----- photos

    async def add_photo(self, chat_id: int, path: str, sha256: str, received_at: datetime, size: int) -> int:
        row = PhotoRow(chat_id=chat_id, path=path, sha256=sha256, received_at=received_at, size=size)
        self.session.add(row)
        await self.session.flush()
        return row.id

    async def outages_ended_between(self, since: datetime, until: datetime) -> list:
        from storage.models import OutageRow
        from storage.queries_services import to_outage

        rows = await self.session.scalars(
            select(OutageRow).where(OutageRow.ends_at > since, OutageRow.ends_at <= until).order_by(OutageRow.id)
        )
        return [to_outage(row) for row in rows]

    async def photo_path(self, photo_id: int) -> str | None:
        return await self.session.scalar(select(PhotoRow.path).where(PhotoRow.id == photo_id))

    async def update_photo(
        self, photo_id: int, *, meter_id: int | None = None, recognized: str | None = None,
        confidence: float | None = None, note: str | None = None,
    ) -> None:
        values = {
            key: value
            for key, value in {"meter_id": meter_id, "recognized": recognized, "confidence": confidence,
                               "note": note}.items()
            if value is not None
        }
        if values:
            await self.session.execute(update(PhotoRow).where(PhotoRow.id == photo_id).values(**values))
