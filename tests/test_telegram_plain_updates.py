"""Text messages and button presses on the webhook, read past aiogram (handlers/telegram/plain_updates.py).

Whatever the webhook reads itself must be what aiogram would have made of it: the same event for the core, the
same chat's line, the same answer in the HTTP response; whatever it does not read goes to aiogram as before.
"""
from __future__ import annotations

import asyncio
import copy
import itertools

import aiohttp
import pytest
from aiogram import Bot
from aiogram.methods import AnswerCallbackQuery
from aiogram.types import Update
from hypothesis import HealthCheck, given, settings
from pydantic import ValidationError
from sqlalchemy import delete, text

from core.messages import Handled, Outcome
from handlers.telegram.channel import build_dispatcher, line_of
from handlers.telegram.plain_updates import read_plain
from handlers.telegram.replies import TelegramOutput
from storage.exchange import import_folder
from storage.models import Base
from tests.support.demo import DEMO
from tests.support.mutations import mutated
from tests.support.telegram import SECRET, link
from tests.telegram_api import TOKEN, TelegramChat, TelegramUser, call_answer, method_in_response

# ----- updates shaped as Telegram sends them (https://core.telegram.org/bots/api#update)

PERSON = {"id": 5_552_001, "is_bot": False, "first_name": "Олена", "last_name": "Коваль", "username": "olena_k",
          "language_code": "uk"}
PRIVATE = {"id": 5_552_001, "first_name": "Олена", "last_name": "Коваль", "username": "olena_k", "type": "private"}
GROUP = {"id": -1001234567890, "title": "Родина", "type": "supergroup"}
BOT = {"id": 123456789, "is_bot": True, "first_name": "Kabinet", "username": "kabinet_test_bot"}
KEYBOARD = {"inline_keyboard": [[{"text": "Баланс", "callback_data": "cmd:balance"},
                                 {"text": "Показання", "callback_data": "cmd:reading"}],
                                [{"text": "Сплатити", "url": "https://pay.example.com/p/1"}]]}
DATE = 1_764_496_800


def message(text: str | None = None, chat: dict = PRIVATE, sender: dict | None = PERSON, **more) -> dict:
    body = {"message_id": 4711, "chat": chat, "date": DATE, **more}
    if sender is not None:
        body["from"] = sender
    if text is not None:
        body["text"] = text
    return body


def command(text: str, **more) -> dict:
    return message(text, entities=[{"offset": 0, "length": len(text.split()[0]), "type": "bot_command"}], **more)


def sent(chat: dict = PRIVATE, **more) -> dict:
    """The bot's own message with its buttons, as a press carries it."""
    return {"message_id": 1001, "from": BOT, "chat": chat, "date": DATE, "text": "Особовий рахунок 010000012345",
            "reply_markup": KEYBOARD, **more}


def press(data: str | None = "cmd:balance", on: dict | None = None, sender: dict = PERSON, **more) -> dict:
    query = {"id": "4382bfdwdsb323b2d9", "from": sender, "chat_instance": "-7289318460385510812", **more}
    if data is not None:
        query["data"] = data
    if on is not None:
        query["message"] = on
    return query


def without(mapping: dict, *keys: str) -> dict:
    return {key: value for key, value in mapping.items() if key not in keys}


PHOTO = [{"file_id": "AgACAgIAAxkBAAIs", "file_unique_id": "AQADs1", "file_size": 1500, "width": 90, "height": 67}]

# Read past aiogram: the text mix and its corners.
PLAIN = {
    "command": {"update_id": 1, "message": command("/balance")},
    "words": {"update_id": 2, "message": message("12300")},
    "command-in-a-group": {"update_id": 3, "message": command("/balance@kabinet_test_bot", chat=GROUP)},
    "no-sender": {"update_id": 4, "message": message("Привіт", chat=GROUP, sender=None)},
    "no-language": {"update_id": 5, "message": message("Привіт", sender=without(PERSON, "language_code"))},
    "language-null": {"update_id": 6, "message": message("Привіт", sender={**PERSON, "language_code": None})},
    "long-text": {"update_id": 7, "message": message("Лічильник 🙂 показує " * 400)},
    "links": {"update_id": 8, "message": message("див. https://example.com і сюди", entities=[
        {"offset": 5, "length": 19, "type": "url"},
        {"offset": 27, "length": 4, "type": "text_link", "url": "https://example.com/here"},
        {"offset": 0, "length": 4, "type": "pre", "language": "python"}])},
    "premium-and-bare-chat": {"update_id": 9, "message": message(
        "/start", chat={"id": 5_552_001, "type": "private"},
        sender={**PERSON, "is_premium": True, "added_to_attachment_menu": False})},
    "a-nul-character": {"update_id": 10, "message": message("12\x00300")},
    "a-lone-surrogate": {"update_id": 12, "message": message("12\ud800300")},  # JSON's "\\ud800": pydantic keeps it
    "update-id-of-64-bits": {"update_id": 2**63 - 1, "message": message("/help")},
    "negative-update-id": {"update_id": -3, "message": message("/help")},
    "forum-group": {"update_id": 11, "message": message("/help", chat={**GROUP, "is_forum": True})},
    "press": {"update_id": 20, "callback_query": press(on=sent())},
    "press-in-a-group": {"update_id": 21, "callback_query": press(on=sent(GROUP))},
    "press-on-an-inaccessible-message": {"update_id": 22, "callback_query": press(
        on={"chat": PRIVATE, "message_id": 1001, "date": 0})},
    "press-without-data": {"update_id": 23, "callback_query": press(None, on=sent())},
    "press-with-empty-data": {"update_id": 24, "callback_query": press("", on=sent())},
    "press-message-null": {"update_id": 25, "callback_query": {**press(), "message": None}},
    "press-on-an-edited-message": {"update_id": 26, "callback_query": press(on=sent(edit_date=DATE + 60))},
    "press-no-language": {"update_id": 27, "callback_query": press(on=sent(), sender=without(PERSON, "language_code"))},
    "press-on-a-bare-message": {"update_id": 28, "callback_query": press(on=without(sent(), "from", "reply_markup"))},
}

# Left to aiogram: other kinds, more than these keys, or values of other types (aiogram converts or refuses them).
TO_AIOGRAM = {
    "empty-text": {"update_id": 40, "message": message("")},
    "photo-with-caption": {"update_id": 41, "message": message(photo=PHOTO, caption="12300")},
    "text-and-photo": {"update_id": 42, "message": message("12300", photo=PHOTO)},
    "sticker": {"update_id": 43, "message": message(sticker={
        "file_id": "CAACAgIAAxk", "file_unique_id": "AgADst", "type": "regular", "width": 512, "height": 512,
        "is_animated": False, "is_video": False})},
    "contact": {"update_id": 44, "message": message(contact={"phone_number": "+380501234567", "first_name": "Олена"})},
    "edited": {"update_id": 45, "edited_message": message("12300", edit_date=DATE + 5)},
    "a-reply": {"update_id": 46, "message": message("12300", reply_to_message=sent())},
    "a-topic": {"update_id": 47, "message": message("/help", chat={**GROUP, "is_forum": True},
                                                    message_thread_id=7, is_topic_message=True)},
    "forwarded": {"update_id": 48, "message": message("12300", forward_origin={
        "type": "hidden_user", "sender_user_name": "Хтось", "date": DATE})},
    "anonymous-admin": {"update_id": 49, "message": message("/help", chat=GROUP, sender_chat=GROUP)},
    "a-text-mention": {"update_id": 50, "message": message("Олена", entities=[
        {"offset": 0, "length": 5, "type": "text_mention", "user": PERSON}])},
    "a-key-not-known-here": {"update_id": 51, "message": message("/help", has_media_spoiler=False)},
    "update-id-as-text": {"update_id": "52", "message": message("/help")},
    "update-id-as-float": {"update_id": 53.0, "message": message("/help")},
    "update-id-as-bool": {"update_id": True, "message": message("/help")},
    "no-update-id": {"message": message("/help")},
    "date-as-text": {"update_id": 54, "message": message("/help", date=str(DATE))},
    "date-in-milliseconds": {"update_id": 55, "message": message("/help", date=DATE * 1000)},
    "date-as-bool": {"update_id": 56, "message": message("/help", date=True)},
    "chat-id-as-text": {"update_id": 57, "message": message("/help", chat={**PRIVATE, "id": "5552001"})},
    "no-first-name": {"update_id": 58, "message": message("/help", sender=without(PERSON, "first_name"))},
    "is-bot-as-number": {"update_id": 59, "message": message("/help", sender={**PERSON, "is_bot": 0})},
    "text-as-number": {"update_id": 60, "message": message(12300)},
    "message-and-press": {"update_id": 61, "message": message("/help"), "callback_query": press(on=sent())},
    "message-null": {"update_id": 62, "message": None},
    "press-inline": {"update_id": 70, "callback_query": press(inline_message_id="AAAAAHk")},
    "press-for-a-game": {"update_id": 71, "callback_query": press(None, on=sent(), game_short_name="g")},
    "press-on-a-photo": {"update_id": 72, "callback_query": press(on={**without(sent(), "text"), "photo": PHOTO,
                                                                      "caption": "Графік"})},
    "press-data-as-number": {"update_id": 73, "callback_query": press(7, on=sent())},
    "press-without-chat-instance": {"update_id": 74, "callback_query": without(press(on=sent()), "chat_instance")},
    "press-on-a-keyboard-of-other-buttons": {"update_id": 75, "callback_query": press(on=sent(reply_markup={
        "inline_keyboard": [[{"text": "Застосунок", "web_app": {"url": "https://example.com"}}]]}))},
    "membership": {"update_id": 76, "my_chat_member": {
        "chat": PRIVATE, "from": PERSON, "date": DATE, "old_chat_member": {"user": BOT, "status": "member"},
        "new_chat_member": {"user": BOT, "status": "kicked", "until_date": 0}}},
    "a-list": [1, 2],
}


class Recorder:
    """The core as aiogram's handlers meet it: each event recorded, handled as a repeat (so nothing is sent)."""

    def __init__(self) -> None:
        self.events: list = []

    async def process(self, event):
        self.events.append(event)
        return Handled(Outcome.DUPLICATE, [])

    async def takes_files(self, *_args) -> bool:
        return False


class Offline(TelegramOutput):
    async def download_photo(self, reference, declared_size):
        raise AssertionError("a photo fetched")


async def through_aiogram(update) -> tuple[list, object, int | None]:
    """What aiogram's dispatcher, with Kabinet's routers, hands the core, what it answers in the webhook's
    response and the chat's line; ValidationError for a body it refuses."""
    bot = Bot(TOKEN)
    try:
        recorder = Recorder()
        dispatcher = build_dispatcher(Offline(bot, recorder))  # type: ignore[arg-type]
        parsed = Update.model_validate(copy.deepcopy(update), context={"bot": bot})
        answer = await dispatcher.feed_webhook_update(bot, copy.deepcopy(update))
        return recorder.events, answer, line_of(parsed)
    finally:
        await bot.session.close()


async def assert_read_as_aiogram_reads(update) -> None:
    plain = read_plain(copy.deepcopy(update))
    assert plain is not None
    events, answer, line = await through_aiogram(update)
    assert events == [plain.event]
    assert plain.line == line and plain.update_id == update["update_id"]
    if plain.query_id is None:
        assert answer is None
    else:
        assert isinstance(answer, AnswerCallbackQuery) and answer.callback_query_id == plain.query_id


@pytest.mark.parametrize("name", PLAIN)
async def test_a_text_or_a_press_is_read_into_the_event_aiograms_handlers_make(name):
    await assert_read_as_aiogram_reads(PLAIN[name])


@pytest.mark.parametrize("name", TO_AIOGRAM)
def test_an_update_of_another_kind_or_shape_is_left_to_aiogram(name):
    assert read_plain(copy.deepcopy(TO_AIOGRAM[name])) is None


async def test_the_corners_read_as_aiogram_reads_them():
    plain = {name: read_plain(update) for name, update in PLAIN.items()}
    assert plain["command-in-a-group"].event.private is False
    assert plain["press-in-a-group"].event.private is False and plain["press-in-a-group"].line == GROUP["id"]
    assert plain["no-sender"].event.language is None and plain["press-no-language"].event.language is None
    assert plain["press-message-null"].event.chat_id == str(PERSON["id"])
    assert plain["press-without-data"].event.action == "" and plain["press"].event.action == "cmd:balance"
    assert len(plain["long-text"].event.text) == len("Лічильник 🙂 показує " * 400)
    assert plain["press"].query_id == "4382bfdwdsb323b2d9" and plain["command"].query_id is None
    # aiogram refuses what is left to it for a wrong type, so the webhook still answers those 400:
    for name in ("no-first-name", "text-as-number", "press-data-as-number", "press-without-chat-instance"):
        with pytest.raises(ValidationError):
            await through_aiogram(TO_AIOGRAM[name])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated(list(PLAIN.values())))
async def test_whatever_is_read_past_aiogram_aiogram_reads_the_same_way(update):
    """Mutated updates (keys dropped, values of every JSON type put in): each the webhook reads itself, aiogram
    parses and hands the core the same event."""
    if read_plain(copy.deepcopy(update)) is not None:
        await assert_read_as_aiogram_reads(update)


# ----- through the webhook, on both databases


class Deliveries:
    """Posts updates to the webhook as Telegram does, each with the next update_id and press id of this run (so two
    runs send the same bodies), and keeps each HTTP answer: its status and the method in it."""

    def __init__(self, url: str, api) -> None:
        self.url, self.api = url, api
        self.update_ids = itertools.count(910_000_001)
        self.press_ids = itertools.count(1)
        self.answers: list[tuple[int, dict | None]] = []

    async def __call__(self, update: dict) -> int:
        if "update_id" not in update:
            update["update_id"] = next(self.update_ids)
            if "callback_query" in update:
                update["callback_query"]["id"] = f"press-{next(self.press_ids)}"
        async with aiohttp.ClientSession() as session:
            async with session.post(self.url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}
                                    ) as response:
                answer = await method_in_response(response)
                status = response.status
            if answer is not None:
                await call_answer(session, self.api, answer)
        self.answers.append((status, answer))
        return status


async def conversation(webhook, bot_api) -> Deliveries:
    """Linking, the text mix and its corners: what a consumer and a stranger send. The webhook answers once the
    turn's replies are sent, so each update's replies are in before the next is sent."""
    deliveries = Deliveries(webhook.url, bot_api)
    user = TelegramUser(id=5_553_001)
    chat = TelegramChat(bot_api, user, deliveries)
    await link(chat)
    for update in (user.text("/balance"), user.text("/reading"), user.text("12300")):
        await deliveries(update)
    confirm = user.press(chat.messages[-1], "reading:confirm")
    await deliveries(confirm)
    await deliveries(copy.deepcopy(confirm))  # Telegram delivers it again: a repeat
    await deliveries(user.press(chat.messages[0], "cmd:balance"))  # a button of an old message
    inaccessible = user.press(chat.messages[-1], "cmd:balance")
    inaccessible["callback_query"]["message"] = {"chat": user.chat, "message_id": 1, "date": 0}
    await deliveries(inaccessible)
    await deliveries(user.text("Що це?"))
    await deliveries(user.sticker())  # aiogram's in both runs
    for said in ("/balance@kabinet_test_bot", "/link 010000012345 Шевченко"):  # in a group: not private
        await deliveries({"message": {**user.text(said)["message"], "chat": GROUP}})
    await deliveries(user.press(bot_api.sent_to(GROUP["id"])[-1], "cmd:balance"))
    stranger = TelegramUser(id=5_553_002, language_code=None)
    for update in (stranger.text("/start"), stranger.text("/balance"), stranger.text("")):
        await deliveries(update)
    return deliveries


async def reset(database) -> None:
    """The demo data as the test began: every row deleted, ids counted from 1 again, the demo imported."""
    async with database.engine.begin() as connection:
        if database.is_sqlite:
            for table in reversed(Base.metadata.sorted_tables):
                await connection.execute(delete(table))
            if (await connection.execute(text("SELECT name FROM sqlite_master WHERE name = 'sqlite_sequence'"))).first():
                await connection.execute(text("DELETE FROM sqlite_sequence"))
        else:
            tables = ", ".join(f'"{table.name}"' for table in Base.metadata.sorted_tables)
            await connection.exec_driver_sql(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
    async with database.session() as session:
        await import_folder(session, DEMO)


async def test_a_conversation_past_aiogram_reaches_the_core_and_is_answered_as_through_it(
        webhook, bot_api, demo_database, monkeypatch):
    from core.conversation import Kabinet

    events: list = []
    process = Kabinet.process

    async def recording(self, event):
        events.append(event)
        return await process(self, event)

    monkeypatch.setattr(Kabinet, "process", recording)
    assert await webhook.channel.menu.task  # its calls made before the runs
    runs = []
    for plain_updates in (False, True):
        await reset(demo_database)
        bot_api.calls.clear()
        bot_api.message_ids = itertools.count(1001)
        events.clear()
        webhook.channel.plain_updates = plain_updates
        deliveries = await conversation(webhook, bot_api)
        sent = [(call.method, call.params) for call in bot_api.calls]
        runs.append((list(events), deliveries.answers, sent))
    (events_aiogram, answers_aiogram, sent_aiogram), (events_plain, answers_plain, sent_plain) = runs
    assert len(events_plain) == len(events_aiogram) > 15
    for through, past in zip(events_aiogram, events_plain):
        assert through == past
    assert answers_plain == answers_aiogram
    assert [status for status, _ in answers_plain] == [200] * len(answers_plain)
    assert sum(answer is not None for _, answer in answers_plain) >= 5  # the presses, answered in the response
    assert sent_plain == sent_aiogram


async def test_a_text_message_and_a_press_build_no_aiogram_update(webhook, bot_api, monkeypatch):
    built = []
    validate = Update.model_validate

    def counting(*args, **kwargs):
        built.append(args[0])
        return validate(*args, **kwargs)

    monkeypatch.setattr(Update, "model_validate", counting)
    chat = webhook.chat(TelegramUser(id=5_553_003))
    await link(chat)
    assert "658.40" in (await chat.send(chat.user.text("/balance")))[0].text
    await chat.send(chat.user.press(chat.last, "cmd:balance"))
    assert built == []
    await chat.send(chat.user.sticker())
    assert len(built) == 1  # a sticker is aiogram's


async def test_a_text_read_past_aiogram_waits_in_its_chats_line_behind_an_update_aiogram_handles(webhook, bot_api):
    user = TelegramUser(id=5_553_004)
    chat = webhook.chat(user)
    await link(chat)
    answered = len(chat.messages)
    bot_api.hold(user.id)  # the sticker's answer is kept waiting: its turn goes on
    sticker = asyncio.create_task(chat.deliver(user.sticker()))
    await bot_api.wait_until(lambda: bot_api.held)
    balance = asyncio.create_task(chat.deliver(user.text("/balance")))
    await asyncio.sleep(0.3)
    assert not balance.done() and len(bot_api.calls_to("sendMessage")) == len(bot_api.held) + answered
    bot_api.release(user.id)
    assert await sticker == 200 and await balance == 200
    assert "658.40" in chat.messages[-1].text and "658.40" not in chat.messages[-2].text


async def test_a_press_whose_turn_outlasts_the_webhooks_wait_is_answered_empty_then_by_a_request(
        webhook, bot_api, monkeypatch):
    """As aiogram's feed_webhook_update does after its 55 s: Telegram gets its answer (and does not deliver the
    update again) while the turn goes on; the press is answered by a request once the turn is done."""
    from handlers.telegram import channel

    user = TelegramUser(id=5_553_005)
    chat = webhook.chat(user)
    await link(chat)
    monkeypatch.setattr(channel, "WEBHOOK_WAIT", 0.2)
    bot_api.hold(user.id)
    press = user.press(chat.messages[-1], "cmd:balance")
    press["update_id"] = 920_000_001
    async with aiohttp.ClientSession() as session:
        async with session.post(webhook.url, json=press, headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}) as response:
            assert response.status == 200 and await method_in_response(response) is None
    assert bot_api.calls_to("answerCallbackQuery")[-1].params["callback_query_id"] != press["callback_query"]["id"]
    bot_api.release(user.id)
    answered = await bot_api.wait_until(lambda: [call for call in bot_api.calls_to("answerCallbackQuery")
                                                 if call.params["callback_query_id"] == press["callback_query"]["id"]])
    assert len(answered) == 1 and "658.40" in chat.messages[-1].text
