"""PostgreSQL going away mid-load and coming back, seen through a TCP proxy the test cuts and restores.

The machine's PostgreSQL is shared, so it is never restarted: Kabinet talks to it through tests/tcp_proxy.py,
and cutting the proxy (every connection reset, new ones refused) is what a server restart looks like to
the client. Consumers keep submitting readings throughout; what the bot said was accepted must be in the
database, what it could not do it must have apologised for, and the same Kabinet must work again after.
"""
from __future__ import annotations

import asyncio
from datetime import timedelta
from urllib.parse import urlsplit, urlunsplit

import aiohttp
import pytest
from aiohttp import web
from sqlalchemy import select

from bot.server import make_web_app
from core.conversation import Kabinet
from core.i18n import Translator
from core.readings import ReadingWindow
from storage.database import Database
from storage.exchange import import_folder
from storage.models import Base, MeterRow, ReadingRow
from storage.photos import FilePhotoArchive
from tests.support.console import Talk, linked
from tests.support.demo import BACKENDS, DEMO, FAST_PATH, KYIV
from tests.support.telegram import Webhook, link
from tests.support.waiting import free_port
from tests.tcp_proxy import TcpProxy
from tests.telegram_api import TelegramUser

pytestmark = pytest.mark.skipif("postgresql" not in BACKENDS, reason="a PostgreSQL fault; this run is SQLite only")

TURN_TIMEOUT = 60.0  # one consumer turn; generous for a loaded 2-core machine
SORRY = "Sorry, something went wrong on our side"
# (account, surname, meter serial, values per zone just above the demo's last): one chat per demo meter.
METERS = [
    ("010000012345", "Шевченко", "0123456", [12400]),
    ("1705339110", "Дем'яненко", "7701234", [23500, 9900]),
    ("020000054321", "Бондар", "55501", [101250, 54350, 70050]),  # K = 40: small steps stay under 50,000 kWh
]


def through(url: str, port: int) -> str:
    parts = urlsplit(url)
    user = parts.netloc.rsplit("@", 1)[0] + "@" if "@" in parts.netloc else ""
    return urlunsplit(parts._replace(netloc=f"{user}127.0.0.1:{port}"))


@pytest.fixture
async def direct(postgres_url):
    """The test's own connection to PostgreSQL, around the proxy: demo data, then the checks."""
    database = Database(postgres_url)
    tables = ", ".join(f'"{table.name}"' for table in Base.metadata.sorted_tables)
    async with database.engine.begin() as connection:
        await connection.exec_driver_sql(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
    async with database.session() as session:
        await import_folder(session, DEMO)
    yield database
    await database.close()


@pytest.fixture
async def proxy(postgres_url, direct):
    parts = urlsplit(postgres_url)
    proxy = await TcpProxy(parts.hostname, parts.port or 5432).start()
    yield proxy
    await proxy.close()


@pytest.fixture
async def proxied(postgres_url, proxy, tmp_path, clock):
    """Kabinet whose every connection to PostgreSQL goes through the proxy."""
    database = Database(through(postgres_url, proxy.port), fast_path=FAST_PATH)
    kabinet = Kabinet(store=database, photos=FilePhotoArchive(tmp_path / "photos"), translator=Translator("uk"),
                      window=ReadingWindow.parse("always"), timezone=KYIV, clock=clock)
    yield kabinet
    await database.close()


class Consumer:
    """One chat submitting a rising reading for its meter each day; remembers what the bot said."""

    def __init__(self, kabinet: Kabinet, tmp_path, number: int, meter: tuple) -> None:
        self.account, self.surname, self.serial, self.values = meter
        self.talk = Talk(kabinet, chat_id=f"pg{number}", files=tmp_path / "out")
        self.accepted: list[tuple[str, object, list[int]]] = []  # (serial, day, values)
        self.apologies = 0

    async def submit(self, day) -> str:
        self.values = values = [value + 7 for value in self.values]
        text = await asyncio.wait_for(self.talk.say("/reading " + " ".join(map(str, values))), TURN_TIMEOUT)
        if "accepted" in text:
            self.accepted.append((self.serial, day, values))
        elif SORRY in text:
            self.apologies += 1
        else:
            raise AssertionError(f"neither accepted nor an apology: {text!r}")
        return text


async def stored(database: Database, source: str = "console") -> dict[tuple[str, object], list[int]]:
    async with database.session() as session:
        rows = await session.execute(
            select(MeterRow.serial, ReadingRow.taken_on, ReadingRow.zone, ReadingRow.value)
            .join(MeterRow, MeterRow.id == ReadingRow.meter_id)
            .where(ReadingRow.source == source)
            .order_by(ReadingRow.zone)
        )
        found: dict[tuple[str, object], list[int]] = {}
        for serial, day, _, value in rows:
            found.setdefault((serial, day), []).append(value)
        return found


async def health(url: str) -> int:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=TURN_TIMEOUT)) as http:
        async with http.get(url) as response:
            return response.status


async def test_postgresql_cut_mid_load_apologises_loses_no_accepted_reading_and_recovers(
        proxied, proxy, direct, clock, tmp_path):
    kabinet = proxied
    consumers = [Consumer(kabinet, tmp_path, number, meter) for number, meter in enumerate(METERS)]
    for consumer in consumers:
        await linked(consumer.talk, consumer.account, consumer.surname)
    onlooker = Talk(kabinet, chat_id="pg-balance", files=tmp_path / "out")
    await linked(onlooker)
    app = make_web_app(kabinet.store, kabinet)
    runner = web.AppRunner(app, shutdown_timeout=1)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    healthz = f"http://127.0.0.1:{port}/healthz"
    try:
        async def round_(day) -> list[str]:
            clock.now = day
            return list(await asyncio.gather(*(consumer.submit(day.date()) for consumer in consumers),
                                             asyncio.wait_for(onlooker.say("/balance"), TURN_TIMEOUT)))

        day = clock.now
        for _ in range(3):
            day += timedelta(days=1)
            answers = await round_(day)
            assert all("accepted" in answer for answer in answers[:-1]), answers
        assert await health(healthz) == 200
        assert proxy.accepted > 0

        # The cut lands while a round is in flight: each turn either made it or apologised.
        day += timedelta(days=1)
        clock.now = day
        in_flight = asyncio.gather(*(consumer.submit(day.date()) for consumer in consumers),
                                   return_exceptions=True)
        await asyncio.sleep(0.01)
        proxy.cut()
        outcomes = await in_flight
        assert not [o for o in outcomes if isinstance(o, BaseException)], outcomes

        # While PostgreSQL is away, every turn is the apology and nothing is said accepted.
        before = sum(c.apologies for c in consumers)
        for _ in range(2):
            day += timedelta(days=1)
            answers = await round_(day)
            assert all(SORRY in answer for answer in answers), answers
        assert sum(c.apologies for c in consumers) == before + 2 * len(consumers)
        assert proxy.refused > 0
        assert await health(healthz) == 503

        # Back again: the same Kabinet, the same chats, no restart.
        proxy.restore()
        for _ in range(3):
            day += timedelta(days=1)
            answers = await round_(day)
            assert all("accepted" in answer for answer in answers[:-1]), answers
            assert "To pay now: UAH 658.40" in answers[-1], answers[-1]
        assert await health(healthz) == 200
    finally:
        await runner.cleanup()

    found = await stored(direct)
    accepted = {(serial, day): values for c in consumers for serial, day, values in c.accepted}
    missing = {key: values for key, values in accepted.items() if found.get(key) != values}
    assert not missing, f"said accepted but not stored: {missing}"
    assert len(accepted) >= 6 * len(consumers)


async def test_telegram_update_during_the_cut_is_answered_500_and_processed_once_when_retried(
        proxied, proxy, direct, bot_api):
    """Telegram delivers an update again while the webhook answers non-200: once PostgreSQL is back, it counts."""
    kabinet = proxied
    async with Webhook(bot_api, kabinet, kabinet.store) as hook:
        chat = hook.chat(TelegramUser(id=5_559_001))
        await link(chat)
        update = chat.user.text("/reading 12500")
        proxy.cut()
        apology = await chat.send(update)
        assert chat.status == 500 and SORRY in apology[0].text
        proxy.restore()
        accepted = await chat.send(update)  # Telegram's retry of the same update_id
        assert chat.status == 200 and "accepted: 12500" in accepted[0].text
        await chat.send(update, replies=0)  # and a late duplicate is ignored
        assert chat.status == 200 and chat.unread == []
    assert [values for (serial, _), values in (await stored(direct, "telegram")).items()
            if serial == "0123456"] == [[12500]]


async def test_a_restart_while_the_bot_is_idle_costs_no_consumer_an_apology(proxied, proxy, clock, tmp_path):
    """The pool's idle connections die with the server; the next turns get fresh ones instead of an error."""
    consumers = [Consumer(proxied, tmp_path, number, meter) for number, meter in enumerate(METERS)]
    for consumer in consumers:
        await linked(consumer.talk, consumer.account, consumer.surname)
    clock.now += timedelta(days=1)
    answers = await asyncio.gather(*(consumer.submit(clock.now.date()) for consumer in consumers))
    assert all("accepted" in answer for answer in answers), answers
    connected = proxy.accepted

    proxy.cut()  # a restart: every pooled connection is reset, and nobody is talking meanwhile
    proxy.restore()
    await asyncio.sleep(0.05)
    clock.now += timedelta(days=1)
    answers = await asyncio.gather(*(consumer.submit(clock.now.date()) for consumer in consumers))
    assert all("accepted" in answer for answer in answers), answers
    assert proxy.accepted > connected  # they were new connections
