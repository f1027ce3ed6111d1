"""Core's Transaction on SQLAlchemy: a turn's unit of work, running the built-once statements
(storage/statements.py, on PostgreSQL through storage/fast_path.py) and the plain queries of the rest."""
from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from core.model import (
    Account, AccountSummary, Chat, ConversationState, Invoice, LinkedAccount, Meter, MeterReading, RecentTurn,
    Submission,
)
from core.notifications import Kind
from storage import outbox
from storage.dialect import insert_for
from storage.fast_path import DirectTransaction, Driver, prepared
from storage.mappers import (
    to_account, to_account_summaries, to_chat, to_chat_and_state, to_invoice, to_linked_accounts, to_meter,
)
from storage.queries_photos import PhotoQueries
from storage.models import (
    AccountRow, ChatAccountRow, ChatRow, ConversationRow, InvoiceRow, LinkAttemptRow, MeterRow, PhotoRow, ReadingRow,
    RecentTurnRow, ReplacedReadingRow,
)
from storage.queries_billing import BillingQueries
from storage.queries_email import EmailQueries
from storage.queries_services import ServiceQueries
from storage.statements import (
    ACCOUNT_SUMMARIES, CHAT_AND_STATE, CLEAR_STATE, CLEAR_STATE_AND_KEEP_TURN, FIRST_DELIVERY, KEEP_REPLACED,
    KEEP_TURN, LAST_READINGS, LINKED_ACCOUNTS, LINKED_METERS, METERS_OF, NEW_CHAT, NEW_READING, OPEN_TURN,
    READING_OF_KEY, RECENT_TURNS, REPLACE_KEEPING_EARLIER, REPLACE_READING, SAVE_CHAT, SAVE_STATE,
    SAVE_STATE_AND_KEEP_TURN,
)


def _saved_state(chat_id: int, state: ConversationState) -> dict:
    """The parameters of SAVE_STATE."""
    return {"chat_id": chat_id, "step": state.step, "data": state.data, "updated_at": datetime.now(UTC)}


def _kept_turn(chat_id: int, turn: RecentTurn, keep: int) -> dict:
    """The parameters of KEEP_TURN."""
    return {"chat_id": chat_id, "keep": keep, "at": turn.at, "delivery": turn.delivery, "kind": turn.kind,
            "said": turn.said, "answered": turn.answered}


class SqlTransaction(BillingQueries, EmailQueries, PhotoQueries, ServiceQueries):
    """Core's Transaction on an ORM session (operators, jobs), on a Core connection already in a transaction, or
    (a consumer's turn on PostgreSQL: see Database.transaction) on a pooled asyncpg connection, where a SQLAlchemy
    connection and an ORM session are made only if a query that needs them runs; most turns run only the
    built-once statements and need neither."""

    def __init__(self, session: AsyncSession | None = None, *, connection: AsyncConnection | None = None,
                 direct: DirectTransaction | None = None) -> None:
        if [session, connection, direct].count(None) != 2:
            raise ValueError("a session, a connection or a direct transaction: one of them")
        self._session = session
        self._connection = connection
        self._direct = direct
        self._bound = session.bind if session is not None else connection if connection is not None else direct.engine
        self._driver: Driver | None = direct.driver if direct is not None else None
        self._driver_checked = direct is not None
        # (chat id, day, "meters" or "summaries", rows): the accounts view open_turn read, until a link or reading
        # changes it.
        self._accounts: tuple[int, date, str, list] | None = None

    @property
    def session(self) -> AsyncSession:
        if self._session is None:
            # Joins the connection's transaction: Database.transaction commits or rolls back, not the session.
            if self._connection is None:
                self._connection = self._direct.connection()
            self._session = AsyncSession(bind=self._connection, expire_on_commit=False)
        return self._session

    async def connection(self) -> AsyncConnection:
        """The transaction's SQLAlchemy connection (made on first use in a consumer's turn)."""
        if self._connection is None:
            self._connection = self._direct.connection() if self._direct is not None else \
                await self._session.connection()
        return self._connection

    async def finish(self) -> None:
        """Before the commit: what the ORM session holds is written."""
        if self._session is not None and (self._connection is not None or self._direct is not None):
            await self._session.flush()

    async def _run(self, statement, parameters: dict | list[dict] | None = None):
        """A built-once statement on the transaction's Core connection; on PostgreSQL straight on asyncpg
        where it can (see storage/fast_path.py)."""
        if not self._driver_checked:
            self._driver_checked = True
            self._driver = await Driver.of(await self.connection())
        if self._driver is not None and type(parameters) is dict:
            ready = prepared(statement, parameters, self._bound.dialect)
            if ready is not None:
                return await self._driver.run(ready, parameters)
        return await (self._connection or await self.connection()).execute(statement, parameters)

    @property
    def dialect(self) -> str:
        return self._bound.dialect.name

    def _insert(self, table):
        """The dialect's INSERT, which has on_conflict_do_update."""
        return insert_for(self.dialect)(table)

    # ----- chats and conversation state

    async def chat(self, channel: str, external_id: str, language: str) -> Chat:
        return (await self.chat_and_state(channel, external_id, language))[0]

    async def chat_and_state(self, channel: str, external_id: str,
                             language: str) -> tuple[Chat, ConversationState | None]:
        # One round trip for what every turn starts with: the chat (locked) and the step it is in.
        key = {"channel": channel, "external_id": external_id}
        row = (await self._run(CHAT_AND_STATE, key)).one_or_none()
        return to_chat_and_state(row) if row is not None else await self._first_contact(key, language)

    async def _first_contact(self, key: dict, language: str) -> tuple[Chat, ConversationState | None]:
        await self._run(NEW_CHAT[self.dialect], dict(key, language=language, active=True, created_at=datetime.now(UTC)))
        return to_chat_and_state((await self._run(CHAT_AND_STATE, key)).one())

    async def open_turn(self, channel: str, external_id: str, language: str, delivery_key: str | None,
                        at: datetime, on: date, summaries: bool = False) -> tuple[Chat, ConversationState | None] | None:
        if delivery_key is None or self.dialect != "postgresql":
            # SQLite has one writer at a time: no order of locks to keep, and no round trips to save.
            if delivery_key is not None and not await self.first_delivery(channel, delivery_key, at):
                return None
            return await self.chat_and_state(channel, external_id, language)
        key = {"channel": channel, "external_id": external_id}
        view = "summaries" if summaries else "meters"
        rows = list(await self._run(OPEN_TURN[view], dict(key, key=delivery_key, seen_at=at, on=on)))
        if not rows[0].fresh:
            return None
        if rows[0].chat_id is None:
            return await self._first_contact(key, language)
        chat, state = to_chat_and_state(rows[0], "chat_")
        self._accounts = (chat.id, on, view, [row for row in rows if row.id is not None])
        return chat, state

    def _accounts_of(self, chat_id: int, on: date, view: str) -> list | None:
        """The rows of the chat's accounts view read by open_turn, if it read this one, while nothing this turn
        did changed them."""
        if self._accounts is not None and self._accounts[:3] == (chat_id, on, view):
            return self._accounts[3]
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
        for table in (ChatAccountRow, ConversationRow, RecentTurnRow):
            await self.session.execute(delete(table).where(table.chat_id == chat_id))
        await self.session.execute(delete(ChatRow).where(ChatRow.id == chat_id))

    async def save_state(self, chat_id: int, state: ConversationState | None) -> None:
        if state is None:
            await self._run(CLEAR_STATE, {"chat_id": chat_id})
            return
        await self._run(SAVE_STATE[self.dialect], _saved_state(chat_id, state))

    # ----- the chat's recent turns (core/recent_turns.py)

    async def keep_turn(self, chat_id: int, turn: RecentTurn, keep: int) -> None:
        await self._run(KEEP_TURN[self.dialect], _kept_turn(chat_id, turn, keep))

    async def save_state_and_keep_turn(self, chat_id: int, state: ConversationState | None, turn: RecentTurn,
                                       keep: int) -> None:
        if self.dialect != "postgresql":
            await self.save_state(chat_id, state)
            await self.keep_turn(chat_id, turn, keep)
        elif state is None:
            await self._run(CLEAR_STATE_AND_KEEP_TURN, _kept_turn(chat_id, turn, keep))
        else:
            await self._run(SAVE_STATE_AND_KEEP_TURN, _kept_turn(chat_id, turn, keep) | _saved_state(chat_id, state))

    async def recent_turns(self, chat_id: int, since: datetime, limit: int) -> list[RecentTurn]:
        rows = await self._run(RECENT_TURNS, {"chat_id": chat_id, "since": since, "limit": limit})
        return [RecentTurn(row.at, row.delivery, row.kind, row.said, row.answered) for row in reversed(list(rows))]

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
            insert_for(self.dialect)(ChatAccountRow)
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

    async def first_linked_chat(self, account_id: int) -> int | None:
        return await self.session.scalar(
            select(ChatAccountRow.chat_id).where(ChatAccountRow.account_id == account_id)
            .order_by(ChatAccountRow.linked_at, ChatAccountRow.chat_id).limit(1)
        )

    async def plan_notices(self, kind: Kind, notices: list[tuple[int, str, str]], at: datetime) -> int:
        return await outbox.plan_notices(self.session, kind, notices, at)

    # ----- meters and readings

    async def meters(self, account_ids: list[int]) -> list[Meter]:
        if not account_ids:
            return []
        return [to_meter(row) for row in await self._run(METERS_OF, {"account_ids": list(account_ids)})]

    async def linked_meters(self, chat_id: int, on: date) -> list[LinkedAccount]:
        rows = self._accounts_of(chat_id, on, "meters")
        if rows is None:
            rows = await self._run(LINKED_METERS[self.dialect], {"chat_id": chat_id, "on": on})
        return to_linked_accounts(rows)

    async def account_summaries(self, chat_id: int, on: date) -> list[AccountSummary]:
        rows = self._accounts_of(chat_id, on, "summaries")
        if rows is None:
            rows = await self._run(ACCOUNT_SUMMARIES[self.dialect], {"chat_id": chat_id, "on": on})
        return to_account_summaries(rows)

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
            earlier = await self._replace_reading(key, submitted)
            ids.append(earlier.id)
            replaced[zone] = earlier.value
            replaced_at = replaced_at or earlier.submitted_at
        return Submission(ids, replaced, replaced_at)

    async def _replace_reading(self, key: dict, submitted: dict):
        """The reading of `key` kept as replaced and overwritten with `submitted`; it as it was."""
        if self.dialect == "postgresql":
            keyed = {f"key_{name}": value for name, value in key.items()}
            return (await self._run(REPLACE_KEEPING_EARLIER, keyed | submitted)).one()
        earlier = (await self._run(READING_OF_KEY, key)).one()
        await self._run(KEEP_REPLACED, {
            "reading_id": earlier.id, "value": earlier.value, "chat_id": earlier.chat_id,
            "photo_id": earlier.photo_id, "submitted_at": earlier.submitted_at, "replaced_at": submitted["submitted_at"],
        })
        await self._run(REPLACE_READING, {"reading_id": earlier.id} | submitted)
        return earlier

    # ----- photos

    async def add_photo(self, chat_id: int, path: str, sha256: str, received_at: datetime, size: int) -> int:
        row = PhotoRow(chat_id=chat_id, path=path, sha256=sha256, received_at=received_at, size=size)
        self.session.add(row)
        await self.session.flush()
        return row.id

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
