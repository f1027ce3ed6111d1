"""Shared fixtures: every database test runs on SQLite and on the machine's PostgreSQL.

KABINET_TEST_BACKENDS=sqlite (or postgresql) narrows a local run; CI runs both, and a PostgreSQL that
cannot be reached is an error, never a skip. KABINET_DATABASE_FAST_PATH=off (the setting `kabinet run`
reads) runs the PostgreSQL half with every statement through SQLAlchemy, none straight on asyncpg; the
tests of a turn's statements run both ways in every run (BOTH_PATHS).
"""
from __future__ import annotations

import asyncio
import io
import logging
import os
import re
import shutil
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from pydantic import TypeAdapter

from core.conversation import Kabinet
from core.i18n import Translator
from core.model import Payee
from core.readings import ReadingWindow
from handlers.console.channel import ConsoleChannel
from storage.database import Database
from storage.exchange import import_folder
from storage.migrate import upgrade
from storage.models import Base
from storage.photos import FilePhotoArchive

DEMO = Path(__file__).resolve().parent.parent / "bot" / "demo"
# Tests that run a messenger: every line they log is checked for the tokens (issue 16.2).
MESSENGER_TESTS = re.compile(r"test_(telegram|viber|faults_telegram|fuzz_webhooks)")
KYIV = ZoneInfo("Europe/Kyiv")
BACKENDS = [name.strip() for name in os.environ.get("KABINET_TEST_BACKENDS", "sqlite,postgresql").split(",")]
POSTGRES_ADMIN = os.environ.get("KABINET_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")
# Read as bot.settings reads it (pydantic's bool: on/off, true/false, 1/0, yes/no).
FAST_PATH = TypeAdapter(bool).validate_python(os.environ.get("KABINET_DATABASE_FAST_PATH") or True)
# For the tests of a turn's statements: SQLite once (it has no fast path), PostgreSQL with it and without.
BOTH_PATHS = pytest.mark.parametrize(("database_url", "fast_path"), [
    pytest.param(backend, on, id=backend if backend == "sqlite" else f"{backend}-{'fast' if on else 'sqlalchemy'}")
    for backend in BACKENDS for on in ((FAST_PATH,) if backend == "sqlite" else (True, False))
], indirect=["database_url"])


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


@dataclass
class Clock:
    """A clock the test moves; starts on 2026-11-30 10:00 in Kyiv, inside the default reading window."""

    now: datetime = field(default_factory=lambda: datetime(2026, 11, 30, 10, 0, tzinfo=KYIV))

    def __call__(self) -> datetime:
        return self.now.astimezone(UTC)

    def set(self, *args: int) -> None:
        self.now = datetime(*args, tzinfo=KYIV)


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


class Talk:
    """A conversation through the console channel, read like one: `await talk("/balance")` → the bot's text."""

    def __init__(self, kabinet: Kabinet, chat_id: str = "c1", language: str | None = "en", files: Path | None = None):
        self.out = io.StringIO()
        self.channel = ConsoleChannel(kabinet, chat_id=chat_id, language=language, out=self.out,
                                      files_dir=files or Path("var/test-out"))
        self.replies = []

    async def __call__(self, line: str) -> str:
        self.replies = await self.channel.send(line)
        return self.text

    async def press(self, action: str) -> str:
        """A button's action as a messenger delivers it, e.g. from a message sent before a restart."""
        from core.messages import Incoming

        self.replies = await self.channel.kabinet.handle(
            Incoming.pressed("console", self.channel.chat_id, action, self.channel.language)
        )
        return self.text

    @property
    def text(self) -> str:
        # Numbers are grouped with no-break spaces; the tests read them as plain spaces.
        return "\n".join(reply.text for reply in self.replies).replace("\xa0", " ")

    @property
    def buttons(self) -> list[str]:
        return [button.label for button in self.channel.buttons]

    async def photo(self, path: Path) -> str:
        return await self(f"/photo {path}")


@pytest.fixture
def talk(kabinet, tmp_path) -> Talk:
    return Talk(kabinet, files=tmp_path / "out")


@pytest.fixture
def new_talk(kabinet, tmp_path):
    """Another chat with the same bot: `new_talk("c2", "uk")`."""
    def make(chat_id: str, language: str | None = "en") -> Talk:
        return Talk(kabinet, chat_id=chat_id, language=language, files=tmp_path / "out")
    return make


async def linked(talk: Talk, account: str = "010000012345", surname: str = "Шевченко") -> str:
    """Consent (when asked) and link, the way a consumer does it; returns the bot's last answer."""
    text = await talk(f"/link {account} {surname}")
    if talk.channel.buttons and talk.channel.buttons[0].action == "consent:yes":
        text = await talk("1")
    assert "is linked" in text or "is already linked" in text, text
    return text


class LogLines(logging.Handler):
    """Every record, and every line as `kabinet run` would write it (with the traceback)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        self.records: list[logging.LogRecord] = []
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)
        self.lines.append(self.format(record))

    @property
    def tracebacks(self) -> list[str]:
        return [line for record, line in zip(self.records, self.lines) if record.exc_info or record.exc_text]


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


def secrets_in_tests() -> dict[str, str]:
    """The tokens the tests configure, by name; the Telegram token by its secret part (after the bot id)."""
    from tests.telegram_api import TOKEN as TELEGRAM_TOKEN
    from tests.test_admin_support import TOKEN as ADMIN_TOKEN
    from tests.viber_api import TOKEN as VIBER_TOKEN

    return {"telegram": TELEGRAM_TOKEN.partition(":")[2], "viber": VIBER_TOKEN, "admin": ADMIN_TOKEN}


def leaked(lines: list[str]) -> list[tuple[str, str]]:
    return [(name, line) for line in lines for name, secret in secrets_in_tests().items() if secret in line]


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
