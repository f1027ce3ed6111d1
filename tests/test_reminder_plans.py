"""A daily job records one plan, and the dispatchers expand it into the outbox batch by batch as they send
(issue 20, "Planning at a million"): on real SQLite and PostgreSQL, with the demo data and a controlled clock."""
import asyncio
from datetime import date, timedelta

import pytest
from alembic import command
from sqlalchemy import event, func, insert, select, update

from benchmarks.scratch import scratch_database
from bot.metrics import OUTBOX_PLANNING, OutboxDepth
from scheduler.jobs import Planner
from storage.database import Database
from storage.migrate import alembic_config, upgrade
from storage.models import AccountRow, ChatAccountRow, ChatRow, OutboxPlanRow, OutboxRow
from storage.scheduling import SqlOutbox
from tests.support.admin import AUTH
from tests.support.console import Talk, linked
from tests.support.demo import BACKENDS, KYIV
from tests.support.schema import inspected
from tests.support.reminders import RecordingSender, dispatcher_for, two_chats

# Each daily job on a day it plans something for the demo's chats.
DAILY_AT = {
    "reading-window": (2026, 11, 28, 9, 0),
    "reading-last-day": (2026, 12, 3, 9, 0),
    "invoices": (2026, 11, 8, 9, 0),
    "debts": (2026, 11, 21, 9, 0),
    "verifications": (2026, 11, 21, 9, 0),
}
KIND = {"reading-window": "reading-window", "reading-last-day": "reading-last-day", "invoices": "invoice",
        "debts": "debt", "verifications": "verification"}


def planner_in_batches(database, kabinet, clock, batch: int) -> Planner:
    """A daily job that plans its first batch of `batch` links itself and leaves the rest to the dispatchers."""
    return Planner(SqlOutbox(database), kabinet.window, KYIV, clock, plan_batch=batch, first_expansion=0)


async def rows_of(database, kind: str) -> list[tuple[int, str]]:
    async with database.session() as session:
        rows = await session.execute(select(OutboxRow.chat_id, OutboxRow.subject).where(OutboxRow.kind == kind)
                                     .order_by(OutboxRow.id))
        return [tuple(row) for row in rows]


async def plans(database) -> list[tuple[str, int, bool]]:
    async with database.session() as session:
        rows = await session.execute(select(OutboxPlanRow.key, OutboxPlanRow.planned, OutboxPlanRow.finished_at)
                                     .order_by(OutboxPlanRow.id))
        return [(key, planned, finished is not None) for key, planned, finished in rows]


async def waiting(database) -> int:
    async with database.session() as session:
        return await session.scalar(select(func.count()).select_from(OutboxRow)
                                    .where(OutboxRow.status.in_(("queued", "sending")))) or 0


async def chats_on_one_account(database, clock, count: int, account: str = "010000012345") -> None:
    """`count` console chats k1…kN (ids 1…N) linked to one demo account: a plan of many links."""
    async with database.session() as session:
        account_id = await session.scalar(select(AccountRow.id).where(AccountRow.number == account))
        session.add_all(ChatRow(id=n, channel="console", external_id=f"k{n}", language="en", active=True,
                                created_at=clock()) for n in range(1, count + 1))
        await session.flush()
        session.add_all(ChatAccountRow(chat_id=n, account_id=account_id, linked_at=clock())
                        for n in range(1, count + 1))


@pytest.mark.parametrize("job", DAILY_AT)
async def test_a_second_run_of_a_daily_job_finds_its_plan_and_plans_nothing(
        job, kabinet, planner, clock, demo_database, tmp_path):
    await two_chats(kabinet, tmp_path)
    clock.set(*DAILY_AT[job])
    first = await planner.run(job)
    assert first.planned > 0 and not first.expanding
    planned = await rows_of(demo_database, KIND[job])
    # A chat that would be planned now: the job has run today, so its run is not repeated for it.
    await linked(Talk(kabinet, chat_id="c3", files=tmp_path))
    again = await planner.run(job)
    assert (again.planned, again.expanding) == (0, False)
    assert await rows_of(demo_database, KIND[job]) == planned
    [(key, count, finished)] = await plans(demo_database)
    assert key.startswith(f"{KIND[job]}:") and count == first.planned and finished


async def test_a_plan_larger_than_a_batch_is_expanded_by_the_dispatcher_batch_by_batch(
        kabinet, clock, demo_database):
    await chats_on_one_account(demo_database, clock, 12)
    clock.set(2026, 11, 28, 9, 0)
    run = await planner_in_batches(demo_database, kabinet, clock, 5).run("reading-window")
    assert (run.planned, run.expanding) == (5, True)
    sender = RecordingSender()
    dispatcher = dispatcher_for(demo_database, kabinet, clock, sender, plan_batch=5, plan_ahead=5)
    in_outbox = []
    while await dispatcher.run_once():
        in_outbox.append(len(await rows_of(demo_database, "reading-window")))
    # Five waited, so nothing was expanded before they were sent; then five more, then the last two.
    assert in_outbox == [5, 10, 12]
    assert sorted(chat for chat, _ in sender.sent) == sorted(f"k{n}" for n in range(1, 13))
    assert await plans(demo_database) == [("reading-window:2026-11-29", 12, True)]


async def test_the_dispatcher_asks_for_open_plans_only_while_one_may_be_open(kabinet, clock, demo_database):
    """A poll that found no plan open: the next ones do not ask the database again, until a plan's opening is
    committed in this process, or the recheck time has passed (a plan another process opened)."""
    await chats_on_one_account(demo_database, clock, 12)
    looks = []
    event.listen(demo_database.engine.sync_engine, "before_cursor_execute",
                 lambda _c, _cur, statement, *_: looks.append(1) if "FROM outbox_plans" in statement
                 and "ORDER BY outbox_plans.id" in statement else None)
    dispatcher = dispatcher_for(demo_database, kabinet, clock, RecordingSender(), plan_batch=5, plan_ahead=5)
    for _ in range(3):
        await dispatcher.run_once()
    assert len(looks) == 1

    clock.set(2026, 11, 28, 9, 0)
    await planner_in_batches(demo_database, kabinet, clock, 5).run("reading-window", dry_run=True)
    await dispatcher.run_once()
    assert len(looks) == 1  # a dry run's plan is rolled back: nothing to look for

    await planner_in_batches(demo_database, kabinet, clock, 5).run("reading-window")
    while await dispatcher.run_once():
        pass
    assert await plans(demo_database) == [("reading-window:2026-11-29", 12, True)]
    looked = len(looks)
    for _ in range(3):
        await dispatcher.run_once()
    assert len(looks) == looked  # finished, found none open once, and asks no more

    # Another process's plan (a row written here without open_plan): found once the recheck time has passed.
    async with demo_database.session() as session:
        session.add(OutboxPlanRow(key="reading-window:elsewhere", kind="reading-window", day=date(2026, 11, 29),
                                  planned=0, created_at=clock()))
    await dispatcher.run_once()
    assert await plans(demo_database) == [("reading-window:2026-11-29", 12, True),
                                          ("reading-window:elsewhere", 0, False)]
    demo_database.open_plans.recheck = 0
    await dispatcher.run_once()
    assert (await plans(demo_database))[1] == ("reading-window:elsewhere", 0, True)  # its chats had theirs already


async def test_a_dry_run_shows_the_first_batch_and_leaves_no_plan(kabinet, clock, demo_database):
    await chats_on_one_account(demo_database, clock, 12)
    clock.set(2026, 11, 28, 9, 0)
    run = await planner_in_batches(demo_database, kabinet, clock, 5).run("reading-window", dry_run=True)
    assert (run.planned, run.expanding) == (5, True)
    assert sorted(row.chat_id for row in run.rows) == [1, 2, 3, 4, 5]
    assert await plans(demo_database) == [] and await rows_of(demo_database, "reading-window") == []


async def test_two_dispatchers_expanding_at_once_plan_each_chat_once(kabinet, clock, demo_database, caplog):
    await chats_on_one_account(demo_database, clock, 30)
    clock.set(2026, 11, 21, 9, 0)
    assert (await planner_in_batches(demo_database, kabinet, clock, 4).run("debts")).planned == 4
    sender = RecordingSender()

    class Unhurried(RecordingSender):
        async def deliver(self, external_id, replies):
            await asyncio.sleep(0.01)  # a network round trip, so that the two really overlap
            await sender.deliver(external_id, replies)

    one, two = (dispatcher_for(demo_database, kabinet, clock, Unhurried(), batch=3, plan_batch=4, plan_ahead=6)
                for _ in range(2))

    async def drain(dispatcher):
        while not (await plans(demo_database))[0][2] or await waiting(demo_database):
            await dispatcher.run_once()

    inserts = []
    event.listen(demo_database.engine.sync_engine, "before_cursor_execute",
                 lambda _c, _cur, statement, *_: inserts.append(1) if statement.startswith("INSERT INTO outbox ") else None)
    await asyncio.gather(drain(one), drain(two))
    assert len(inserts) == 7  # the 26 links after the job's batch, 4 a batch: no batch expanded twice
    assert sorted(chat for chat, _ in sender.sent) == sorted(f"k{n}" for n in range(1, 31))
    assert sorted(chat for chat, _ in await rows_of(demo_database, "debt")) == list(range(1, 31))
    assert await plans(demo_database) == [("debt:2026-11-21", 30, True)]
    assert "expanding the reminder plans failed" not in caplog.text


async def test_a_debt_paid_between_planning_and_expansion_is_not_reminded(kabinet, clock, demo_database, tmp_path):
    await two_chats(kabinet, tmp_path)  # c1 owes on 010000012345, c2 on 020000054321 (1705339110 is overpaid)
    clock.set(2026, 11, 21, 9, 0)
    assert (await planner_in_batches(demo_database, kabinet, clock, 1).run("debts")).planned == 1  # c1's link
    async with demo_database.session() as session:  # the next import: nothing owed as of 20.11
        await session.execute(update(AccountRow).where(AccountRow.number == "020000054321")
                              .values(balance=0, balance_on=date(2026, 11, 20)))
    sender = RecordingSender()
    dispatcher = dispatcher_for(demo_database, kabinet, clock, sender, plan_batch=1, plan_ahead=1)
    while await dispatcher.run_once():
        pass
    assert [chat for chat, _ in sender.sent] == ["c1"]
    assert [subject for _, subject in await rows_of(demo_database, "debt")] == ["010000012345"]


async def test_a_reading_submitted_before_its_batch_is_expanded_gets_no_last_day_reminder(
        kabinet, clock, demo_database, tmp_path):
    two = Talk(kabinet, chat_id="c2", files=tmp_path)  # the first chat now: its links are the first batch
    await linked(two, "1705339110", "Дем'яненко")
    one = Talk(kabinet, chat_id="c1", files=tmp_path)
    await linked(one)
    clock.set(2026, 12, 3, 9, 0)  # the last day of the window that opened on 29.11
    assert (await planner_in_batches(demo_database, kabinet, clock, 1).run("reading-last-day")).planned == 1
    assert "accepted" in await one.say("/reading 12500")
    sender = RecordingSender()
    dispatcher = dispatcher_for(demo_database, kabinet, clock, sender, plan_batch=1, plan_ahead=1)
    while await dispatcher.run_once():
        pass
    assert [chat for chat, _ in sender.sent] == ["c2"]
    assert await plans(demo_database) == [("reading-last-day:2026-11-29", 1, True)]


async def test_a_restarted_dispatcher_continues_the_plan_from_its_cursor(
        kabinet, clock, demo_database, database_url, tmp_path):
    """Chats behind the cursor are not walked again: one that came to owe after its batch is not planned today."""
    await linked(Talk(kabinet, chat_id="a", files=tmp_path), "1705339110", "Дем'яненко")  # overpaid
    await linked(Talk(kabinet, chat_id="b", files=tmp_path))
    await linked(Talk(kabinet, chat_id="c", files=tmp_path), "020000054321", "Бондар")
    clock.set(2026, 11, 21, 9, 0)
    assert (await planner_in_batches(demo_database, kabinet, clock, 1).run("debts")).planned == 0  # a's link
    sender = RecordingSender()
    first = dispatcher_for(demo_database, kabinet, clock, sender, plan_batch=1, plan_ahead=1)
    await first.run_once()  # b's link planned and sent; then the process is gone
    assert [chat for chat, _ in sender.sent] == ["b"]
    async with demo_database.session() as session:  # a correction: a's account owes after all
        await session.execute(update(AccountRow).where(AccountRow.number == "1705339110").values(balance=500))
    restarted = Database(database_url)
    try:
        second = dispatcher_for(restarted, kabinet, clock, sender, plan_batch=1, plan_ahead=1)
        while await second.run_once():
            pass
    finally:
        await restarted.close()
    assert [chat for chat, _ in sender.sent] == ["b", "c"]
    assert await plans(demo_database) == [("debt:2026-11-21", 2, True)]


async def test_retention_prunes_the_plans_finished_before_the_outbox_period(kabinet, clock, demo_database):
    now = clock()
    day = timedelta(days=1)
    rows = [
        {"key": key, "kind": "debt", "day": date(2026, 10, 1), "notice_days": 0, "planned": 1,
         "created_at": now - created, "finished_at": now - finished if finished is not None else None}
        for key, created, finished in [("old", 40 * day, 31 * day), ("recent", 40 * day, 29 * day),
                                       ("unfinished", 40 * day, None)]
    ]
    async with demo_database.session() as session:
        await session.execute(insert(OutboxPlanRow), rows)
    assert (await Planner(SqlOutbox(demo_database), kabinet.window, KYIV, clock).run("retention")).planned == 1
    assert [key for key, *_ in await plans(demo_database)] == ["recent", "unfinished"]


async def test_unfinished_plans_are_in_the_metrics_and_the_admin_stats(kabinet, clock, demo_database, admin):
    await chats_on_one_account(demo_database, clock, 3)
    clock.set(2026, 11, 21, 9, 0)
    await planner_in_batches(demo_database, kabinet, clock, 2).run("debts")
    await OutboxDepth().refresh(demo_database)
    assert OUTBOX_PLANNING.labels(kind="debt")._value.get() == 1
    assert OUTBOX_PLANNING.labels(kind="invoice")._value.get() == 0
    stats = await (await admin.get("/admin/stats", headers=AUTH)).json()
    assert stats["planning"] == {"debt": 1} and stats["outbox"] == {"queued": 2}
    async with demo_database.session() as session:
        assert await session.scalar(select(func.count()).select_from(OutboxRow)) == 2


@pytest.mark.parametrize("backend", BACKENDS)
async def test_migration_0018_goes_down_and_up(backend):
    async def tables(url: str) -> set[str]:
        return set(await inspected(url, lambda inspector: inspector.get_table_names()))

    async with scratch_database(backend) as url:
        await asyncio.to_thread(upgrade, url)
        assert "outbox_plans" in await tables(url)
        await asyncio.to_thread(command.downgrade, alembic_config(url), "0017")
        assert "outbox_plans" not in await tables(url) and "outbox" in await tables(url)
        await asyncio.to_thread(upgrade, url)
        assert "outbox_plans" in await tables(url)
