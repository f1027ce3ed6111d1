"""Plans of the daily reminder jobs: one row per job's run, expanded into outbox rows batch by batch.

A batch is the chats of the next `batch` chats' links (chat_accounts) after the plan's cursor, a chat id, in the
links' primary key's order (whole chats: a chat with many accounts may make one batch a little larger); the
rule's INSERT … SELECT … ON CONFLICT DO NOTHING runs for those links only, with the data as it is at that moment,
and the cursor moves on in the same short transaction. Several dispatchers expand at once safely: the plan's row is
locked (PostgreSQL: FOR UPDATE SKIP LOCKED, another dispatcher passes it by; SQLite: one writer), and a row planned
twice is settled by the outbox's unique key anyway.
"""
from __future__ import annotations

import time
from datetime import date, datetime

from sqlalchemy import event, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.notifications import Expansion, Kind, ReminderPlan
from storage import outbox
from storage.database import OPEN_PLANS, Database
from storage.dialect import insert_of
from storage.models import WAITING_SQL, ChatAccountRow, OutboxPlanRow, OutboxRow
from storage.outbox import links_between


async def open_plan(session: AsyncSession, plan: ReminderPlan, now: datetime) -> int | None:
    """The new plan's id; None when a plan of its key was recorded before (the job has run)."""
    result = await session.execute(
        insert_of(session)(OutboxPlanRow).values(
            key=plan.key, kind=plan.kind.value, day=plan.day, notice_days=plan.notice_days, planned=0, created_at=now,
        ).on_conflict_do_nothing(index_elements=["key"]).returning(OutboxPlanRow.id)
    )
    plan_id = result.scalar()
    watch = session.info.get(OPEN_PLANS)
    if plan_id is not None and watch is not None:
        # Counted once committed: a dispatcher looking before then would not see the plan, and would not look again.
        event.listen(session.sync_session, "after_commit", lambda _session: watch.opened_one(), once=True)
    return plan_id


async def expand(session: AsyncSession, plan_id: int, now: datetime, batch: int) -> Expansion:
    """Insert the rows of the plan's next `batch` links, and move its cursor past them; a finished plan plans
    nothing. The caller holds the plan (a new one, or one locked by `_locked`)."""
    plan = (await session.execute(select(OutboxPlanRow).where(OutboxPlanRow.id == plan_id))).scalar_one()
    if plan.finished_at is not None:
        return Expansion(0, True)
    if session.bind.dialect.name == "postgresql":
        # A batch reads 5,000 chats' rows of tables of a million: by their indexes, whatever the statistics say.
        # They said otherwise at a million accounts (0.44 s a batch, reading whole tables; 0.11–0.13 s by index),
        # and as the plan's own rows fill the outbox they are behind (docs/benchmarks.md, "Reminder planning").
        await session.execute(text("SET LOCAL enable_seqscan = off"))
    after = plan.after_chat_id
    upto = await _batch_end(session, after, batch)
    planned = await _plan_rows(session, plan, links_between(after, upto), now)
    await session.execute(update(OutboxPlanRow).where(OutboxPlanRow.id == plan_id).values(
        after_chat_id=upto if upto is not None else after, planned=OutboxPlanRow.planned + planned, expanded_at=now,
        finished_at=None if upto is not None else now,
    ))
    return Expansion(planned, upto is None)


async def _batch_end(session: AsyncSession, after: int | None, batch: int) -> int | None:
    """The last chat of the batch after chat `after`: the one of the `batch`-th link; None when fewer are left."""
    return await session.scalar(
        select(ChatAccountRow.chat_id).where(links_between(after, None))
        .order_by(ChatAccountRow.chat_id, ChatAccountRow.account_id).offset(batch - 1).limit(1)
    )


async def _plan_rows(session: AsyncSession, plan: OutboxPlanRow, within, now: datetime) -> int:
    day: date = plan.day
    match Kind(plan.kind):
        case Kind.READING_WINDOW:
            return await outbox.plan_reading_window(session, day, now, within)
        case Kind.READING_LAST_DAY:
            return await outbox.plan_reading_last_day(session, day, now, within)
        case Kind.INVOICE:
            return await outbox.plan_invoices(session, day, now, within)
        case Kind.DEBT:
            return await outbox.plan_debts(session, day, now, within)
        case Kind.VERIFICATION:
            return await outbox.plan_verifications(session, day, plan.notice_days, now, within)
    raise ValueError(f"no reminder rule plans {plan.kind!r}")


async def expand_due(database: Database, now: datetime, batch: int, ahead: int, budget: float = 1.0) -> int:
    """Expand the unfinished plans, oldest first, while fewer than `ahead` rows of a plan's kind wait to be sent
    (rows held for quiet hours too: at night a plan waits rather than fill the outbox); each batch in its own
    transaction, for at most about `budget` seconds. Returns the rows planned."""
    watch = database.open_plans
    if not watch.worth_looking():
        return 0
    planned, started, began = 0, time.monotonic(), watch.looking()
    async with database.session() as session:
        unfinished = list(await session.scalars(
            select(OutboxPlanRow.id).where(OutboxPlanRow.finished_at.is_(None)).order_by(OutboxPlanRow.id)
        ))
    watch.found(bool(unfinished), began)
    for plan_id in unfinished:
        while time.monotonic() - started < budget:
            async with database.session() as session:
                kind = await _locked(session, plan_id, now)
                if kind is None or await _waiting(session, kind, ahead) >= ahead:
                    break
                expansion = await expand(session, plan_id, now, batch)
            planned += expansion.planned
            if expansion.finished:
                break
    return planned


async def _locked(session: AsyncSession, plan_id: int, now: datetime) -> str | None:
    """Take the unfinished plan for this transaction: its kind, or None when it is finished or another dispatcher
    is expanding it."""
    unfinished = (OutboxPlanRow.id == plan_id) & OutboxPlanRow.finished_at.is_(None)
    if session.bind.dialect.name == "postgresql":
        return await session.scalar(select(OutboxPlanRow.kind).where(unfinished).with_for_update(skip_locked=True))
    # SQLite: a write first, so the transaction holds the database's one write lock before it reads the cursor.
    return await session.scalar(
        update(OutboxPlanRow).where(unfinished).values(expanded_at=now).returning(OutboxPlanRow.kind)
    )


async def _waiting(session: AsyncSession, kind: str, most: int) -> int:
    """Rows of `kind` still to send, counted up to `most` through the partial index of the rows waiting."""
    waiting = select(OutboxRow.id).where(OutboxRow.kind == kind, text(WAITING_SQL)).limit(most).subquery()
    return await session.scalar(select(func.count()).select_from(waiting)) or 0


async def unfinished(session: AsyncSession) -> dict[str, int]:
    """Plans still being expanded, by kind (the outbox depth does not count the chats they have yet to reach)."""
    rows = await session.execute(
        select(OutboxPlanRow.kind, func.count()).where(OutboxPlanRow.finished_at.is_(None)).group_by(OutboxPlanRow.kind)
    )
    return {kind: count for kind, count in rows}

