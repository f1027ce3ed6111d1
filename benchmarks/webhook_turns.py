"""CPU of one bot's turns on its Telegram webhook: text messages and button presses read past aiogram, or through it.

    .venv/bin/python benchmarks/webhook_turns.py [--rounds 6] [--seconds 10] [--chats 8] [--sample]
    .venv/bin/python benchmarks/webhook_turns.py --alone 40000

The bot runs in this process, wired as `kabinet run` wires it (bot/app.py: settings from the environment, the
database on PostgreSQL with the fast path, the core, make_web_app, the Telegram channel on its webhook), without the
reminder scheduler, the outbox dispatcher and the photo workers. The load runs in a child process: the stand-in Bot
API and benchmarks/load.py's closed loop of virtual users, each in its own chat linked to its own account, sending
the text mix (/balance, /reading, a value below the last one, the confirm button). So this process's CPU is the
bot's alone: its webhook, aiogram or the plain reading, the core, asyncpg and the replies' HTTP requests.

Rounds of `--seconds` alternate the webhook's reading (`TelegramChannel.plain_updates`), in the order
aiogram/plain, plain/aiogram, ..., so that the machine's load falls on both alike. Each round prints the bot's CPU
per update and its database's PostgreSQL backends' CPU per update; then the medians. `--sample` samples this
process's stack on its CPU (turns.py's Sampler) in the rounds past aiogram and prints where their CPU goes (the
sampling costs CPU itself: read the CPU figures of a run without it). `--alone N` times instead the webhook's reading
of the mix's updates by itself, N times each way in three alternating runs: aiogram's (parsing, dispatcher, routers,
middlewares, handler) against the plain reading, with a core that answers every update as a repeat.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aiohttp  # noqa: E402
from aiohttp import web  # noqa: E402

from benchmarks.load import (  # noqa: E402
    SECRET, Process, QuietBotAPI, VirtualUser, exchange_folder, free_port, link_users, virtual_users)
from benchmarks.scratch import backends_cpu, scratch_database  # noqa: E402
from benchmarks.turns import Sampler  # noqa: E402
from tests.telegram_api import TOKEN  # noqa: E402

PYTHON = sys.executable
MODES = {False: "aiogram", True: "plain"}


class Rounds:
    """The bot's side of the rounds: the harness asks for the reading before a round and for the figures after."""

    def __init__(self, channel, database_name: str, sampler: Sampler | None) -> None:
        self.channel, self.database_name, self.sampler = channel, database_name, sampler
        self.figures: dict[str, list[tuple[float, float]]] = {mode: [] for mode in MODES.values()}
        self.cpu = self.backends = 0.0

    async def begin(self, request: web.Request) -> web.Response:
        self.channel.plain_updates = request.query["plain"] == "1"
        if self.sampler is not None:
            self.sampler.on = self.channel.plain_updates
        self.backends, self.cpu = backends_cpu(self.database_name), time.process_time()
        return web.Response(text="go")

    async def end(self, request: web.Request) -> web.Response:
        cpu = time.process_time() - self.cpu
        backends = backends_cpu(self.database_name) - self.backends
        if self.sampler is not None:
            self.sampler.on = False
        updates, errors, seconds = int(request.query["updates"]), int(request.query["errors"]), float(request.query["seconds"])
        mode = MODES[self.channel.plain_updates]
        per_update = (cpu / max(updates, 1) * 1000, backends / max(updates, 1) * 1000)
        if request.query.get("measured") == "1":
            self.figures[mode].append(per_update)
        print(f"{mode:8} {updates:6} updates in {seconds:.1f} s ({updates / seconds:.0f}/s), {errors} errors: "
              f"bot {per_update[0]:.3f} ms CPU an update, PostgreSQL backends {per_update[1]:.3f} ms"
              + ("" if request.query.get("measured") == "1" else " (warm-up)"), flush=True)
        return web.Response(text="done")

    def report(self) -> None:
        for mode, figures in self.figures.items():
            if figures:
                bot = [figure[0] for figure in figures]
                print(f"{mode}: bot CPU an update, median {statistics.median(bot):.3f} ms "
                      f"({' '.join(f'{value:.3f}' for value in bot)}); PostgreSQL backends median "
                      f"{statistics.median(figure[1] for figure in figures):.3f} ms")
        if self.sampler is not None:
            self.sampler.report(40)


async def bot(args) -> None:
    from bot.app import build_kabinet, open_database
    from core.memory import map_large_blocks
    from bot.metrics import install as install_metrics
    from bot.server import make_web_app, telegram_config
    from bot.settings import load_settings
    from handlers.telegram.channel import TelegramChannel
    from storage.exchange import import_folder

    folder, numbers = exchange_folder(args.chats)
    data_dir = tempfile.mkdtemp(prefix="kabinet-webhook-turns-")
    async with scratch_database("postgresql") as url:
        api_port, port = free_port(), free_port()
        for name in [name for name in os.environ if name.startswith("KABINET_")]:
            del os.environ[name]
        os.environ.update(
            KABINET_DATABASE_URL=url, KABINET_TELEGRAM_TOKEN=TOKEN, KABINET_TELEGRAM_API_BASE=f"http://127.0.0.1:{api_port}",
            KABINET_TELEGRAM_WEBHOOK_SECRET=SECRET, KABINET_TELEGRAM_WEBHOOK_URL=f"http://127.0.0.1:{port}/webhook/telegram",
            KABINET_READING_WINDOW="always", KABINET_CHAT_UPDATES_PER_MINUTE="100000",
            KABINET_DATA_DIR=data_dir)
        settings = load_settings()
        database = await open_database(settings)
        async with database.session() as session:
            await import_folder(session, folder)
        ids = await link_users(url, numbers, args.chats)
        map_large_blocks()  # as `kabinet run`
        install_metrics()
        kabinet = build_kabinet(settings, database)
        app = make_web_app(database, kabinet, settings)
        channel = TelegramChannel(telegram_config(settings), kabinet)
        channel.mount(app)
        sampler = Sampler() if args.sample else None
        rounds = Rounds(channel, url.rsplit("/", 1)[1], sampler)
        app.router.add_post("/bench/begin", rounds.begin)
        app.router.add_post("/bench/end", rounds.end)
        load = subprocess.Popen([PYTHON, __file__, "--harness", json.dumps(
            {"api_port": api_port, "port": port, "ids": ids, "rounds": args.rounds, "seconds": args.seconds})])
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        try:
            await channel.start()
            if sampler is not None:
                sampler.start()
            code = await asyncio.to_thread(load.wait)
            if sampler is not None:
                sampler.stop()
            if code:
                raise SystemExit(f"the harness ended with {code}")
            rounds.report()
        finally:
            if load.poll() is None:
                load.terminate()
            await channel.stop()
            await runner.cleanup()
            await database.close()
            shutil.rmtree(folder, ignore_errors=True)
            shutil.rmtree(data_dir, ignore_errors=True)


async def harness(plan: dict) -> None:
    """The stand-in Bot API and the virtual users, in the child process."""
    api = await QuietBotAPI(TOKEN).start(plan["api_port"])
    bot_url = f"http://127.0.0.1:{plan['port']}"
    try:
        async with virtual_users([Process(None, plan["port"])], plan["ids"], [("unused", 0)], api, timeout=120) as users, \
                aiohttp.ClientSession() as control:
            async def round_of(plain: bool, seconds: float, measured: bool) -> None:
                async with control.post(f"{bot_url}/bench/begin", params={"plain": str(int(plain))}) as response:
                    await response.read()
                before = [(len(user.latencies), user.errors) for user in users]
                started = time.monotonic()
                await asyncio.gather(*(user.run(started + seconds, "text") for user in users))
                elapsed = time.monotonic() - started
                updates = sum(len(user.latencies) - count for user, (count, _) in zip(users, before))
                errors = sum(user.errors - count for user, (_, count) in zip(users, before))
                async with control.post(f"{bot_url}/bench/end", params={
                        "updates": str(updates), "errors": str(errors), "seconds": f"{elapsed:.2f}",
                        "measured": str(int(measured))}) as response:
                    await response.read()

            for plain in (False, True):  # the first turns of each kind (statements prepared, models built)
                await round_of(plain, 2, measured=False)
            for number in range(plan["rounds"]):
                for plain in ((False, True) if number % 2 == 0 else (True, False)):
                    await round_of(plain, plan["seconds"], measured=True)
    finally:
        await api.close()


async def alone(count: int) -> None:
    """The webhook's reading of the text mix's four updates alone, no core, no HTTP: aiogram's (its Update parsed, the
    dispatcher, the routers and middlewares, the handler) against the plain reading, the core answering "a repeat"."""
    from aiogram import Bot

    from core.messages import Handled, Outcome
    from handlers.telegram.channel import build_dispatcher
    from handlers.telegram.events import respond
    from handlers.telegram.plain_updates import read_plain
    from handlers.telegram.replies import TelegramOutput

    class Repeats:
        async def process(self, event):
            return Handled(Outcome.DUPLICATE, [])

    bot = Bot(TOKEN)
    channel = TelegramOutput(bot, Repeats())  # type: ignore[arg-type]
    dispatcher = build_dispatcher(channel)
    user = VirtualUser(7_000_001, 0, "unused", 0, None, iter(range(1, 10**9)), None)
    mix = [{"update_id": number, **update} for number, update in enumerate(
        (user.text("/balance"), user.text("/reading"), user.text("11999"), user.press("reading:confirm")), start=1)]

    async def through_aiogram(update: dict) -> None:
        await dispatcher.feed_webhook_update(bot, update)

    async def plain(update: dict) -> None:
        read = read_plain(update)
        assert read is not None
        turn = asyncio.ensure_future(respond(channel, read.event, read.update_id))  # in a task, as the webhook does
        await asyncio.wait((turn,), timeout=55)

    for name, reading in (("aiogram", through_aiogram), ("plain", plain)) * 3:
        started = time.process_time()
        for _ in range(count // len(mix)):
            for update in mix:
                await reading(update)
        print(f"{name:8} {(time.process_time() - started) / count * 1e6:.1f} us CPU an update, alone")
    await bot.session.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=6, help="pairs of rounds, one of each reading")
    parser.add_argument("--seconds", type=float, default=10.0, help="seconds a round")
    parser.add_argument("--chats", type=int, default=8, help="virtual users, each in its own chat")
    parser.add_argument("--sample", action="store_true", help="where the CPU of the rounds past aiogram goes")
    parser.add_argument("--alone", type=int, metavar="N", help="instead, time N readings of updates alone")
    parser.add_argument("--harness", metavar="PLAN", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.alone:
        asyncio.run(alone(arguments.alone))
    elif arguments.harness:
        asyncio.run(harness(json.loads(arguments.harness)))
    else:
        asyncio.run(bot(arguments))
