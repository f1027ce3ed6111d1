import asyncio
import json
import subprocess
import sys
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import create_async_engine

from bot.settings import SettingsError, load_settings
from core.readings import ReadingWindow
from storage.models import Base
from tests.support.schema import on_database
from tests.support.demo import BACKENDS

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("variable, value, named", [
    ("KABINET_HTTP_PORT", "eighty", "KABINET_HTTP_PORT"),
    ("KABINET_TIMEZONE", "Mars/Olympus", "KABINET_TIMEZONE"),
    ("KABINET_READING_WINDOW", "sometimes", "KABINET_READING_WINDOW"),
    ("KABINET_DEFAULT_LANGUAGE", "de", "KABINET_DEFAULT_LANGUAGE"),
    ("KABINET_DATABASE_URL", "mysql://x", "KABINET_DATABASE_URL"),
    ("KABINET_RECOGNIZER", "tesseract", "KABINET_RECOGNIZER"),
    ("KABINET_DATABASE_POOL", "0", "KABINET_DATABASE_POOL"),
    ("KABINET_DATABASE_FAST_PATH", "sometimes", "KABINET_DATABASE_FAST_PATH"),
    ("KABINET_CHAT_UPDATES_PER_MINUTE", "0", "KABINET_CHAT_UPDATES_PER_MINUTE"),
    ("KABINET_ADMIN_TOKEN", "x" * 31, "KABINET_ADMIN_TOKEN: .*at least 32 characters"),
])
def test_a_bad_setting_is_named(monkeypatch, variable, value, named):
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError, match=named):
        load_settings()


def test_a_short_admin_token_is_not_repeated_in_the_refusal_and_a_long_one_is_taken(monkeypatch):
    monkeypatch.setenv("KABINET_ADMIN_TOKEN", "short-admin-secret")
    with pytest.raises(SettingsError) as refused:
        load_settings()
    assert "short-admin-secret" not in str(refused.value)
    monkeypatch.setenv("KABINET_ADMIN_TOKEN", "a" * 32)
    assert load_settings().admin_token.get_secret_value() == "a" * 32


def test_settings_from_environment(monkeypatch):
    monkeypatch.setenv("KABINET_DATABASE_URL", "postgresql://kabinet@db/kabinet")
    monkeypatch.setenv("KABINET_READING_WINDOW", "always")
    monkeypatch.setenv("KABINET_TELEGRAM_TOKEN", "123:abc")
    settings = load_settings()
    assert settings.database_url == "postgresql+asyncpg://kabinet@db/kabinet"
    assert settings.window.always
    assert "123:abc" not in repr(settings)


async def test_the_chat_limit_is_shared_through_redis_when_there_is_one(monkeypatch):
    from bot.app import chat_limit
    from scheduler.chat_limit import LocalChatLimit, RedisChatLimit

    assert load_settings().chat_updates_per_minute == 20
    monkeypatch.setenv("KABINET_CHAT_UPDATES_PER_MINUTE", "7")
    local = chat_limit(load_settings())
    assert isinstance(local, LocalChatLimit) and local.per_minute == 7
    monkeypatch.setenv("KABINET_REDIS_URL", "redis://127.0.0.1:6379/15")
    shared = chat_limit(load_settings())
    assert isinstance(shared, RedisChatLimit) and shared.per_minute == 7
    await shared.close()


def test_reading_window_default_last_two_and_first_three_days():
    from datetime import date

    window = ReadingWindow.parse("2,3")
    assert [d for d in range(1, 31) if window.is_open(date(2026, 11, d))] == [1, 2, 3, 29, 30]
    assert [d for d in range(1, 29) if window.is_open(date(2027, 2, d))] == [1, 2, 3, 27, 28]
    assert window.next_opening(date(2026, 11, 15)) == date(2026, 11, 29)
    assert window.next_opening(date(2026, 12, 31)) == date(2027, 1, 30)
    assert window.closing(date(2026, 11, 29)) == date(2026, 12, 3)


async def test_migrations_match_the_models(database):
    def diff(connection):
        return compare_metadata(MigrationContext.configure(connection), Base.metadata)

    async with database.engine.connect() as connection:
        assert await connection.run_sync(diff) == []


async def test_the_pool_setting_is_the_most_connections_a_process_opens(database_url, monkeypatch):
    from bot.app import open_database

    monkeypatch.setenv("KABINET_DATABASE_URL", database_url)
    monkeypatch.setenv("KABINET_DATABASE_POOL", "3")
    database = await open_database(load_settings())
    try:
        async with database.transaction() as tx:  # the setting leaves SQLite (one writer) as it was
            chat, _ = await tx.chat_and_state("test", "pool", "en")
        assert chat.id is not None
        if database_url.startswith("postgresql"):
            pool = database.engine.pool
            assert (pool.size(), pool._max_overflow) == (3, 0)  # never a connection opened per turn
    finally:
        await database.close()


def test_the_newest_revision_read_from_the_files_is_alembics_head():
    from alembic.script import ScriptDirectory

    from storage.migrate import alembic_config, newest_revision

    assert newest_revision() == ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


@pytest.mark.parametrize("backend", BACKENDS)
async def test_a_database_behind_the_newest_schema_is_upgraded_when_opened(backend, monkeypatch):
    from benchmarks.scratch import scratch_database
    from bot.app import open_database
    from storage.migrate import newest_revision, schema_revisions, upgrade

    async with scratch_database(backend) as url:
        await asyncio.to_thread(upgrade, url, "0017")
        assert await schema_revisions(url) == {"0017"}
        monkeypatch.setenv("KABINET_DATABASE_URL", url)
        database = await open_database(load_settings())
        await database.close()
        assert await schema_revisions(url) == {newest_revision()}


# In a fresh interpreter (this one imported Alembic for the tests): open the database given, then say whether
# Alembic was imported.
OPEN_DATABASE = """
import asyncio, json, sys
from bot.app import open_database
from bot.settings import load_settings

async def opened():
    await (await open_database(load_settings())).close()

asyncio.run(opened())
print(json.dumps("alembic" in sys.modules))
"""


async def test_a_database_at_the_newest_schema_is_opened_without_importing_alembic(database_url, monkeypatch):
    monkeypatch.setenv("KABINET_DATABASE_URL", database_url)
    done = await asyncio.to_thread(subprocess.run, [sys.executable, "-c", OPEN_DATABASE], cwd=ROOT,
                                   capture_output=True, text=True, check=True)
    assert json.loads(done.stdout) is False, "Alembic (11 MB resident) imported by a process that upgraded nothing"


@pytest.mark.parametrize("backend", BACKENDS)
async def test_migration_0006_down_and_up_keeps_the_readings(backend):
    from benchmarks.scratch import scratch_database
    from storage.migrate import alembic_config, upgrade

    async def tables_and_readings(url: str) -> tuple[bool, list]:
        engine = create_async_engine(url)
        try:
            async with engine.connect() as connection:
                names = await connection.run_sync(lambda sync: inspect(sync).get_table_names())
                readings = (await connection.exec_driver_sql("SELECT zone, value FROM readings")).all()
        finally:
            await engine.dispose()
        return "replaced_readings" in names, [tuple(row) for row in readings]

    async with scratch_database(backend) as url:
        await asyncio.to_thread(upgrade, url)
        engine = create_async_engine(url)
        try:
            async with engine.begin() as connection:
                for sql in (
                    "INSERT INTO accounts (id, number, surname, full_name, address, settlement, consumer_type,"
                    " tariff_plan, balance, balance_on) VALUES (1, '010000000001', 'Коваль', 'Коваль І.', 'адреса',"
                    " 'Харків', 'household', 'flat', 0, '2026-11-01')",
                    "INSERT INTO meters (id, account_id, serial, type, digits, zones, k_factor, installed_on)"
                    " VALUES (1, 1, 'M1', 'GAMA', 6, 1, 1, '2020-01-01')",
                    "INSERT INTO readings (id, meter_id, zone, taken_on, value, source, submitted_at)"
                    " VALUES (1, 1, 1, '2026-11-30', 12510, 'console', '2026-11-30 09:00:00')",
                    "INSERT INTO replaced_readings (reading_id, value, submitted_at, replaced_at)"
                    " VALUES (1, 12500, '2026-11-30 08:14:00', '2026-11-30 09:00:00')",
                ):
                    await connection.exec_driver_sql(sql)
        finally:
            await engine.dispose()
        await asyncio.to_thread(command.downgrade, alembic_config(url), "0005")
        assert await tables_and_readings(url) == (False, [(1, 12510)])
        await asyncio.to_thread(upgrade, url)
        assert await tables_and_readings(url) == (True, [(1, 12510)])


@pytest.mark.parametrize("backend", BACKENDS)
async def test_migration_0013_down_keeps_payments_that_differ_only_by_their_reference(backend):
    from benchmarks.scratch import scratch_database
    from storage.migrate import alembic_config, upgrade

    async def purposes(connection) -> list:
        return [purpose for purpose, in await connection.exec_driver_sql("SELECT purpose FROM payments ORDER BY id")]

    async def payments(url: str) -> list:
        return await on_database(url, purposes)

    async def add_payments(connection) -> None:
        for sql in (
            "INSERT INTO accounts (id, number, surname, full_name, address, settlement, consumer_type,"
            " tariff_plan, balance, balance_on, contract_number, contract_date) VALUES (1, '010000000001',"
            " 'Коваль', 'Коваль І.', 'адреса', 'Харків', 'household', 'flat', 0, '2026-11-01', 'Д-1',"
            " '2015-02-10')",
            "INSERT INTO payments (account_id, paid_on, amount, purpose, reference)"
            " VALUES (1, '2026-11-30', 658.40, 'Оплата', '')",
            "INSERT INTO payments (account_id, paid_on, amount, purpose, reference)"
            " VALUES (1, '2026-11-30', 658.40, 'Оплата', '2500001')",
        ):
            await connection.exec_driver_sql(sql)

    async with scratch_database(backend) as url:
        await asyncio.to_thread(upgrade, url)
        await on_database(url, add_payments)
        await asyncio.to_thread(command.downgrade, alembic_config(url), "0011")
        assert await payments(url) == ["Оплата", "Оплата 2500001"]
        await asyncio.to_thread(upgrade, url)
        assert await payments(url) == ["Оплата", "Оплата 2500001"]
