"""Shared fixtures: every database test runs on SQLite and on the machine's PostgreSQL.

KABINET_TEST_BACKENDS=sqlite (or postgresql) narrows a local run; CI runs both, and a PostgreSQL that
cannot be reached is an error, never a skip. KABINET_DATABASE_FAST_PATH=off (the setting `kabinet run`
reads) runs the PostgreSQL half with every statement through SQLAlchemy, none straight on asyncpg; the
tests of a turn's statements run both ways in every run (BOTH_PATHS).
"""
from __future__ import annotations

import asyncio
import logging
import re
import shutil
import uuid
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from core.conversation import Kabinet
from core.i18n import Translator
from core.model import Payee
from core.readings import ReadingWindow
from handlers.telegram.channel import TelegramChannel, TelegramConfig
from storage.database import Database
from storage.exchange import import_folder
from storage.migrate import upgrade
from storage.models import Base
from scheduler.jobs import Planner
from storage.photos import FilePhotoArchive
from storage.scheduling import SqlOutbox
from tests.support.chat import ChatDriver
from tests.support.console import Talk
from tests.support.demo import BACKENDS, DEMO, FAST_PATH, KYIV, POSTGRES_ADMIN, Clock
from tests.support.drivers import CHANNELS, open_chat
from tests.support.logs import LogLines, leaked
from tests.support.smtp import mailer, smtp_server  # noqa: F401  (fixtures)
from tests.support.telegram import Webhook
from tests.support.viber import Rig, serve
from tests.telegram_api import TOKEN as TELEGRAM_TOKEN, TelegramChat, TelegramUser, bot_api, polling_delivery  # noqa: F401  (bot_api: a fixture)
from tests.viber_api import StandInViber

# Tests that run a messenger: every line they log is checked for the tokens (issue 16.2).
MESSENGER_TESTS = re.compile(r"test_(telegram|viber|faults_telegram|fuzz_webhooks|journeys)")


async def _admin(sql: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(POSTGRES_ADMIN, timeout=10)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


@pytest.fixture(scope="session")
def postgres_url():
    """A fresh PostgreSQL database for this run, migrated with Alembic, dropped at the end."""
    name = f"kabinet_test_{uuid.uuid4().hex[:10]}"
    try:
        asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # CI must fail, not skip, when PostgreSQL is missing
        pytest.fail(f"PostgreSQL is not reachable at {POSTGRES_ADMIN}: {exc!r}", pytrace=False)
    base = POSTGRES_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
    url = f"{base}/{name}"
    upgrade(url)
    yield url
    asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    """An SQLite file migrated once with Alembic; each test gets a copy."""
    path = tmp_path_factory.mktemp("template") / "kabinet.db"
    upgrade(f"sqlite+aiosqlite:///{path}")
    return path


@pytest.fixture(params=BACKENDS)
def database_url(request, tmp_path) -> str:
    if request.param == "sqlite":
        path = tmp_path / "kabinet.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite+aiosqlite:///{path}"
    if request.param == "postgresql":
        return request.getfixturevalue("postgres_url")
    raise ValueError(f"unknown backend {request.param}")


@pytest.fixture
def fast_path() -> bool:
    """Whether the database runs a turn's hot statements straight on asyncpg (storage/fast_path.py)."""
    return FAST_PATH


@pytest.fixture
async def database(database_url, fast_path):
    db = Database(database_url, fast_path=fast_path)
    if not db.is_sqlite:
        tables = ", ".join(f'"{table.name}"' for table in Base.metadata.sorted_tables)
        async with db.engine.begin() as connection:
            await connection.exec_driver_sql(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
    yield db
    await db.close()


@pytest.fixture
async def demo_database(database):
    async with database.session() as session:
        await import_folder(session, DEMO)
    return database


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def kabinet(demo_database, tmp_path, clock) -> Kabinet:
    return Kabinet(
        store=demo_database,
        photos=FilePhotoArchive(tmp_path / "photos"),
        translator=Translator("uk"),
        window=ReadingWindow.parse("2,3"),
        timezone=KYIV,
        clock=clock,
        payee=Payee("АТ «Демообленерго»", "UA213223130000026007233566001", "00000000"),
    )


@pytest.fixture
async def photo_reader():
    """The real meter reader, read through a RecognitionPool in a thread of this process (as `kabinet shell`
    does): `kabinet.reader = photo_reader`."""
    from core.recognition import RecognitionPool, default_reader

    async with RecognitionPool(0, make_reader=default_reader) as pool:
        yield pool


@pytest.fixture
def talk(kabinet, tmp_path) -> Talk:
    return Talk(kabinet, files=tmp_path / "out")


@pytest.fixture(params=CHANNELS)
async def consumer(request, kabinet, demo_database, tmp_path) -> ChatDriver:
    """A consumer who speaks Ukrainian, in each channel in turn: a journey written once runs through all three."""
    async with open_chat(request.param, kabinet, demo_database, tmp_path) as chat:
        yield chat


@pytest.fixture
def new_talk(kabinet, tmp_path):
    """Another chat with the same bot: `new_talk("c2", "uk")`."""
    def make(chat_id: str, language: str | None = "en") -> Talk:
        return Talk(kabinet, chat_id=chat_id, language=language, files=tmp_path / "out")
    return make


@pytest.fixture
async def admin(demo_database, kabinet, tmp_path):
    """The admin API (aiohttp's test client) over the demo data, its data directory under tmp_path."""
    from tests.support.admin import start

    client = await start(demo_database, kabinet, tmp_path / "data")
    yield client
    await client.close()


@pytest.fixture
def planner(demo_database, kabinet, clock) -> Planner:
    return Planner(SqlOutbox(demo_database), kabinet.window, KYIV, clock)


@pytest.fixture
async def polling(bot_api, kabinet):
    """Kabinet's Telegram channel in long-polling mode, against the stand-in Bot API server."""
    channel = TelegramChannel(TelegramConfig(TELEGRAM_TOKEN, bot_api.base), kabinet)
    channel.mount(web.Application())
    await channel.start()
    assert await channel.registration.task and await channel.menu.task  # both run in the background
    yield channel
    await channel.stop()


@pytest.fixture
def chat(bot_api, polling) -> TelegramChat:
    """A Telegram user's private chat with the bot in long-polling mode."""
    return TelegramChat(bot_api, TelegramUser(), polling_delivery(bot_api))


@pytest.fixture
async def webhook(bot_api, kabinet, demo_database):
    """Kabinet's Telegram channel on its webhook, against the stand-in Bot API server."""
    async with Webhook(bot_api, kabinet, demo_database) as hook:
        yield hook


@pytest.fixture
async def rig(kabinet, demo_database, tmp_path):
    """Kabinet's Viber channel on its webhook, against the stand-in Viber API."""
    viber = await StandInViber().start()
    channel, runner, base = await serve(kabinet, demo_database, tmp_path, viber)
    async with aiohttp.ClientSession() as http:
        yield Rig(viber, channel, http, base)
    await channel.stop()
    await runner.cleanup()
    await viber.stop()


@pytest.fixture
def logged():
    """Everything logged during the test, at every level, as it is logged: no redaction filter in the way."""
    handler = LogLines()
    root, sql = logging.getLogger(), logging.getLogger("sqlalchemy")
    levels = root.level, sql.level
    sql.setLevel(logging.WARNING)  # SQLAlchemy logs every statement once its logger is enabled for INFO
    root.setLevel(logging.DEBUG)
    root.addHandler(handler)
    yield handler
    root.removeHandler(handler)
    root.setLevel(levels[0])
    sql.setLevel(levels[1])


@pytest.fixture(autouse=True)
def no_token_in_messenger_logs(request):
    """The messenger tests' every log line is grepped for the tokens."""
    if not MESSENGER_TESTS.match(request.path.name):
        yield
        return
    lines = request.getfixturevalue("logged").lines
    yield
    found = leaked(lines)
    assert not found, f"a token in the log: {found[:3]}"
