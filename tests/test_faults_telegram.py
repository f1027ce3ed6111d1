"""The Bot API failing under Kabinet: 500s, 502s, timeouts and 429s to the dispatcher, a refused reply to a webhook.

The real aiogram Bot talks HTTP to the stand-in server (tests/telegram_api.py), told to fail or to be slow.
"""
from __future__ import annotations

import logging
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import select

from handlers.telegram.channel import TelegramChannel, TelegramConfig
from scheduler.dispatcher import Dispatcher
from scheduler.jobs import Planner
from storage.exchange import submitted_readings
from storage.models import OutboxRow
from storage.scheduling import SqlOutbox
from tests.support.demo import KYIV
from tests.support.faults import SlowBotAPI, debt_day, link_telegram_chats
from tests.support.telegram import Webhook, link
from tests.telegram_api import TOKEN, TelegramUser

REQUEST_TIMEOUT = 3  # seconds aiogram waits for the stand-in before calling it a network error
SLOW = 7.0  # longer than that: the call times out on our side, yet Telegram delivers it in the end


@pytest.fixture
async def slow_api():
    api = await SlowBotAPI().start()
    yield api
    await api.close()


@pytest.fixture
async def telegram(slow_api, kabinet):
    channel = TelegramChannel(TelegramConfig(TOKEN, slow_api.base), kabinet)
    channel.bot.session.timeout = REQUEST_TIMEOUT
    yield channel
    await channel.bot.session.close()


def dispatcher(database, kabinet, clock, telegram) -> Dispatcher:
    return Dispatcher(SqlOutbox(database), {"telegram": telegram}, kabinet.translator, KYIV, kabinet.window,
                      rates={"telegram": 1000.0}, per_chat_interval=0.0, clock=clock)


async def outbox(database) -> list[OutboxRow]:
    async with database.session() as session:
        return list(await session.scalars(select(OutboxRow).order_by(OutboxRow.id)))


async def test_dispatcher_backs_off_after_500s_and_a_timeout_and_loses_nothing(
        kabinet, telegram, slow_api, demo_database, clock):
    chats = await link_telegram_chats(kabinet, 8)
    clock.now = debt_day()
    assert (await Planner(SqlOutbox(demo_database), kabinet.window, KYIV, clock).run("debts"))[0] == len(chats)
    slow_api.fail("sendMessage", 500, "Internal Server Error", times=2)
    slow_api.fail("sendMessage", 502, "Bad Gateway", times=1)
    slow_api.delays = [SLOW]
    sending = dispatcher(demo_database, kabinet, clock, telegram)

    assert await sending.run_once() == len(chats)
    # Three refusals and one timeout (more only if the machine is so busy that a plain call times out too).
    assert sending.stats.retried >= 4 and sending.stats.sent == len(chats) - sending.stats.retried
    waiting = [row for row in await outbox(demo_database) if row.status != "sent"]
    assert len(waiting) == sending.stats.retried and {row.status for row in waiting} == {"queued"}
    assert all(row.attempts == 1 and row.not_before >= clock() + timedelta(seconds=5) for row in waiting)
    assert all("retrying" in row.outcome for row in waiting)

    assert await sending.run_once() == 0  # backing off: nothing is due yet
    for _ in range(5):
        clock.now += timedelta(minutes=5)
        if not await sending.run_once():
            break
    await slow_api.wait_until(lambda: slow_api.waiting == 0, timeout=60)  # the slow call lands late

    assert {row.status for row in await outbox(demo_database)} == {"sent"}
    delivered = Counter(slow_api.delivered())
    assert set(delivered) == set(chats)
    timeouts = sending.stats.retried - 3
    assert sum(delivered.values()) - len(chats) <= timeouts  # only a timed-out call may have arrived twice
    assert all("owes UAH 658.40" in call.text for call in slow_api.calls_to("sendMessage") if call.result)


async def test_dispatcher_waits_out_a_429_and_sends_each_message_once(kabinet, telegram, slow_api, demo_database, clock):
    chats = await link_telegram_chats(kabinet, 3)
    clock.now = debt_day()
    await Planner(SqlOutbox(demo_database), kabinet.window, KYIV, clock).run("debts")
    slow_api.fail("sendMessage", 429, "Too Many Requests: retry after 1", retry_after=1)
    sending = dispatcher(demo_database, kabinet, clock, telegram)
    await sending.run_once()
    assert sending.stats.rate_limited == 1
    [held] = [row for row in await outbox(demo_database) if row.status != "sent"]
    assert held.status == "queued" and held.attempts == 0  # a 429 is not a failed attempt
    clock.now += timedelta(seconds=2)
    assert await sending.run_once() == 1
    assert sorted(slow_api.delivered()) == sorted(chats)


async def test_a_reply_telegram_refuses_is_sent_later_by_the_outbox_and_the_reading_kept_once(
        bot_api, kabinet, demo_database, clock, caplog):
    """The turn is committed before it is answered: a refused answer never loses the reading, and the
    answer itself waits in the outbox until the dispatcher gets it through.

    The webhook answers 200: a retried update is a duplicate the core ignores, so a 500 would bring nothing.
    """
    async with Webhook(bot_api, kabinet, demo_database) as hook:
        chat = hook.chat(TelegramUser(id=5_557_001))
        await link(chat)
        bot_api.fail("sendMessage", 500, "Internal Server Error")
        update = chat.user.text("/reading 12500")
        with caplog.at_level(logging.ERROR):
            await chat.send(update, replies=0)
        assert chat.status == 200
        assert any("sending a reply failed" in record.getMessage() for record in caplog.records), caplog.text
        async with demo_database.session() as session:
            assert [r["value"] for r in await submitted_readings(session, None)] == [12500]
        [kept] = await outbox(demo_database)
        assert kept.kind == "reply" and kept.status == "queued" and "12500" in str(kept.text)

        await chat.send(update, replies=0)  # Telegram delivers the same update again
        assert chat.status == 200 and chat.unread == []
        async with demo_database.session() as session:
            assert [r["value"] for r in await submitted_readings(session, None)] == [12500]

        sending = dispatcher(demo_database, kabinet, clock, hook.channel)
        assert await sending.run_once() == 0  # not before a little while
        clock.now += timedelta(seconds=11)
        assert await sending.run_once() == 1
        [late] = await chat.expect(1)
        assert "accepted: 12500" in late.text and late.buttons  # with the buttons it had
        assert [row.status for row in await outbox(demo_database)] == ["sent"]
        assert "To pay now: UAH 658.40" in await chat.say("/balance")


async def test_a_ten_minute_bot_api_outage_loses_no_reminder(kabinet, telegram, slow_api, demo_database, clock):
    chats = await link_telegram_chats(kabinet, 1)
    clock.now = debt_day()
    await Planner(SqlOutbox(demo_database), kabinet.window, KYIV, clock).run("debts")
    slow_api.fail("sendMessage", 502, "Bad Gateway", times=1000)
    sending = dispatcher(demo_database, kabinet, clock, telegram)
    outage_ends = clock.now + timedelta(minutes=10)
    while clock.now < outage_ends:
        await sending.run_once()
        clock.now += timedelta(seconds=15)
    slow_api.errors.clear()
    clock.now += timedelta(hours=2)
    await sending.run_once()
    assert slow_api.delivered() == chats
