"""The per-chat update limit: a flooding chat is told to slow down once, and the rest never reach the database."""
import dataclasses
import logging
import uuid
from datetime import timedelta

from sqlalchemy import func, select

from core.messages import Incoming, Outcome
from scheduler.chat_limit import LocalChatLimit, RedisChatLimit
from storage.models import DeliveryRow
from tests.support.demo import REDIS

SLOW_DOWN = "You are sending messages too often. Please wait a minute: until then new messages are not processed."


def update(chat_id: str, number: int, language: str = "en") -> Incoming:
    return Incoming("telegram", chat_id, text="/help", language=language, delivery_key=f"{chat_id}-{number}")


async def deliveries(database, chat_id: str) -> int:
    async with database.session() as session:
        return await session.scalar(
            select(func.count()).select_from(DeliveryRow).where(DeliveryRow.key.startswith(f"{chat_id}-")))


async def flood(kabinet, chat_id: str, count: int, first: int = 0, language: str = "en") -> list:
    return [await kabinet.process(update(chat_id, n, language)) for n in range(first, first + count)]


def outcomes(handled: list) -> list[Outcome]:
    return [h.outcome for h in handled]


async def test_a_chat_over_its_limit_is_told_once_and_the_rest_is_dropped(kabinet, demo_database, clock):
    kabinet = dataclasses.replace(kabinet, chat_limit=LocalChatLimit(20))
    handled = await flood(kabinet, "flood", 25)
    assert outcomes(handled) == [Outcome.DONE] * 20 + [Outcome.LIMITED] * 5
    assert [reply.text for reply in handled[20].replies] == [SLOW_DOWN]
    assert all(h.replies == [] for h in handled[21:])
    assert await deliveries(demo_database, "flood") == 20  # the dropped updates opened no transaction
    # A repeat of an admitted update is not counted again: the turn recognises it, as before.
    assert (await kabinet.process(update("flood", 3))).outcome is Outcome.DUPLICATE
    assert (await kabinet.process(update("neighbour", 0))).outcome is Outcome.DONE
    clock.now += timedelta(minutes=1)
    assert outcomes(await flood(kabinet, "flood", 1, first=25)) == [Outcome.DONE]
    assert await deliveries(demo_database, "flood") == 21


async def test_the_slow_down_answer_is_in_the_chats_language(kabinet):
    kabinet = dataclasses.replace(kabinet, chat_limit=LocalChatLimit(2))
    handled = await flood(kabinet, "uk-chat", 3, language="uk")
    assert handled[2].replies[0].text == ("Ви надсилаєте повідомлення надто часто. Зачекайте, будь ласка, хвилину: "
                                          "доти нові повідомлення не обробляються.")


async def test_processes_share_one_limit_through_redis(kabinet, demo_database):
    chat = f"redis-{uuid.uuid4().hex}"
    first, second = RedisChatLimit(REDIS, 20), RedisChatLimit(REDIS, 20)
    one, two = dataclasses.replace(kabinet, chat_limit=first), dataclasses.replace(kabinet, chat_limit=second)
    try:
        handled = [await (one if n % 2 else two).process(update(chat, n)) for n in range(25)]
        assert outcomes(handled) == [Outcome.DONE] * 20 + [Outcome.LIMITED] * 5
        assert [reply.text for reply in handled[20].replies] == [SLOW_DOWN]
        assert all(h.replies == [] for h in handled[21:])
        assert await deliveries(demo_database, chat) == 20
        # A repeat delivered to the other process is not counted again there either.
        assert (await one.process(update(chat, 2))).outcome is Outcome.DUPLICATE
        assert first.local.counts == {}  # Redis answered every time
    finally:
        keys = [key async for key in first.redis.scan_iter(f"{first.prefix}{{telegram:{chat}}}*")]
        if keys:
            await first.redis.delete(*keys)
        await first.close()
        await second.close()


async def test_with_redis_down_each_process_limits_on_its_own_and_says_so_once(kabinet, caplog):
    limit = RedisChatLimit("redis://127.0.0.1:1/15", 20)  # nothing listens on port 1
    kabinet = dataclasses.replace(kabinet, chat_limit=limit)
    try:
        with caplog.at_level(logging.WARNING, logger="scheduler.chat_limit"):
            handled = await flood(kabinet, "no-redis", 25)
    finally:
        await limit.close()
    assert outcomes(handled) == [Outcome.DONE] * 20 + [Outcome.LIMITED] * 5
    warnings = [r.getMessage() for r in caplog.records if r.name == "scheduler.chat_limit"]
    assert len(warnings) == 1 and "cannot be reached (ConnectionError)" in warnings[0]
