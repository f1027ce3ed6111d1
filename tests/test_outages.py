"""/outages and the rule that matches an outage to an account."""
import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from core.model import Account, Outage
from core.outages import houses_include, outage_is_over, outage_touches
from storage.models import OutageRow
from storage.database import Database
from tests.support.console import linked
from tests.support.demo import BACKENDS, KYIV

NOW = datetime(2026, 11, 30, 10, 0, tzinfo=KYIV)


def account(**changes) -> Account:
    fields = dict(
        id=1, number="010000012345", eic=None, surname="Шевченко", full_name="Шевченко Т. Г.",
        address="м. Харків, вул. Сумська, 10", settlement="Харків", consumer_type="household",
        tariff_plan="Побутовий", balance=0, balance_on=NOW.date(), street="Сумська", house="10", grid_node="TP-101",
    )
    fields.update(changes)
    return Account(**fields)


def outage(**changes) -> Outage:
    fields = dict(id=1, code="PL-1", kind="planned", starts_at=NOW, ends_at=NOW + timedelta(hours=8),
                  reason="Заміна опор")
    fields.update(changes)
    return Outage(**fields)


# ----- matching


@pytest.mark.parametrize("house, listed", [
    ("3", True), ("15", True), ("1", True), ("17", True), ("19А", True), ("19а", True), ("19 А", True),
    ("19-а", True), ("19A", True),  # Latin A typed for the Cyrillic one
    ("3А", True),  # between 3 and 4: inside 1-15
    ("15А", False),  # after 15: outside 1-15
    ("16", False), ("17А", False), ("19", False), ("19Б", False), ("", False), (None, False),
])
def test_house_lists(house, listed):
    assert houses_include("1-15;17;19А", house) is listed


def test_house_with_a_building_number():
    assert houses_include("10/2;12", "10/2") and not houses_include("10/2;12", "10")
    assert houses_include("1-15", "буд. 7")


def test_address_match_needs_settlement_street_and_house():
    listed = outage(settlement="Харків", street="Сумська", houses="1-15;17;19А")
    assert outage_touches(listed, account())
    assert outage_touches(listed, account(settlement="м. Харків", street="вул. СУМСЬКА", house="10"))
    assert not outage_touches(listed, account(house="16"))
    assert not outage_touches(listed, account(street="Пушкінська"))
    assert not outage_touches(listed, account(settlement="Чугуїв"))
    assert not outage_touches(listed, account(street=None))


def test_a_street_without_houses_is_the_whole_street_and_a_settlement_alone_the_whole_settlement():
    assert outage_touches(outage(settlement="Харків", street="Сумська"), account(house="200"))
    assert outage_touches(outage(settlement="Харків"), account(street="Пушкінська"))
    assert not outage_touches(outage(settlement="Чугуїв"), account())


def test_grid_node_matches_whatever_the_address():
    by_node = outage(grid_nodes="TP-102; tp-101")
    assert outage_touches(by_node, account(settlement="Чугуїв"))
    assert not outage_touches(by_node, account(grid_node="TP-305"))
    assert not outage_touches(by_node, account(grid_node=None))


def test_an_outage_naming_no_place_touches_nobody():
    assert not outage_touches(outage(), account())


def test_an_outage_without_an_end_is_not_over():
    assert not outage_is_over(outage(ends_at=None), NOW + timedelta(days=3))
    assert outage_is_over(outage(), NOW + timedelta(hours=8))
    assert not outage_is_over(outage(), NOW + timedelta(hours=7))


# ----- the conversation


async def add_outage(database, **values) -> None:
    async with database.session() as session:
        session.add(OutageRow(**values))


async def test_outages_of_the_demo_address_with_start_end_and_reason(talk, clock):
    clock.set(2026, 11, 22, 8, 0)
    await linked(talk)
    text = await talk.say("/outages")
    assert "Account 010000012345" in text
    assert "Planned outage from 25.11.2026 09:00" in text
    assert "Expected end: 25.11.2026 17:00" in text
    assert "Планова заміна опор" in text
    assert "Emergency" not in text  # that one is at TP-102
    assert "Outages" in talk.buttons  # the main menu follows


async def test_emergency_outage_without_an_end_says_so(talk, clock):
    clock.set(2026, 11, 22, 8, 0)
    await linked(talk, "1705339110", "Дем'яненко")
    text = await talk.say("/outages")
    assert "Emergency outage since 22.11.2026 07:30" in text
    assert "Expected end: not known yet" in text
    assert "Пошкодження кабельної лінії" in text


async def test_past_outages_are_not_shown_and_none_is_said_plainly(talk, clock, demo_database):
    clock.set(2026, 11, 26, 8, 0)  # the planned one has ended
    await add_outage(demo_database, code="EM-OLD", kind="emergency", reason="Гроза",
                     starts_at=datetime(2026, 11, 20, 1, tzinfo=UTC), ends_at=datetime(2026, 11, 20, 5, tzinfo=UTC),
                     grid_nodes="TP-101")
    await linked(talk)
    assert "No current or upcoming outages at your address" in await talk.say("/outages")


async def test_outages_by_menu_button_and_in_ukrainian(new_talk, clock):
    clock.set(2026, 11, 22, 8, 0)
    talk = new_talk("u1", "uk")
    await talk.say("/link 010000012345 Шевченко")
    await talk.say("1")
    text = await talk.say("Відключення")
    assert "Планове відключення" in text and "25.11.2026 09:00" in text


async def test_outages_without_a_linked_account(talk):
    assert "No account is linked" in await talk.say("/outages")


async def test_the_chats_an_outage_reaches_for_the_reminders(talk, new_talk, kabinet):
    await linked(talk)  # Сумська 10 at TP-101
    await linked(talk, "1705339110", "Дем'яненко")  # TP-102: two touched accounts, one chat
    other = new_talk("c2")
    await linked(other, "020000054321", "Бондар")  # Чугуїв, TP-305
    async with kabinet.store.transaction() as tx:
        first = await tx.chat("console", "c1", "en")
        emergency = await tx.outage("EM-2026-0412")
        assert emergency.kind == "emergency" and emergency.ends_at is None
        assert await tx.chats_touched_by(emergency) == [first.id]
        assert await tx.chats_touched_by(outage(settlement="Чугуїв")) == [(await tx.chat("console", "c2", "en")).id]
        assert await tx.chats_touched_by(outage(settlement="Київ")) == []
        assert await tx.outage("NO-SUCH") is None


@pytest.mark.parametrize("backend", BACKENDS)
async def test_migration_0004_keys_the_accounts_already_there(backend, tmp_path, clock):
    from benchmarks.scratch import scratch_database
    from core.outages import node_key, place_key
    from storage.migrate import upgrade

    async with scratch_database(backend) as url:
        await asyncio.to_thread(upgrade, url, "0003")
        database = Database(url)
        try:
            async with database.engine.begin() as connection:
                await connection.exec_driver_sql(
                    "INSERT INTO accounts (number, surname, full_name, address, settlement, street, house, grid_node,"
                    " consumer_type, tariff_plan, balance, balance_on) VALUES"
                    " ('010000000001', 'Коваль', 'Коваль І.', 'адреса', 'м.  Чугуїв', 'вул. Миру', '5', 'ТП-101',"
                    "  'household', 'flat', 0, '2026-11-01'),"
                    " ('010000000002', 'Гринь', 'Гринь О.', 'адреса', 'Харків', 'вул. Сумська', '7', NULL,"
                    "  'household', 'flat', 0, '2026-11-01')")
            await database.engine.dispose()
            await asyncio.to_thread(upgrade, url)
            async with database.engine.connect() as connection:
                keys = (await connection.exec_driver_sql(
                    "SELECT settlement, grid_node, place_key, node_key FROM accounts ORDER BY number")).all()
            assert [(row[2], row[3]) for row in keys] == [
                (place_key(settlement), node_key(node) if node else None) for settlement, node, _, _ in keys]
            assert keys[0][2:] == ("чугуїв", "тп101")
        finally:
            await database.close()
