"""A dispatching process killed with SIGKILL mid-run: restarted, it sends the rest, each chat gets its message.

The dispatcher runs in a process of its own (tests/outbox_child.py: the real Dispatcher and Telegram channel
against the stand-in Bot API, on PostgreSQL), with a 5-second lease instead of the 2-minute default so the takeover of
the dead process's claimed rows comes soon. At most the one message in flight may arrive twice.
"""
from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from scheduler.jobs import Planner
from storage.models import OutboxPlanRow, OutboxRow
from storage.scheduling import SqlOutbox
from tests.support.demo import BACKENDS, KYIV
from tests.support.faults import SlowBotAPI, debt_day, link_telegram_chats
from tests.support.waiting import wait_until
from tests.telegram_api import TOKEN

CHILD = Path(__file__).with_name("outbox_child.py")
ROOT = CHILD.parent.parent
CHATS = 30
KILL_AFTER = 8  # messages delivered before the kill
LEASE = 5.0
TIMEOUT = 120.0  # a cold start on a busy 2-core machine imports aiogram and SQLAlchemy


@pytest.fixture
async def slow_api():
    api = await SlowBotAPI().start()
    api.pause = 0.15  # each send takes a while, so the kill lands with one in flight
    yield api
    await api.close()


class Child:
    """One dispatcher process, started and imported, dispatching from `go()`; killed at the end whatever happened."""

    def __init__(self, args: list[str], log: Path) -> None:
        self.args = args
        self.log = log
        self.process: asyncio.subprocess.Process | None = None

    async def __aenter__(self) -> "Child":
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        with open(self.log, "ab") as log:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable, str(CHILD), *self.args, cwd=ROOT, env=env,
                stdout=log, stderr=log, stdin=subprocess.PIPE,
            )
        return self

    async def go(self) -> None:
        await wait_until(self.ready, TIMEOUT, 0.1)
        self.process.stdin.write(b"go\n")
        await self.process.stdin.drain()

    async def ready(self) -> bool:
        assert self.alive, self.log.read_text(errors="replace")[-3000:]
        return "ready" in self.log.read_text(errors="replace")

    @property
    def alive(self) -> bool:
        return self.process.returncode is None

    async def __aexit__(self, *exc_info) -> None:
        if self.alive:
            self.process.kill()
        await self.process.wait()
        if exc_info[0] is not None:
            sys.stderr.write(self.log.read_text(errors="replace")[-5000:])


async def statuses(database) -> Counter:
    async with database.session() as session:
        rows = await session.execute(select(OutboxRow.status, func.count()).group_by(OutboxRow.status))
        return Counter(dict(rows.all()))


# Several dispatching processes are a PostgreSQL deployment; each process start costs ~15 s of imports here.
@pytest.mark.skipif("postgresql" not in BACKENDS, reason="a multi-process fault; this run is SQLite only")
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_a_dispatcher_killed_mid_run_is_taken_over_and_sends_each_message_once(
        kabinet, demo_database, database_url, clock, slow_api, tmp_path):
    chats = await link_telegram_chats(kabinet, CHATS)
    clock.now = debt_day()
    assert (await Planner(SqlOutbox(demo_database), kabinet.window, KYIV, clock).run("debts"))[0] == CHATS
    offset = (debt_day() - datetime.now(UTC)).total_seconds()
    args = [database_url, slow_api.base, TOKEN, str(offset), str(LEASE)]

    async with Child(args, tmp_path / "first.log") as first, Child(args, tmp_path / "second.log") as second:
        await first.go()  # the second, a restart standing by, is imported meanwhile
        await slow_api.wait_until(lambda: len(slow_api.delivered()) >= KILL_AFTER or not first.alive, TIMEOUT)
        assert first.alive, first.log.read_text(errors="replace")[-3000:]
        first.process.send_signal(signal.SIGKILL)
        assert await asyncio.wait_for(first.process.wait(), 30) == -signal.SIGKILL
        await slow_api.wait_until(lambda: slow_api.waiting == 0, 30)  # a send in flight at the kill lands now
        delivered_before = len(slow_api.delivered())
        left = await statuses(demo_database)
        # Recorded right after each send: only the message in flight can be delivered and not yet recorded.
        assert delivered_before - 1 <= left["sent"] <= delivered_before < CHATS
        assert left["sent"] + left["sending"] + left["queued"] == CHATS  # "sending": the dead one's claim

        await sends_the_rest(second, demo_database)

    delivered = Counter(slow_api.delivered())
    assert set(delivered) == set(chats)
    repeats = sum(delivered.values()) - CHATS
    assert repeats <= 1, delivered.most_common(3)
    assert len(slow_api.delivered()) > delivered_before


async def sends_the_rest(second: Child, database) -> None:
    """The restarted process, started now, sends every message left, then stops cleanly when told."""
    await second.go()

    async def all_sent() -> bool:
        assert second.alive, second.log.read_text(errors="replace")[-3000:]
        return (await statuses(database))["sent"] == CHATS

    await wait_until(all_sent, TIMEOUT, 0.1)
    second.process.send_signal(signal.SIGTERM)
    assert await asyncio.wait_for(second.process.wait(), 30) == 0


@pytest.mark.skipif("postgresql" not in BACKENDS, reason="a multi-process fault; this run is SQLite only")
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_a_process_killed_while_expanding_a_plan_is_followed_by_one_that_continues_it(
        kabinet, demo_database, database_url, clock, slow_api, tmp_path):
    """A daily job's plan, expanded 4 chats at a time by the dispatching processes: the first is killed with the plan
    half expanded, a restarted one plans and sends the rest; each chat gets its reminder, at most one twice."""
    chats = await link_telegram_chats(kabinet, CHATS)
    clock.now = debt_day()
    run = await Planner(SqlOutbox(demo_database), kabinet.window, KYIV, clock, plan_batch=4, first_expansion=0).run("debts")
    assert (run.planned, run.expanding) == (4, True)
    offset = (debt_day() - datetime.now(UTC)).total_seconds()
    args = [database_url, slow_api.base, TOKEN, str(offset), str(LEASE), "4"]

    async with Child(args, tmp_path / "first.log") as first, Child(args, tmp_path / "second.log") as second:
        await first.go()
        await slow_api.wait_until(lambda: len(slow_api.delivered()) >= KILL_AFTER or not first.alive, TIMEOUT)
        assert first.alive, first.log.read_text(errors="replace")[-3000:]
        first.process.send_signal(signal.SIGKILL)
        assert await asyncio.wait_for(first.process.wait(), 30) == -signal.SIGKILL
        async with demo_database.session() as session:
            planned, finished = (await session.execute(select(OutboxPlanRow.planned, OutboxPlanRow.finished_at))).one()
        assert KILL_AFTER <= planned < CHATS and finished is None  # killed half way through the plan

        await sends_the_rest(second, demo_database)

    delivered = Counter(slow_api.delivered())
    assert set(delivered) == set(chats)
    assert sum(delivered.values()) - CHATS <= 1, delivered.most_common(3)
    async with demo_database.session() as session:
        assert (await session.execute(select(OutboxPlanRow.planned, OutboxPlanRow.finished_at.is_not(None)))).one() \
            == (CHATS, True)
