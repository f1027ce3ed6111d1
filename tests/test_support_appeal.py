"""Issue 19.6: "the bot does not work as expected" reaches the operator with the chat's recent turns attached,
never a secret, a token, a photo's bytes or another chat's words."""
from __future__ import annotations

import asyncio
import dataclasses
import json
from datetime import UTC, datetime, timedelta

import pytest
from alembic import command
from sqlalchemy import event, func, insert, inspect, select
from sqlalchemy.ext.asyncio import create_async_engine

from benchmarks.scratch import scratch_database

from core.flows import STANDARD_FLOWS
from core.flows.registry import Command, Flow, Registry
from core.messages import Incoming, Reply
from core.model import RecentTurn
from core.recent_turns import HIDDEN, kept_turn
from scheduler.jobs import Planner, Retention
from storage.models import ChatRow, RecentTurnRow
from storage.migrate import alembic_config, upgrade
from storage.scheduling import SqlOutbox
from tests.support import admin as admin_api
from tests.support.chat import ChatDriver
from tests.support.console import Talk, linked
from tests.support.demo import BACKENDS, BOTH_PATHS, KYIV
from tests.support.pictures import phone_photo
from tests.telegram_api import TOKEN as TELEGRAM_TOKEN
from tests.viber_api import TOKEN as VIBER_TOKEN

SUPPORT = "The bot isn't working right"


async def attached(kabinet, appeal_id: int = 1) -> list[tuple[str, str]]:
    """(what the consumer sent, what the bot answered) of each turn attached to the appeal, oldest first."""
    async with kabinet.store.transaction() as tx:
        appeal = await tx.appeal(appeal_id)
    assert appeal is not None
    return [(turn.said, turn.answered) for turn in appeal.turns]


async def support_appeal(talk: Talk, text: str = "Кнопки не натискаються") -> str:
    await talk.say("/appeal")
    assert "7 days" in await talk.press(SUPPORT)  # the consumer is told what goes with it before writing
    return await talk.say(text)


async def kept_rows(database, chat_id: int | None = None) -> int:
    async with database.session() as session:
        query = select(func.count()).select_from(RecentTurnRow)
        if chat_id is not None:
            query = query.where(RecentTurnRow.chat_id == chat_id)
        return await session.scalar(query)


async def test_a_bot_appeal_reaches_the_operator_with_the_turns_of_the_chat(consumer: ChatDriver, kabinet,
                                                                            demo_database, tmp_path):
    await consumer.say("/start")
    await consumer.press("Підключити особовий рахунок")
    await consumer.press("Погоджуюсь")
    await consumer.say("01 000 0012345")
    assert "підключено" in await consumer.say("шевченко")
    await consumer.photo(phone_photo())
    await consumer.say("/cancel")
    await consumer.say("/appeal")
    note = await consumer.press("Бот працює не так, як треба")
    assert "До звернення додамо ваші останні повідомлення в цьому чаті й відповіді бота за 7 днів" in note
    sent = await consumer.say("Фото лічильника не розпізнається")
    assert "Звернення №1 надіслано до контакт-центру: «Бот працює не так, як треба»" in sent
    assert "До звернення додано повідомлень із цього чату: 9." in sent

    client = await admin_api.start(demo_database, kabinet, tmp_path / "data")
    try:
        response = await client.get("/admin/appeals/1", headers=admin_api.AUTH)
        assert response.status == 200
        appeal = await response.json()
        listed = await (await client.get("/admin/appeals", headers=admin_api.AUTH)).json()
    finally:
        await client.close()
    assert appeal["kind"] == "bot" and listed["items"] == [appeal]
    turns = appeal["turns"]
    assert [turn["said"] for turn in turns if turn["kind"] == "text"] == [
        "/start", "01 000 0012345", HIDDEN, "/cancel", "/appeal"]
    assert [turn["kind"] for turn in turns].count("photo") == 1
    [photo] = [turn for turn in turns if turn["kind"] == "photo"]
    assert photo["said"] == "[photo]" and "Фото збережено" in photo["answered"]
    surname = turns[4]
    assert surname["said"] == HIDDEN and "Особовий рахунок 010000012345 підключено" in surname["answered"]
    assert "[Баланс]" in surname["answered"]  # the buttons the bot offered
    ids = [turn["update_id"] for turn in turns]
    if consumer.channel == "console":
        assert ids == [None] * 9
    else:
        assert None not in ids and len(set(ids)) == 9
    assert all(datetime.fromisoformat(turn["at"]) for turn in turns)
    everything = json.dumps(appeal, ensure_ascii=False)
    assert "шевченко" not in everything.casefold()
    for token in (TELEGRAM_TOKEN, VIBER_TOKEN, admin_api.TOKEN):
        assert token not in everything


async def test_a_surname_typed_anywhere_while_linking_is_hidden(talk, kabinet):
    await talk.say("/link")
    await talk.press("I agree")
    assert "does not look like" in await talk.say("010000012345 Шевченко")  # the number and the name at once
    await talk.say("010000012345")
    assert "/Шевченко" in await talk.say("/Шевченко")  # the bot repeats an unknown command...
    assert "is linked" in await talk.say("Шевченко")
    await talk.say("/link 010000012345 Шевченко")
    await support_appeal(talk)
    turns = await attached(kabinet)
    assert [said for said, _ in turns] == [
        "/link", "[button] consent:yes", f"010000012345 {HIDDEN}", "010000012345", HIDDEN, HIDDEN,
        f"/link 010000012345 {HIDDEN}", "/appeal", "[button] appealkind:bot"]
    assert HIDDEN in turns[4][1]  # ...and its answer is kept without it
    assert not any("шевченко" in (said + answered).casefold() for said, answered in turns)


def test_a_mailed_code_typed_back_is_hidden_with_its_echo():
    registry = Registry(STANDARD_FLOWS)
    at = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
    turn = kept_turn(registry, Incoming.typed("telegram", "7", " 482913 "), "email-code",
                     [Reply("Code 482913 is wrong; 2 tries left.")], at)
    assert (turn.said, turn.answered) == (HIDDEN, f"Code {HIDDEN} is wrong; 2 tries left.")
    address = kept_turn(registry, Incoming.typed("telegram", "7", "olena@example.com"), "email-address", [], at)
    assert address.said == "olena@example.com"  # an address is no secret: only a step that asks for one hides


async def test_another_chats_turns_are_never_attached(talk, new_talk, kabinet):
    other = new_talk("c2", "en")
    await linked(other)  # the same account, linked from another chat
    await other.say("слова іншого чату")
    await linked(talk)
    await support_appeal(talk)
    await other.say("ще слова іншого чату")
    turns = await attached(kabinet)
    assert [said for said, _ in turns] == [f"/link 010000012345 {HIDDEN}", "[button] consent:yes", "/appeal",
                                           "[button] appealkind:bot"]
    assert not any("іншого чату" in said + answered for said, answered in turns)


@BOTH_PATHS
async def test_a_turn_is_kept_in_one_statement_past_sqlalchemy_on_the_fast_path(demo_database, database_url,
                                                                               fast_path):
    at = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
    async with demo_database.transaction() as tx:
        chat, _ = await tx.chat_and_state("test", "c9", "uk")
    seen: list[str] = []
    event.listen(demo_database.engine.sync_engine, "before_cursor_execute", lambda *args: seen.append(args[2]))
    async with demo_database.transaction() as tx:
        for n in range(5):
            await tx.keep_turn(chat.id, RecentTurn(at + timedelta(seconds=n), str(n), "text", f"/n{n}", "…"), 3)
        kept = await tx.recent_turns(chat.id, at + timedelta(seconds=1), 10)
    assert [(turn.delivery, turn.said) for turn in kept] == [("2", "/n2"), ("3", "/n3"), ("4", "/n4")]
    assert len(seen) == (0 if database_url.startswith("postgresql") and fast_path else 6)
    assert await kept_rows(demo_database, chat.id) == 3


@BOTH_PATHS
async def test_the_last_twenty_turns_of_the_last_week_are_attached(talk, kabinet, demo_database, clock):
    await linked(talk)
    await talk.say("тиждень тому")
    clock.now += timedelta(days=7, minutes=1)
    await support_appeal(talk)
    assert [said for said, _ in await attached(kabinet)] == ["/appeal", "[button] appealkind:bot"]
    for n in range(25):
        await talk.say(f"повідомлення {n}")
    async with demo_database.session() as session:
        chat = await session.scalar(select(ChatRow.id).where(ChatRow.external_id == "c1"))
    assert await kept_rows(demo_database, chat) == 20  # a ring of 20: the oldest overwritten
    assert "Messages from this chat attached to the appeal: 20." in await support_appeal(talk)
    assert [said for said, _ in await attached(kabinet, 2)] == [f"повідомлення {n}" for n in range(7, 25)] + [
        "/appeal", "[button] appealkind:bot"]


async def test_forget_erases_the_turns_and_those_an_appeal_took(talk, kabinet, demo_database):
    await linked(talk)
    await support_appeal(talk)
    assert await attached(kabinet)
    await talk.say("/forget")
    await talk.press("Yes, erase")
    assert await kept_rows(demo_database) == 0
    assert await attached(kabinet) == []


async def test_a_failed_turn_is_kept_with_the_apology(kabinet, tmp_path):
    async def boom(turn, args: str) -> None:
        raise RuntimeError("a bug of ours")

    failing = dataclasses.replace(kabinet, flows=kabinet.flows + (Flow(commands=(Command("boom", boom),)),))
    talk = Talk(failing, files=tmp_path / "out")
    await linked(talk)
    assert "Sorry, something went wrong on our side" in await talk.say("/boom")
    await support_appeal(talk)
    turns = await attached(failing)
    assert turns[2][0] == "/boom" and turns[2][1] == talk.channel.kabinet.translator("en", "error-ours")


async def test_no_turn_is_kept_when_none_are_asked_for(kabinet, demo_database, tmp_path):
    quiet = dataclasses.replace(kabinet, kept_turns=0)
    talk = Talk(quiet, files=tmp_path / "out")
    await linked(talk)
    await talk.say("/appeal")
    assert "7 days" not in await talk.press(SUPPORT)  # nothing is kept, so nothing is promised
    assert "attached" not in await talk.say("Кнопки не натискаються")
    assert await kept_rows(demo_database) == 0 and await attached(quiet) == []


async def test_the_retention_job_drops_turns_older_than_a_week(demo_database):
    now = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
    async with demo_database.session() as session:
        chat = (await session.execute(insert(ChatRow).values(
            channel="telegram", external_id="1", language="uk", active=True, created_at=now - timedelta(days=30),
        ).returning(ChatRow.id))).scalar_one()
        await session.execute(insert(RecentTurnRow), [
            {"chat_id": chat, "slot": slot, "seq": slot, "at": now - timedelta(days=days), "delivery": str(slot),
             "kind": "text", "said": "/balance", "answered": "…"}
            for slot, days in ((1, 9), (2, 8), (3, 6.9), (4, 1))])
    planner = Planner(SqlOutbox(demo_database), None, KYIV, clock=lambda: now, retention=Retention(batch=1))
    await planner.run("retention")
    async with demo_database.session() as session:
        assert set(await session.scalars(select(RecentTurnRow.slot))) == {3, 4}


@pytest.mark.parametrize("backend", BACKENDS)
async def test_migration_0014_goes_down_and_up(backend):
    async def shape(url: str) -> tuple[bool, bool]:
        """Whether the recent_turns table and the appeals' turns column are there."""
        engine = create_async_engine(url)
        try:
            async with engine.connect() as connection:
                return await connection.run_sync(lambda sync: (
                    inspect(sync).has_table("recent_turns"),
                    "turns" in {column["name"] for column in inspect(sync).get_columns("appeals")}))
        finally:
            await engine.dispose()

    async with scratch_database(backend) as url:
        await asyncio.to_thread(upgrade, url)
        assert await shape(url) == (True, True)
        await asyncio.to_thread(command.downgrade, alembic_config(url), "0011")
        assert await shape(url) == (False, False)
        await asyncio.to_thread(upgrade, url)
        assert await shape(url) == (True, True)
