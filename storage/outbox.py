"""The outbox: set-based planning of reminders (INSERT … SELECT … ON CONFLICT DO NOTHING) and the
claiming and recording of deliveries, safe with several dispatchers (FOR UPDATE SKIP LOCKED)."""
from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta

from sqlalchemy import String, and_, cast, exists, func, literal, or_, select, text, true, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.notifications import QUIET_HOURS, Kind, OutboxMessage
from core.readings import CHAT_SOURCES
from storage.queries_billing import sums_since_balance_of_all
from storage.dialect import insert_of
from storage.models import (
    WAITING_SQL, AccountRow, ChatAccountRow, ChatRow, InvoiceRow, MeterRow, OutboxRow, ReadingRow,
)

def _key(chat_id, kind: Kind, subject, period):
    return cast(chat_id, String) + literal(f":{kind.value}:") + subject + literal(":") + period


async def _plan(session: AsyncSession, kind: Kind, query, now: datetime) -> int:
    """Insert the (chat_id, subject, period) rows `query` selects as outbox rows of `kind`.

    Only the rows whose key the outbox lacks, in the order of the key's unique index: each row's conflict check
    and index entry then land beside the last one's instead of anywhere in an index larger than the server's
    cache, and a second run inserts nothing (no sequence value, no speculative insertion per row). ON CONFLICT
    still settles a row another transaction plans meanwhile. Why: docs/benchmarks.md, "Reminder planning"."""
    rows = query.subquery()
    candidates = select(
        _key(rows.c.chat_id, kind, rows.c.subject, rows.c.period).label("key"),
        rows.c.chat_id, rows.c.subject, rows.c.period,
    ).subquery()
    source = select(
        candidates.c.key,
        candidates.c.chat_id,
        literal(kind.value),
        candidates.c.subject,
        candidates.c.period,
        literal("queued"),
        literal(0),
        literal(now, OutboxRow.not_before.type),
        literal(now, OutboxRow.created_at.type),
    ).where(~exists().where(OutboxRow.kind == kind.value, OutboxRow.key == candidates.c.key)).order_by(candidates.c.key)
    statement = insert_of(session)(OutboxRow).from_select(
        ["key", "chat_id", "kind", "subject", "period", "status", "attempts", "not_before", "created_at"], source
    ).on_conflict_do_nothing(index_elements=["key"])
    result = await session.execute(statement)
    return max(result.rowcount or 0, 0)


def _linked_active():
    return (
        select(ChatAccountRow.chat_id, AccountRow.id.label("account_id"), AccountRow.number)
        .join(ChatRow, ChatRow.id == ChatAccountRow.chat_id)
        .join(AccountRow, AccountRow.id == ChatAccountRow.account_id)
        .where(ChatRow.active.is_(True))
    )


def links_between(after: int | None, upto: int | None):
    """The chats' links (chat_accounts) of the chats after `after` up to `upto` (ids, each bound optional): a batch
    of a plan (storage/plans.py), whole chats, found through the links' primary key however many there are. A plain
    range of one column, which PostgreSQL estimates from its statistics: with the range as (chat_id, account_id)
    rows it took a batch of 5,000 for a quarter of the table, and read every account and chat for it."""
    chat = ChatAccountRow.chat_id
    return and_(chat > after if after is not None else true(), chat <= upto if upto is not None else true())


# Each rule plans the chats whose links `within` selects: all of them, or one batch of a plan.
ALL_LINKS = true()


async def plan_reading_window(session: AsyncSession, opening: date, now: datetime, within=ALL_LINKS) -> int:
    """Everyone with a meter, the day before the window opens."""
    linked = _linked_active().where(within, exists().where(MeterRow.account_id == AccountRow.id)).subquery()
    query = select(linked.c.chat_id, linked.c.number.label("subject"), literal(opening.isoformat()).label("period"))
    return await _plan(session, Kind.READING_WINDOW, query, now)


async def plan_reading_last_day(session: AsyncSession, opening: date, now: datetime, within=ALL_LINKS) -> int:
    """On the window's last day, those whose meters have no reading from a chat in this window."""
    submitted = (
        select(ReadingRow.id)
        .join(MeterRow, MeterRow.id == ReadingRow.meter_id)
        .where(MeterRow.account_id == AccountRow.id, ReadingRow.taken_on >= opening,
               ReadingRow.source.in_(CHAT_SOURCES))
    )
    linked = (
        _linked_active()
        .where(within, exists().where(MeterRow.account_id == AccountRow.id), ~exists(submitted))
        .subquery()
    )
    query = select(linked.c.chat_id, linked.c.number.label("subject"), literal(opening.isoformat()).label("period"))
    return await _plan(session, Kind.READING_LAST_DAY, query, now)


async def plan_invoices(session: AsyncSession, issued_since: date, now: datetime, within=ALL_LINKS) -> int:
    """Invoices issued since the date, to every chat linked to their account."""
    query = (
        select(ChatAccountRow.chat_id, AccountRow.number.label("subject"), InvoiceRow.period.label("period"))
        .join(ChatRow, ChatRow.id == ChatAccountRow.chat_id)
        .join(AccountRow, AccountRow.id == ChatAccountRow.account_id)
        .join(InvoiceRow, InvoiceRow.account_id == AccountRow.id)
        .where(within, ChatRow.active.is_(True), InvoiceRow.issued_on >= issued_since)
    )
    return await _plan(session, Kind.INVOICE, query, now)


async def plan_debts(session: AsyncSession, today: date, now: datetime, within=ALL_LINKS) -> int:
    """A balance owed after the latest invoice's due date; once per invoice period."""
    # The latest invoice as the one with no later period, and the sums owed grouped: PostgreSQL took a join to
    # each account's max(period) for 0.5 % of its rows, then read every account by index with three lookups.
    later = InvoiceRow.__table__.alias("later_period")
    query, invoiced_since, paid_since = sums_since_balance_of_all(  # owed now, as /balance counts it
        select(ChatAccountRow.chat_id, AccountRow.number.label("subject"), InvoiceRow.period.label("period"))
        .select_from(ChatAccountRow)
        .join(ChatRow, ChatRow.id == ChatAccountRow.chat_id)
        .join(AccountRow, AccountRow.id == ChatAccountRow.account_id)
        .join(InvoiceRow, InvoiceRow.account_id == AccountRow.id),
        # A batch's accounts only: the sums of a million accounts are not grouped again for each batch.
        select(ChatAccountRow.account_id).where(within).correlate(None) if within is not ALL_LINKS else None,
    )
    query = query.where(
        within, ChatRow.active.is_(True), AccountRow.balance + invoiced_since - paid_since > 0, InvoiceRow.due_on < today,
        ~exists().where(later.c.account_id == InvoiceRow.account_id, later.c.period > InvoiceRow.period),
    )
    return await _plan(session, Kind.DEBT, query, now)


async def plan_verifications(session: AsyncSession, today: date, notice_days: int, now: datetime,
                             within=ALL_LINKS) -> int:
    """Meters due for verification within `notice_days` (once), and expired ones (once a month)."""
    base = (
        select(ChatAccountRow.chat_id, cast(MeterRow.id, String).label("subject"), MeterRow.next_verification_on)
        .join(ChatRow, ChatRow.id == ChatAccountRow.chat_id)
        .join(MeterRow, MeterRow.account_id == ChatAccountRow.account_id)
        .where(within, ChatRow.active.is_(True), MeterRow.next_verification_on.is_not(None))
    )
    soon = base.where(
        MeterRow.next_verification_on >= today,
        MeterRow.next_verification_on <= today + timedelta(days=notice_days),
    ).subquery()
    planned = await _plan(
        session, Kind.VERIFICATION,
        select(soon.c.chat_id, soon.c.subject, (literal("due-") + cast(soon.c.next_verification_on, String)).label("period")),
        now,
    )
    expired = base.where(MeterRow.next_verification_on < today).subquery()
    return planned + await _plan(
        session, Kind.VERIFICATION,
        select(expired.c.chat_id, expired.c.subject, literal(f"expired-{today:%Y-%m}").label("period")),
        now,
    )


async def plan_notices(session: AsyncSession, kind: Kind, notices: list[tuple[int, str, str]], now: datetime,
                       text: dict | None = None) -> int:
    """Event-driven notices (outages, order changes, broadcasts) given as (chat_id, subject, period); `text`, what
    the rows keep for rendering (a broadcast's texts, a payment's amount)."""
    inserted = 0
    for start in range(0, len(notices), 500):
        chunk = notices[start:start + 500]
        values = [{
            "key": f"{chat_id}:{kind.value}:{subject}:{period}", "chat_id": chat_id, "kind": kind.value,
            "subject": subject, "period": period, "status": "queued", "attempts": 0, "not_before": now,
            "created_at": now, **({"text": text} if text is not None else {}),
        } for chat_id, subject, period in chunk]
        result = await session.execute(
            insert_of(session)(OutboxRow).values(values).on_conflict_do_nothing(index_elements=["key"])
        )
        inserted += max(result.rowcount or 0, 0)
    return inserted


async def queue_reply(session: AsyncSession, chat_id: int, packed: dict, now: datetime, not_before: datetime) -> None:
    """An answer the messenger did not take when the consumer was answered, for the dispatcher to deliver."""
    await session.execute(insert_of(session)(OutboxRow).values(
        key=f"{chat_id}:{Kind.REPLY.value}:{uuid.uuid4().hex}:1", chat_id=chat_id, kind=Kind.REPLY.value, subject="",
        period="1", text=packed, status="queued", attempts=0, not_before=not_before, created_at=now,
    ))


async def plan_broadcast(
    session: AsyncSession, broadcast_id: str, texts: dict[str, str], now: datetime, *,
    settlements: list[str] | None = None, grid_nodes: list[str] | None = None,
) -> int:
    """One broadcast row per active chat: every chat, or those linked to an account in one of the
    settlements or on one of the grid nodes (names as the accounts spell them); the text goes in the row."""
    if settlements is None and grid_nodes is None:
        chats = select(ChatRow.id.label("chat_id")).where(ChatRow.active.is_(True))
    else:
        places = []
        if settlements is not None:
            places.append(AccountRow.settlement.in_(settlements))
        if grid_nodes is not None:
            places.append(AccountRow.grid_node.in_(grid_nodes))
        chats = (
            select(ChatAccountRow.chat_id)
            .join(ChatRow, ChatRow.id == ChatAccountRow.chat_id)
            .join(AccountRow, AccountRow.id == ChatAccountRow.account_id)
            .where(ChatRow.active.is_(True), or_(*places))
            .distinct()
        )
    rows = chats.subquery()
    subject, period = literal(broadcast_id), literal("1")
    source = select(
        _key(rows.c.chat_id, Kind.BROADCAST, subject, period), rows.c.chat_id, literal(Kind.BROADCAST.value),
        subject, period, literal(texts, OutboxRow.text.type), literal("queued"), literal(0),
        literal(now, OutboxRow.not_before.type), literal(now, OutboxRow.created_at.type),
    ).where(true())  # SQLite needs a WHERE before ON CONFLICT in INSERT … SELECT
    statement = insert_of(session)(OutboxRow).from_select(
        ["key", "chat_id", "kind", "subject", "period", "text", "status", "attempts", "not_before", "created_at"],
        source,
    ).on_conflict_do_nothing(index_elements=["key"])
    result = await session.execute(statement)
    return max(result.rowcount or 0, 0)


# ----- dispatching


async def claim(session: AsyncSession, now: datetime, limit: int, lease: timedelta) -> list[OutboxMessage]:
    """Take up to `limit` due rows (and rows whose claimer died) for this dispatcher alone.

    PostgreSQL: SELECT … FOR UPDATE SKIP LOCKED, then UPDATE those rows, in one transaction, so several
    dispatchers claim disjoint rows at once (a LIMIT subquery inside the UPDATE may be run more than once,
    so it is not used there). SQLite: one UPDATE … RETURNING, atomic because SQLite has one writer.
    """
    claimable = or_(
        and_(OutboxRow.status == "queued", OutboxRow.not_before <= now),
        and_(OutboxRow.status == "sending", OutboxRow.claimed_until < now),
    )
    due = select(OutboxRow.id).where(claimable).order_by(OutboxRow.not_before, OutboxRow.id).limit(limit)
    if session.bind.dialect.name == "postgresql":
        ids = list(await session.scalars(due.with_for_update(skip_locked=True)))
        if not ids:
            return []
        target = OutboxRow.id.in_(ids)
    else:
        target = and_(OutboxRow.id.in_(due.scalar_subquery()), claimable)
    claimed = await session.execute(
        update(OutboxRow)
        .where(target)
        .values(status="sending", claimed_until=now + lease)
        .returning(OutboxRow.id)
        .execution_options(synchronize_session=False)
    )
    ids = [row_id for (row_id,) in claimed]
    if not ids:
        return []
    rows = await session.execute(
        select(OutboxRow, ChatRow)
        .join(ChatRow, ChatRow.id == OutboxRow.chat_id)
        .where(OutboxRow.id.in_(ids))
        .order_by(OutboxRow.not_before, OutboxRow.id)
    )
    return [_message(o, c) for o, c in rows]


async def release_quiet_held(session: AsyncSession, chat_id: int, at: datetime) -> None:
    """The chat's messages held for quiet hours go back to the dispatcher now (its settings changed); it holds
    them again if the new hours still cover the moment."""
    await session.execute(update(OutboxRow).where(
        OutboxRow.chat_id == chat_id, OutboxRow.status == "queued", OutboxRow.outcome == QUIET_HOURS,
        OutboxRow.not_before > at,
    ).values(not_before=at))


async def record(session: AsyncSession, outbox_id: int, status: str, *, now: datetime, outcome: str | None = None,
                 not_before: datetime | None = None, attempts_add: int = 0) -> None:
    values: dict = {"status": status, "outcome": outcome, "claimed_until": None}
    if status == "sent":
        values["sent_at"] = now
    if not_before is not None:
        values["not_before"] = not_before
    if attempts_add:
        values["attempts"] = OutboxRow.attempts + attempts_add
    await session.execute(update(OutboxRow).where(OutboxRow.id == outbox_id).values(**values))


async def planned_since(session: AsyncSession, since: datetime, limit: int) -> list[OutboxMessage]:
    """Rows created at or after `since`, in id order, with their chats' addresses (what a dry run shows)."""
    rows = await session.execute(
        select(OutboxRow, ChatRow).join(ChatRow, ChatRow.id == OutboxRow.chat_id)
        .where(OutboxRow.created_at >= since).order_by(OutboxRow.id).limit(limit)
    )
    return [_message(o, c) for o, c in rows]


def _message(o: OutboxRow, c: ChatRow) -> OutboxMessage:
    return OutboxMessage(o.id, o.chat_id, c.channel, c.external_id, c.language, c.active, o.kind, o.subject,
                         o.period, o.attempts, o.text, o.via)


async def queue_email_copy(session: AsyncSession, outbox_id: int, via: str, now: datetime) -> None:
    """A copy of the row for another way to the chat (`via`), queued now under the row's key and `:via`: an
    INSERT … SELECT that a second call (a restart, another dispatcher) finds already done."""
    source = select(
        OutboxRow.key + literal(f":{via}"), OutboxRow.chat_id, OutboxRow.kind, OutboxRow.subject, OutboxRow.period,
        OutboxRow.text, literal(via), literal("queued"), literal(0), literal(now, OutboxRow.not_before.type),
        literal(now, OutboxRow.created_at.type),
    ).where(OutboxRow.id == outbox_id)
    await session.execute(insert_of(session)(OutboxRow).from_select(
        ["key", "chat_id", "kind", "subject", "period", "text", "via", "status", "attempts", "not_before", "created_at"],
        source,
    ).on_conflict_do_nothing(index_elements=["key"]))


async def chats_told_of_outage(session: AsyncSession, code: str) -> set[int]:
    """Chats that already have the outage's first notice planned or sent."""
    rows = await session.scalars(
        select(OutboxRow.chat_id).where(OutboxRow.kind == Kind.OUTAGE.value, OutboxRow.subject == code,
                                        OutboxRow.period == "start")
    )
    return set(rows)


async def status_counts(session: AsyncSession) -> dict[tuple[str, str], int]:
    rows = await session.execute(
        select(OutboxRow.kind, OutboxRow.status, func.count()).group_by(OutboxRow.kind, OutboxRow.status)
    )
    return {(kind, status): count for kind, status, count in rows}


async def depth(session: AsyncSession) -> dict[str, int]:
    """Rows still to send, by kind; reads only the partial index ix_outbox_waiting, never the sent history."""
    return {kind: count for kind, count in await session.execute(depth_query())}


def depth_query():
    # The condition as literal SQL, not parameters: a generic plan cannot prove a parameter matches the index.
    return select(OutboxRow.kind, func.count()).where(text(WAITING_SQL)).group_by(OutboxRow.kind)


async def sent_since(session: AsyncSession, since: datetime) -> int:
    return await session.scalar(
        select(func.count()).select_from(OutboxRow).where(OutboxRow.status == "sent", OutboxRow.sent_at >= since)
    ) or 0


async def last_subject_period(session: AsyncSession, kind: Kind) -> int:
    """The highest numeric period planned for `kind` (for orders: the last status change notified)."""
    periods = await session.scalars(select(OutboxRow.period).where(OutboxRow.kind == kind.value))
    return max((int(p) for p in periods if p.isdigit()), default=0)
