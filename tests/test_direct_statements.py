"""The statements of every turn run straight on asyncpg on PostgreSQL (unless the fast path is off): the same
rows as through SQLAlchemy."""
from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import event

from core.model import ConversationState
from storage.fast_path import prepared
from storage.statements import (
    ACCOUNT_SUMMARIES, CHAT_AND_STATE, FIRST_DELIVERY, LAST_READINGS, LINKED_ACCOUNTS, LINKED_METERS, METERS_OF,
)
from storage.repositories import SqlTransaction
from tests.support.billing import NOV_30, OCT_31, link_all
from tests.support.demo import BACKENDS, BOTH_PATHS


def through_sqlalchemy(database):
    """Counts the statements SQLAlchemy's execution runs."""
    seen: list[str] = []
    event.listen(database.engine.sync_engine, "before_cursor_execute", lambda *args: seen.append(args[2]))
    return seen


async def test_each_view_reads_the_same_rows_both_ways(demo_database, tmp_path):
    chat_id = await link_all(demo_database, tmp_path)
    async with demo_database.transaction() as tx:
        chat, _ = await tx.chat_and_state("test", "c1", "en")
        await tx.save_state(chat.id, ConversationState("reading_value", {"meter": 7, "note": "é"}))
        meter_id = (await tx.linked_meters(chat_id, NOV_30))[0].meters[0].id
        for statement, parameters in [
            (CHAT_AND_STATE, {"channel": "test", "external_id": "c1"}),
            (LINKED_ACCOUNTS, {"chat_id": chat_id}),
            (LINKED_METERS[tx.dialect], {"chat_id": chat_id, "on": NOV_30}),
            (ACCOUNT_SUMMARIES[tx.dialect], {"chat_id": chat_id, "on": OCT_31}),
            (LAST_READINGS, {"meter_id": meter_id, "before": NOV_30}),
        ]:
            ours = [tuple(row) for row in await tx._run(statement, parameters)]
            theirs = [tuple(row) for row in await (await tx.connection()).execute(statement, parameters)]
            assert ours == theirs and ours, statement
        row = (await tx._run(CHAT_AND_STATE, {"channel": "test", "external_id": "c1"})).one()
        assert row.data == {"meter": 7, "note": "é"} and row._mapping["step"] == "reading_value"


async def test_the_lateral_views_of_postgresql_read_what_sqlites_form_reads(demo_database, tmp_path, database_url):
    if not database_url.startswith("postgresql"):  # SQLite has no LATERAL; PostgreSQL runs both forms
        return
    chat_id = await link_all(demo_database, tmp_path)
    async with demo_database.transaction() as tx:
        for views in (LINKED_METERS, ACCOUNT_SUMMARIES):
            for on in (NOV_30, OCT_31, date(2020, 1, 1)):
                lateral, scalar = [[tuple(row) for row in await (await tx.connection()).execute(
                    views[form], {"chat_id": chat_id, "on": on})] for form in ("postgresql", "sqlite")]
                assert lateral == scalar and lateral, on


@BOTH_PATHS
async def test_the_turn_statements_skip_sqlalchemy_with_the_fast_path_only(demo_database, database_url, fast_path):
    seen = through_sqlalchemy(demo_database)
    at = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
    async with demo_database.transaction() as tx:
        assert await tx.first_delivery("test", "u1", at)
        assert not await tx.first_delivery("test", "u1", at)  # the row count of ON CONFLICT DO NOTHING
        chat, state = await tx.chat_and_state("test", "new-chat", "uk")  # creates the chat: three statements
        assert (chat.external_id, chat.language, state) == ("new-chat", "uk", None)
        await tx.linked_meters(chat.id, date(2026, 11, 30))
    if database_url.startswith("postgresql") and fast_path:
        assert seen == []
    else:
        assert len(seen) == 6


@BOTH_PATHS
async def test_what_sqlalchemy_must_fill_in_goes_through_it(demo_database, database_url, fast_path):
    if not (database_url.startswith("postgresql") and fast_path):  # SQLite has no direct path, nor has it off
        async with demo_database.transaction() as tx:
            await tx.linked_accounts(1)
            assert tx._driver is None
        return
    dialect = demo_database.engine.dialect
    assert prepared(METERS_OF, {"account_ids": [1]}, dialect) is None  # an expanding IN
    assert prepared(LAST_READINGS, {"meter_id": 1}, dialect) is None  # a parameter left out
    ready = prepared(FIRST_DELIVERY["postgresql"], {"channel": "t", "key": "k", "seen_at": None}, dialect)
    assert ready is not None and ready.sql.startswith("INSERT INTO deliveries")


@BOTH_PATHS
async def test_a_naive_timestamp_is_refused_on_the_direct_path_too(demo_database):
    with pytest.raises(Exception, match="naive datetime"):
        async with demo_database.transaction() as tx:
            await tx.first_delivery("test", "u2", datetime(2026, 11, 30, 8, 0))
    async with demo_database.transaction() as tx:
        assert await tx.first_delivery("test", "u2", datetime(2026, 11, 30, 8, 0, tzinfo=UTC))


@pytest.mark.skipif("postgresql" not in BACKENDS, reason="SQLite has no fast path to switch off")
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_the_setting_switches_the_fast_path_off_for_every_transaction(database_url, monkeypatch):
    from bot.app import open_database
    from bot.settings import load_settings

    monkeypatch.setenv("KABINET_DATABASE_URL", database_url)
    at = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
    for value, direct in (("off", False), ("on", True)):
        monkeypatch.setenv("KABINET_DATABASE_FAST_PATH", value)
        database = await open_database(load_settings())
        try:
            async with database.transaction() as tx:  # a consumer's turn
                await tx.first_delivery("test", f"setting-{value}", at)
                assert (tx._driver is not None) is direct, value
            async with database.session() as session:  # an operator's or a job's
                tx = SqlTransaction(session)
                await tx.save_state(1, None)
                assert (tx._driver is not None) is direct, value
        finally:
            await database.close()
