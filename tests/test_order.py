"""The updates of one chat are handled in the messenger's order; other chats are not held up (issue 18.4).

A burst "/reading" then a value, as a consumer types it, must end with the reading asked and then accepted,
however the two reach the bot: in one polled batch (aiogram handles them as concurrent tasks), in a batch in
the reverse order, or as parallel webhook requests arriving in the reverse order while the chat is busy.
"""
from __future__ import annotations

import asyncio
import itertools
import time

from handlers.chat_order import ChatLines
from tests.support.telegram import link
from tests.support.viber import USER, link as link_viber
from tests.support.waiting import wait_until
from tests.telegram_api import BotAPI, TelegramChat, TelegramUser, polling_delivery

ROUNDS = 10
ASKED = ("Enter the reading", "zones (", "Previous reading")  # what "/reading" answers
NOT_UNDERSTOOD = "I did not understand"
_update_ids = itertools.count(900_000_001)


def in_order(texts: list[str], accepted: str) -> bool:
    """The reading was asked (every message of that answer came first), then accepted; nothing was lost."""
    asked = [i for i, text in enumerate(texts) if any(marker in text for marker in ASKED)]
    taken = [i for i, text in enumerate(texts) if accepted in text]
    return bool(asked) and bool(taken) and max(asked) < min(taken) and not any(NOT_UNDERSTOOD in t for t in texts)


def numbered(update: dict) -> dict:
    update["update_id"] = next(_update_ids)
    return update


async def link_as(chat: TelegramChat, account: str, surname: str) -> None:
    assert "personal account" in await chat.say("/start", replies=2)
    assert "consent" in await chat.press("Link account")
    assert "Consent recorded" in await chat.press("I agree", replies=2)
    assert "surname" in await chat.say(account)
    assert f"Account {account} is linked" in await chat.say(surname)


async def accepted_in(api: BotAPI, chat: TelegramChat, start: int, accepted: str) -> list[str]:
    """The chat's messages from `start` on, once one says the reading was accepted."""
    await api.wait_until(lambda: any(accepted in m.text for m in chat.messages[start:]))
    return [m.text for m in chat.messages[start:]]


# ----- polling: one batch, handled by aiogram as concurrent tasks


async def test_a_burst_in_one_polled_batch_is_handled_in_update_id_order(bot_api, polling):
    chat = TelegramChat(bot_api, TelegramUser(), polling_delivery(bot_api))
    await link(chat)
    for value in range(12600, 12600 + 2 * ROUNDS, 2):
        start = len(chat.messages)
        bot_api.push(chat.user.text("/reading"))
        bot_api.push(chat.user.text(str(value)))
        texts = await accepted_in(bot_api, chat, start, f"accepted: {value}")
        assert in_order(texts, f"accepted: {value}"), texts


async def test_a_polled_batch_in_the_reverse_order_is_still_handled_in_update_id_order(bot_api, polling):
    chat = TelegramChat(bot_api, TelegramUser(), polling_delivery(bot_api))
    await link(chat)
    for value in range(12600, 12600 + 2 * ROUNDS, 2):
        start = len(chat.messages)
        reading, number = numbered(chat.user.text("/reading")), numbered(chat.user.text(str(value)))
        bot_api.push(number)
        bot_api.push(reading)
        texts = await accepted_in(bot_api, chat, start, f"accepted: {value}")
        assert in_order(texts, f"accepted: {value}"), texts


async def test_two_chats_bursts_interleaved_each_in_order_and_neither_waits_for_the_other(bot_api, polling):
    first = TelegramChat(bot_api, TelegramUser(), polling_delivery(bot_api))
    second = TelegramChat(bot_api, TelegramUser(id=5_550_002, first_name="Olena"), polling_delivery(bot_api))
    await link(first)
    await link_as(second, "1705339110", "Дем'яненко")
    for round_ in range(ROUNDS // 2):
        value, zones = 12600 + 2 * round_, f"{23500 + round_} {9900 + round_}"
        starts = len(first.messages), len(second.messages)
        bot_api.hold(first.user.id)  # the first chat stays busy answering its "/reading"
        for update in (first.user.text("/reading"), second.user.text("/reading"), first.user.text(str(value)),
                       second.user.text(zones)):
            bot_api.push(update)
        # The second chat's burst is answered, in order, while the first chat's is still in the bot.
        texts = await accepted_in(bot_api, second, starts[1], "accepted: ")
        assert in_order(texts, "accepted: "), texts
        assert any(call.chat_id == first.user.id for call in bot_api.held)
        assert not [m for m in first.messages[starts[0]:]]
        bot_api.release(first.user.id)
        texts = await accepted_in(bot_api, first, starts[0], f"accepted: {value}")
        assert in_order(texts, f"accepted: {value}"), texts


# ----- webhook: parallel requests, the later update first, while the chat is busy


async def test_parallel_webhook_requests_of_one_chat_are_handled_in_update_id_order(bot_api, webhook):
    chat = webhook.chat(TelegramUser())
    await link(chat)
    in_bot = webhook.channel._in_flight  # the updates the bot holds: in line, or being handled
    for value in range(12600, 12600 + 2 * (ROUNDS // 2), 2):
        start = len(chat.messages)
        bot_api.hold(chat.user.id)
        busy = asyncio.create_task(chat.deliver(numbered(chat.user.text("/balance"))))
        await bot_api.wait_until(lambda: any(call.chat_id == chat.user.id for call in bot_api.held))
        reading, number = numbered(chat.user.text("/reading")), numbered(chat.user.text(str(value)))
        later = asyncio.create_task(chat.deliver(number))
        await bot_api.wait_until(lambda: len(in_bot) == 2)
        earlier = asyncio.create_task(chat.deliver(reading))
        await bot_api.wait_until(lambda: len(in_bot) == 3)
        bot_api.release(chat.user.id)
        assert await asyncio.gather(busy, later, earlier) == [200, 200, 200]
        texts = [m.text for m in chat.messages[start:]]
        assert in_order(texts, f"accepted: {value}"), texts
        bot_api.held.clear()
    assert len(webhook.channel.lines) == 0  # a chat's line is gone once it is empty


# ----- Viber: callbacks ordered by their timestamp


async def test_viber_callbacks_of_one_chat_are_handled_in_timestamp_order(rig):
    user = rig.user()
    await link_viber(user)
    in_bot, viber = rig.channel._in_flight, rig.viber  # the callbacks the bot holds: in line, or being handled
    for round_ in range(ROUNDS // 2):
        value, now = 12600 + 2 * round_, int(time.time() * 1000)
        start = len(viber.to(USER))

        def said(text: str, at: int) -> dict:
            return {**user.message("text", text=text), "timestamp": at}

        viber.hold(USER)
        busy = asyncio.create_task(user.post(said("/balance", now)))
        await wait_until(lambda: viber.held, interval=0.01)
        later = asyncio.create_task(user.post(said(str(value), now + 2)))
        await wait_until(lambda: len(in_bot) == 2, interval=0.01)
        earlier = asyncio.create_task(user.post(said("/reading", now + 1)))
        await wait_until(lambda: len(in_bot) == 3, interval=0.01)
        viber.release(USER)
        assert [status for status, _ in await asyncio.gather(busy, later, earlier)] == [200, 200, 200]
        texts = [m.get("text", "") for m in viber.to(USER)[start:]]
        assert in_order(texts, f"accepted: {value}"), texts
        viber.held.clear()
    assert len(rig.channel.lines) == 0


# ----- the lines themselves


async def test_a_place_its_update_never_comes_to_is_given_up_and_the_chat_goes_on():
    lines = ChatLines(unclaimed_seconds=0.05)
    lines.queue(5_550_001, 41)  # queued with its batch, but its task never reaches the line
    async with lines.turn(5_550_001, 42):
        assert lines.waiting(5_550_001) == 1
    assert len(lines) == 0


async def test_an_update_given_up_while_in_line_leaves_it_to_the_next():
    lines = ChatLines()
    handled: list[int] = []
    busy = asyncio.Event()

    async def update(sequence: int, hold: asyncio.Event | None = None) -> None:
        async with lines.turn(1, sequence):
            if hold is not None:
                busy.set()
                await hold.wait()
            handled.append(sequence)

    hold = asyncio.Event()
    first = asyncio.create_task(update(1, hold))
    await busy.wait()
    second, third = asyncio.create_task(update(2)), asyncio.create_task(update(3))
    await wait_until(lambda: lines.waiting(1) == 3, interval=0.01)
    second.cancel()  # e.g. the process stops
    hold.set()
    await asyncio.gather(first, third)
    assert handled == [1, 3] and second.cancelled() and len(lines) == 0
