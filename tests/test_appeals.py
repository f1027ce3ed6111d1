"""/appeal: writing to the call centre, my appeals with their status and answer."""
from datetime import timedelta

import pytest

from core.services import IllegalTransition, change_appeal_status
from tests.support.console import linked


async def test_write_an_appeal_and_read_the_answer(talk, kabinet, clock):
    await linked(talk)
    await talk.say("/appeal")
    assert talk.buttons == ["Unclear invoice", "No electricity", "Meter", "The bot isn't working right", "Other",
                            "My appeals"]
    assert "Describe the matter" in await talk.say("Unclear invoice")
    text = await talk.say("Чому рахунок за жовтень удвічі більший?")
    assert "Appeal No. 1 is sent to the call centre: “Unclear invoice”, account 010000012345. Status: New" in text
    assert "Appeals" in talk.buttons

    clock.now += timedelta(hours=2)
    async with kabinet.store.transaction() as tx:
        await change_appeal_status(tx, 1, "in_progress", None, clock())
        answered = await change_appeal_status(tx, 1, "answered", "Нараховано за показниками 1 жовтня.", clock())
    assert answered.status == "answered"

    await talk.say("/appeal")
    text = await talk.say("My appeals")
    assert "No. 1 of 30.11.2026 10:00, Unclear invoice — Answered" in text
    assert "Чому рахунок за жовтень" in text and "Answer: Нараховано за показниками 1 жовтня." in text


async def test_empty_and_too_long_appeals_are_refused(talk, demo_database):
    await linked(talk)
    await talk.say("/appeal")
    await talk.say("Other")
    assert "empty" in await talk.say("   ")
    assert "has no text" in await talk.say("?!…")
    text = await talk.say("я" * 2500)
    assert "too long (2,500 characters); the limit is 2,000" in text
    assert "Appeal No. 1 is sent" in await talk.say("Світло блимає щовечора")
    assert "has no text" in await talk.say("/appeal ...")


async def test_appeal_text_as_the_command_argument(talk):
    await linked(talk)
    await talk.say("/appeal Немає світла з ранку")
    assert "What is your appeal" in talk.text
    assert "“No electricity”" in await talk.say("No electricity")


async def test_several_accounts_choose_one(talk):
    await linked(talk)
    await linked(talk, "1705339110", "Дем'яненко")
    await talk.say("/appeal")
    await talk.say("Meter")
    assert "Which account" in talk.text
    await talk.say("2")
    assert "account 1705339110" in await talk.say("Лічильник не світиться")


async def test_appeal_statuses_are_checked(talk, kabinet, clock):
    await linked(talk)
    await talk.say("/appeal")
    await talk.say("Other")
    await talk.say("Питання")
    async with kabinet.store.transaction() as tx:
        with pytest.raises(ValueError, match="answer needs its text"):
            await change_appeal_status(tx, 1, "answered", "  ", clock())
        closed = await change_appeal_status(tx, 1, "closed", None, clock())
        assert closed.status == "closed"
        with pytest.raises(IllegalTransition):
            await change_appeal_status(tx, 1, "in_progress", None, clock())
        with pytest.raises(LookupError):
            await change_appeal_status(tx, 99, "closed", None, clock())
    await talk.say("/appeal")
    assert "Other — Closed" in await talk.say("My appeals")


async def test_no_appeals_yet_and_no_account(talk, new_talk):
    assert "No account is linked" in await talk.say("/appeal")
    await linked(talk)
    await talk.say("/appeal")
    assert "not written any appeals" in await talk.say("My appeals")


async def test_the_type_typed_by_number_or_name(talk, kabinet):
    from core.messages import Incoming

    await linked(talk)
    await talk.say("/appeal")
    # a messenger delivers typed text, not a console button press
    replies = await kabinet.handle(Incoming.typed("console", "c1", "5", "en"))
    assert "Other." in replies[0].text
    await talk.say("/cancel")
    await talk.say("/appeal")
    replies = await kabinet.handle(Incoming.typed("console", "c1", "лічильник", "en"))
    assert "Meter." in replies[0].text
