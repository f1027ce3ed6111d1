"""Issue 19.6: a chat with no account linked (its linking fails) may still write to technical support: only that
kind of appeal, a few a day; the operator sees the chat instead of an account and answers it there."""
from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
from datetime import UTC, datetime, timedelta

import pytest
from alembic import command
from sqlalchemy import insert, select

from benchmarks.scratch import scratch_database

from core.messages import Incoming
from storage.migrate import alembic_config, upgrade
from storage.models import AccountRow, AppealRow, ChatRow
from tests.support import admin as admin_api
from tests.support.chat import ChatDriver
from tests.support.console import Talk, linked
from tests.support.demo import BACKENDS, KYIV
from tests.support.schema import inspected, on_database
from tests.support.reminders import dispatcher_for

SUPPORT = "The bot isn't working right"
SUPPORT_UK = "Бот працює не так, як треба"


async def chat_number(database, channel: str, external_id: str) -> int:
    async with database.session() as session:
        return await session.scalar(select(ChatRow.id).where(ChatRow.channel == channel,
                                                             ChatRow.external_id == external_id))


async def support_appeal(talk: Talk, text: str = "Не можу підключити рахунок") -> str:
    await talk.say("/appeal")
    await talk.press(SUPPORT)
    return await talk.say(text)


async def stored(kabinet, appeal_id: int):
    async with kabinet.store.transaction() as tx:
        return await tx.appeal(appeal_id)


async def test_a_chat_whose_linking_fails_writes_to_support_and_reads_the_answer(consumer: ChatDriver, kabinet,
                                                                                demo_database, clock, tmp_path):
    hint = f"Поки рахунок не підключено, /appeal надсилає лише звернення «{SUPPORT_UK}»"
    assert hint in await consumer.say("/help")
    await consumer.say("/start")
    await consumer.press("Підключити особовий рахунок")
    await consumer.press("Погоджуюсь")
    await consumer.say("01 000 0012345")
    refused = await consumer.say("петренко")
    assert "не знайдено" in refused
    assert f"Не вдається підключити рахунок? Напишіть у контакт-центр через /appeal: звернення «{SUPPORT_UK}»" \
        in refused
    offered = await consumer.say("/appeal")
    assert f"Без нього можна надіслати лише звернення «{SUPPORT_UK}»" in offered
    assert SUPPORT_UK in consumer.buttons and "Незрозумілий рахунок за місяць" not in consumer.buttons
    assert "7 днів" in await consumer.press(SUPPORT_UK)
    sent = await consumer.say("Пишу прізвище як у рахунку, а бот не знаходить")
    assert f"Звернення №1 надіслано до контакт-центру: «{SUPPORT_UK}». Статус: Нове." in sent
    assert "особовий рахунок" not in sent and "До звернення додано повідомлень із цього чату: 8." in sent
    chat = await chat_number(demo_database, consumer.channel, consumer.external_id)

    client = await admin_api.start(demo_database, kabinet, tmp_path / "data")
    try:
        listed = await (await client.get("/admin/appeals", headers=admin_api.AUTH)).json()
        [appeal] = listed["items"]
        assert (appeal["account"], appeal["chat"], appeal["kind"]) == (
            None, {"channel": consumer.channel, "id": chat}, "bot")
        assert [turn["said"] for turn in appeal["turns"]][3:6] == [
            "[button] consent:yes", "01 000 0012345", "[hidden]"]
        assert "петренко" not in json.dumps(appeal, ensure_ascii=False)
        new = await (await client.get("/admin/appeals?status=new", headers=admin_api.AUTH)).json()
        answered = await (await client.get("/admin/appeals?status=answered", headers=admin_api.AUTH)).json()
        assert ([item["id"] for item in new["items"]], answered["items"]) == ([1], [])
        response = await client.patch("/admin/appeals/1", headers=admin_api.AUTH, json={
            "status": "answered", "answer": "Введіть прізвище без ініціалів, як у рахунку."})
        assert response.status == 200
        changed = await response.json()
        assert changed["notified"] == 1 and changed["appeal"]["chat"] == appeal["chat"]
        answered = await (await client.get("/admin/appeals?status=answered", headers=admin_api.AUTH)).json()
        assert [item["id"] for item in answered["items"]] == [1]
    finally:
        await client.close()

    await dispatcher_for(demo_database, kabinet, clock, consumer.sender, consumer.channel).run_once()
    told = await consumer.arrived()
    assert "Звернення №1: Надано відповідь. Введіть прізвище без ініціалів, як у рахунку." in told
    await consumer.say("/appeal")
    mine = await consumer.press("Мої звернення")
    assert SUPPORT_UK in mine and "Відповідь: Введіть прізвище без ініціалів" in mine


async def test_the_other_kinds_of_appeal_need_a_linked_account(talk, kabinet):
    await talk.say("/appeal Рахунок за листопад незрозумілий")
    assert talk.buttons == [SUPPORT, "My appeals", "Link account"]
    assert "Without one you can send only" in await talk.press(action="appealkind:invoice")  # an old button
    replies = await kabinet.handle(Incoming.typed("console", "c1", "Unclear invoice", "en"))
    assert "Without one you can send only" in replies[0].text
    replies = await kabinet.handle(Incoming.typed("console", "c1", "1", "en"))  # the first of what is offered
    assert "Appeal No. 1 is sent to the call centre: “The bot isn't working right”. Status: New." in replies[0].text
    appeal = await stored(kabinet, 1)
    assert (appeal.account_id, appeal.kind, appeal.text) == (None, "bot", "Рахунок за листопад незрозумілий")
    await linked(talk)
    assert "Until an account is linked" not in await talk.say("/help")
    await talk.say("/appeal")
    assert talk.buttons[0] == "Unclear invoice"  # linked: every kind again
    mine = await talk.press("My appeals")
    assert "No. 1" in mine  # the chat's appeal from before it linked the account is still its own


async def test_a_blocked_linking_points_to_support_too(kabinet, tmp_path):
    talk = Talk(dataclasses.replace(kabinet, link_attempts_per_hour=1), files=tmp_path / "out")
    await talk.say("/link")
    await talk.press("I agree")
    await talk.say("010000012345")
    refused = await talk.say("Петренко")
    assert "Try again after" in refused and refused.count("/appeal") == 1
    again = await talk.say("/link 010000012345 Шевченко")
    assert "Try again after" in again and f"the appeal “{SUPPORT}” can be sent without a linked account" in again


async def test_an_unlinked_chat_sends_at_most_three_a_day(talk, new_talk, kabinet, clock):
    first = clock()
    for n in range(1, 4):
        assert f"Appeal No. {n} is sent" in await support_appeal(talk)
        clock.now += timedelta(hours=1)
    await talk.say("/appeal")
    refused = await talk.press(SUPPORT)
    next_at = (first + timedelta(days=1)).astimezone(KYIV).strftime("%d.%m.%Y %H:%M")
    assert refused.startswith(f"Without a linked personal account a chat can send at most 3 appeals a day. "
                              f"You can send the next one after {next_at}.")
    assert "is sent" not in await talk.say("Ще одне")  # nothing in progress: the text is no appeal
    assert "Appeal No. 4 is sent" in await support_appeal(new_talk("c2"))  # each chat counts its own
    clock.now = first.astimezone(KYIV) + timedelta(days=1, minutes=1)
    assert "Appeal No. 5 is sent" in await support_appeal(talk)
    assert "at most 3" in await talk.say("/appeal") + await talk.press(SUPPORT)
    await linked(talk)
    assert "Appeal No. 6 is sent" in await support_appeal(talk)  # the account's: not counted against the chat


async def test_the_limit_is_checked_again_when_the_text_comes(talk, kabinet, demo_database, clock):
    await talk.say("/appeal")
    await talk.press(SUPPORT)  # asked for the text; meanwhile the chat's day fills up
    chat = await chat_number(demo_database, "console", "c1")
    async with kabinet.store.transaction() as tx:
        for n in range(3):
            await tx.add_appeal(None, chat, "bot", f"раніше {n}", clock())
    assert "at most 3 appeals a day" in await talk.say("Не працює")
    assert await stored(kabinet, 4) is None


async def test_a_group_chat_cannot_send_one_without_an_account(kabinet):
    group = Incoming("telegram", "-100", text="/appeal Бот мовчить", language="en", private=False)
    [reply] = await kabinet.handle(group)
    assert "only in a private chat" in reply.text
    assert await stored(kabinet, 1) is None


async def test_forget_erases_the_appeals_sent_without_an_account(talk, kabinet, admin_client):
    await support_appeal(talk)
    await linked(talk)
    await support_appeal(talk, "А тепер інше")
    await talk.say("/forget")
    await talk.press("Yes, erase")
    assert await stored(kabinet, 1) is None  # it was the chat's alone
    kept = await stored(kabinet, 2)
    assert kept is not None and (kept.chat_id, kept.turns) == (None, ())  # the account's stays, as before
    listed = await (await admin_client.get("/admin/appeals", headers=admin_api.AUTH)).json()
    assert [(item["id"], item["account"], item["chat"]) for item in listed["items"]] == [(2, "010000012345", None)]


async def test_the_admin_listing_pages_through_appeals_with_and_without_an_account(kabinet, demo_database, clock,
                                                                                 admin_client, talk, new_talk, caplog):
    await linked(talk)
    await support_appeal(talk)
    await support_appeal(new_talk("c2"))
    await support_appeal(talk)
    chat = await chat_number(demo_database, "console", "c2")
    first = await (await admin_client.get("/admin/appeals?limit=2", headers=admin_api.AUTH)).json()
    rest = await (await admin_client.get(f"/admin/appeals?limit=2&cursor={first['next_cursor']}",
                                         headers=admin_api.AUTH)).json()
    assert [(item["account"], item["chat"]) for item in first["items"] + rest["items"]] == [
        ("010000012345", None), (None, {"channel": "console", "id": chat}), ("010000012345", None)]
    assert rest["next_cursor"] is None
    got = await (await admin_client.get("/admin/appeals/2", headers=admin_api.AUTH)).json()
    assert got == first["items"][1]
    with caplog.at_level(logging.INFO, logger="bot.admin"):
        closed = await admin_client.patch("/admin/appeals/2", headers=admin_api.AUTH, json={"status": "closed"})
    assert closed.status == 200 and (await closed.json())["appeal"]["status"] == "closed"
    assert f"appeal 2 of console chat {chat}: -> closed" in caplog.text  # who wrote it, with no account to name


@pytest.fixture
async def admin_client(demo_database, kabinet, tmp_path):
    client = await admin_api.start(demo_database, kabinet, tmp_path / "data")
    yield client
    await client.close()


@pytest.mark.parametrize("backend", BACKENDS)
async def test_migration_0017_goes_down_and_up(backend):
    async def account_optional(url: str) -> bool:
        columns = await inspected(url, lambda inspector: inspector.get_columns("appeals"))
        return next(column["nullable"] for column in columns if column["name"] == "account_id")

    async def appeal_texts(url: str) -> list[str]:
        async def texts(connection) -> list[str]:
            return list((await connection.execute(select(AppealRow.text).order_by(AppealRow.id))).scalars())
        return await on_database(url, texts)

    async def add_appeals(connection) -> None:
        at = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
        account = (await connection.execute(insert(AccountRow).values(
            number="010000012345", surname="Шевченко", full_name="Шевченко Т. Г.", address="Київ",
            settlement="Київ", consumer_type="household", tariff_plan="standard", balance=0,
            balance_on=at.date()).returning(AccountRow.id))).scalar_one()
        await connection.execute(insert(AppealRow), [
            {"account_id": account_id, "chat_id": None, "kind": "bot", "text": words, "status": "new",
             "created_at": at, "updated_at": at} for account_id, words in ((account, "з рахунком"),
                                                                            (None, "без рахунку"))])

    async with scratch_database(backend) as url:
        await asyncio.to_thread(upgrade, url)
        assert await account_optional(url)
        await on_database(url, add_appeals)
        await asyncio.to_thread(command.downgrade, alembic_config(url), "0015")
        assert not await account_optional(url)
        assert await appeal_texts(url) == ["з рахунком"]  # one with no account has no place there
        await asyncio.to_thread(upgrade, url)
        assert await account_optional(url) and await appeal_texts(url) == ["з рахунком"]
