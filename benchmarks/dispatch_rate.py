"""Benchmark: dispatch N outbox messages (default 20,000) through the real Telegram channel to a stand-in
Bot API server that enforces 30 messages/s (any 1-second window) and 1 message/s per chat, answering
429 with retry_after beyond that.

    .venv/bin/python benchmarks/dispatch_rate.py --messages 20000 [--backend sqlite|postgresql] [--processes 1]

Prints the achieved rate as a share of the limit, the 429s, and the duplicates (chats that got a message
twice). Goal: 95 % or more of the limit, zero 429s, zero duplicates. --processes 2 runs two dispatchers
(separate event loops in separate processes) sharing the pace through Redis.
"""
from __future__ import annotations

import argparse
import asyncio
import collections
import multiprocessing
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from aiohttp import web  # noqa: E402
from sqlalchemy import text  # noqa: E402

from benchmarks.scratch import scratch_database  # noqa: E402
from tests.telegram_api import TOKEN, BotAPI  # noqa: E402

LIMIT = 30
REDIS = os.environ.get("KABINET_BENCH_REDIS", "redis://127.0.0.1:6379/14")


class LimitedBotAPI(BotAPI):
    """Counts sendMessage calls and refuses those over Telegram's limits, as Telegram does."""

    def __init__(self) -> None:
        super().__init__()
        self.window: collections.deque[float] = collections.deque()
        self.per_chat: dict[int, float] = {}
        self.too_many = 0
        self.delivered: collections.Counter[int] = collections.Counter()
        self.first = self.last = None

    async def on_method(self, request: web.Request) -> web.Response:
        if request.match_info["method"] != "sendMessage":
            return await super().on_method(request)
        data = await request.post() if request.content_type != "application/json" else await request.json()
        chat = int(data["chat_id"])
        now = time.monotonic()
        while self.window and now - self.window[0] >= 1.0:
            self.window.popleft()
        if len(self.window) >= LIMIT or now - self.per_chat.get(chat, -10.0) < 1.0:
            self.too_many += 1
            return web.json_response({"ok": False, "error_code": 429, "description": "Too Many Requests: retry after 1",
                                      "parameters": {"retry_after": 1}}, status=429)
        self.window.append(now)
        self.per_chat[chat] = now
        self.delivered[chat] += 1
        self.first = self.first or now
        self.last = now
        return web.json_response({"ok": True, "result": {"message_id": 1, "date": 0, "chat": {"id": chat, "type": "private"},
                                                        "text": str(data.get("text", ""))}})


async def prepare(url: str, messages: int) -> None:
    from storage.database import Database
    from storage.migrate import upgrade

    await asyncio.to_thread(upgrade, url)
    database = Database(url)
    backend = "postgresql" if url.startswith("postgresql") else "sqlite"
    series = (f"SELECT generate_series(1, {messages}) AS i" if backend == "postgresql" else
              f"WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < {messages}) SELECT i FROM s")
    now = "TIMESTAMPTZ '2026-11-01 00:00:00+00'" if backend == "postgresql" else "'2026-11-01 00:00:00'"
    true = "true" if backend == "postgresql" else "1"
    async with database.engine.begin() as connection:
        await connection.execute(text(
            f"INSERT INTO chats (id, channel, external_id, language, active, created_at) "
            f"SELECT i, 'telegram', CAST(1000000 + i AS TEXT), 'uk', {true}, {now} FROM ({series}) g"))
        await connection.execute(text(
            f"INSERT INTO outbox (key, chat_id, kind, subject, period, text, status, attempts, not_before, created_at) "
            f"SELECT CAST(i AS TEXT) || ':broadcast:b:1', i, 'broadcast', 'b', '1', "
            f"'{{\"uk\": \"Оголошення: планові роботи\"}}', 'queued', 0, {now}, {now} FROM ({series}) g"))
    await database.close()


def dispatch_process(url: str, api_base: str, use_redis: bool, stop_at: float) -> None:
    asyncio.run(dispatch(url, api_base, use_redis, stop_at))


async def dispatch(url: str, api_base: str, use_redis: bool, stop_at: float) -> None:
    from bot.app import build_kabinet
    from bot.server import telegram_config
    from bot.settings import load_settings
    from handlers.telegram.channel import TelegramChannel
    from scheduler.dispatcher import Dispatcher
    from storage.scheduling import SqlOutbox
    from scheduler.pace import LocalPace, RedisPace
    from storage.database import Database

    settings = load_settings(database_url=url, telegram_token=TOKEN, telegram_api_base=api_base, data_dir=Path(tempfile.mkdtemp()))
    database = Database(url)
    kabinet = build_kabinet(settings, database)
    channel = TelegramChannel(telegram_config(settings), kabinet)
    pace = RedisPace(REDIS) if use_redis else LocalPace()
    dispatcher = Dispatcher(SqlOutbox(database), {"telegram": channel}, kabinet.translator, settings.zone,
                            settings.window, rates={"telegram": LIMIT}, pace=pace, batch=100, concurrency=4)
    stop = asyncio.Event()

    async def until_drained() -> None:
        while time.time() < stop_at:
            async with database.session() as session:
                waiting = await session.scalar(text("SELECT count(*) FROM outbox WHERE status IN ('queued', 'sending')"))
            if not waiting:
                break
            await asyncio.sleep(1)
        stop.set()

    await asyncio.gather(dispatcher.run(stop, idle=0.2), until_drained())
    await channel.bot.session.close()
    if use_redis:
        await pace.close()
    await database.close()


async def main(messages: int, backend: str, processes: int) -> None:
    async with scratch_database(backend) as url:
        await prepare(url, messages)
        await measure(url, messages, backend, processes)


async def measure(url: str, messages: int, backend: str, processes: int) -> None:
    api = await LimitedBotAPI().start()
    if processes > 1:
        import redis.asyncio

        client = redis.asyncio.from_url(REDIS)
        await client.flushdb()
        await client.aclose()
    stop_at = time.time() + messages / LIMIT * 1.5 + 60
    started = time.monotonic()
    if processes == 1:
        await dispatch(url, api.base, False, stop_at)
    else:
        context = multiprocessing.get_context("spawn")
        workers = [context.Process(target=dispatch_process, args=(url, api.base, True, stop_at)) for _ in range(processes)]
        for worker in workers:
            worker.start()
        while any(worker.is_alive() for worker in workers):
            await asyncio.sleep(0.5)
    elapsed = time.monotonic() - started
    sent = sum(api.delivered.values())
    duplicates = sum(count - 1 for count in api.delivered.values() if count > 1)
    span = (api.last - api.first) if sent > 1 else 0
    rate = (sent - 1) / span if span else 0
    print(f"{backend}, {processes} dispatcher(s): {sent:,} of {messages:,} delivered in {elapsed:.0f} s; "
          f"rate {rate:.2f}/s = {rate / LIMIT:.1%} of the {LIMIT}/s limit (first to last delivery); "
          f"429s: {api.too_many}; duplicates: {duplicates}")
    await api.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--processes", type=int, default=1)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.messages, arguments.backend, arguments.processes))
