"""The Telegram channel end to end: the real aiogram Bot against a stand-in Bot API server on 127.0.0.1."""
from __future__ import annotations

import dataclasses

import aiohttp
import pytest
from sqlalchemy import select

from storage.models import ChatRow
from storage.exchange import submitted_readings
from tests.support.telegram import JPEG, SECRET, Webhook, link
from tests.telegram_api import TOKEN, TelegramChat, TelegramUser, polling_delivery


async def chat_row(database, user: TelegramUser) -> ChatRow:
    async with database.session() as session:
        return (await session.execute(
            select(ChatRow).where(ChatRow.channel == "telegram", ChatRow.external_id == str(user.id))
        )).scalar_one()


# ----- polling


async def test_polling_links_an_account_through_the_consent_button_and_shows_the_balance(chat, bot_api):
    await link(chat)
    balance = await chat.say("/balance")
    assert "To pay now: UAH 658.40" in balance and "Last payment" in balance
    assert "Balance" in chat.last.labels
    answered = await bot_api.wait_until(lambda: bot_api.calls_to("answerCallbackQuery"))
    assert len(answered) == 2  # every press is answered
    assert bot_api.calls_to("deleteWebhook")


async def test_the_command_menu_is_set_in_every_language(polling, bot_api, kabinet):
    menus = {call.params.get("language_code"): call.params["commands"] for call in bot_api.calls_to("setMyCommands")}
    assert set(menus) == {"uk", "en", "ru", None}
    english = {command["command"]: command["description"] for command in menus["en"]}
    assert english["balance"].startswith("Balance") and "reading" in english and "start" in english
    assert "Баланс" in {c["command"]: c["description"] for c in menus["uk"]}["balance"]
    assert menus[None] == menus["uk"]
    assert set(english) <= set(kabinet.registry.commands)  # only the commands the core has


async def test_a_reading_lower_than_the_last_asks_for_confirmation_by_button(chat, demo_database):
    await link(chat)
    warned = await chat.say("/reading 12300", replies=2)
    assert "passed through zero" in warned and "over 50,000 kWh" in warned
    assert chat.last.labels == ["Confirm", "Enter again"]
    accepted = await chat.press("Confirm")
    assert "Reading of meter 0123456 accepted: 12300" in accepted
    async with demo_database.session() as session:
        rows = await submitted_readings(session, None)
    assert [(row["value"], row["source"]) for row in rows] == [(12300, "telegram")]


async def test_a_meter_photo_is_fetched_with_get_file_and_handed_to_the_core(chat, bot_api):
    await link(chat)
    file_id = bot_api.add_file(JPEG)
    answer = await chat.send(chat.user.photo(file_id, len(JPEG)), replies=3)
    assert "photo is kept" in answer[0].text and "Enter the reading of meter 0123456" in answer[1].text
    assert [call.params["file_id"] for call in bot_api.calls_to("getFile")] == [file_id]
    assert len(bot_api.downloads) == 1
    assert "accepted: 12400" in await chat.say("12400")


async def test_a_photo_sent_as_a_file_is_a_photo_and_other_files_are_not(chat, bot_api):
    await link(chat)
    file_id = bot_api.add_file(JPEG, name="meter.jpg")
    kept = await chat.send(chat.user.document(file_id, len(JPEG)), replies=3)
    assert "photo is kept" in kept[0].text
    pdf = bot_api.add_file(b"%PDF-1.4", name="invoice.pdf")
    other = await chat.send(chat.user.document(pdf, 8, "invoice.pdf", "application/pdf"))
    assert "I do not handle messages of this kind" in other[0].text
    assert "I do not handle messages of this kind" in (await chat.send(chat.user.sticker()))[0].text


async def test_a_photo_over_20_mb_is_refused_before_downloading(chat, bot_api):
    await link(chat)
    too_big = bot_api.add_file(JPEG, size=25 * 1024 * 1024)
    refused = await chat.send(chat.user.photo(too_big, 25 * 1024 * 1024))
    assert "larger than 20 MB" in refused[0].text
    assert bot_api.calls_to("getFile") == [] and bot_api.downloads == []
    # Telegram does not always say the size in the message; getFile refuses then, and so do we.
    unknown = bot_api.add_file(JPEG, size=21 * 1024 * 1024)
    refused = await chat.send(chat.user.document(unknown, None))
    assert "larger than 20 MB" in refused[0].text and bot_api.downloads == []


async def test_ukrainian_consumers_hear_the_photo_refusal_in_ukrainian(bot_api, polling):
    chat = TelegramChat(bot_api, TelegramUser(id=5_550_077, language_code="uk"), polling_delivery(bot_api))
    too_big = bot_api.add_file(JPEG, size=30 * 1024 * 1024)
    refused = await chat.send(chat.user.photo(too_big, 30 * 1024 * 1024))
    assert "більше за 20 МБ" in refused[0].text


async def test_a_button_of_an_old_message_is_answered_as_no_longer_active(chat, bot_api):
    await link(chat)
    consent = next(message for message in chat.messages if "I agree" in message.labels)
    stale = await chat.send(chat.user.press(consent, "consent:yes"))
    assert "no longer active" in stale[0].text
    # Polling: aiogram calls the answer the handler returns, once the replies are sent.
    await bot_api.wait_until(lambda: len(bot_api.calls_to("answerCallbackQuery")) == 3)


async def test_a_shared_contact_is_answered_and_the_phone_keyboard_removed(chat):
    answer = await chat.send(chat.user.contact("+380501234567"))
    assert "no phone number is needed" in answer[0].text
    assert answer[0].markup == {"remove_keyboard": True}


async def test_the_chat_language_starts_from_telegrams_language_code(bot_api, polling):
    russian = TelegramChat(bot_api, TelegramUser(id=5_550_002, language_code="ru"), polling_delivery(bot_api))
    assert "Добро пожаловать" in await russian.say("/start", replies=2)
    unknown = TelegramChat(bot_api, TelegramUser(id=5_550_003, language_code=None), polling_delivery(bot_api))
    assert "Вітаємо" in await unknown.say("/start", replies=2)


async def test_a_blocked_bot_marks_the_chat_unreachable_and_unblocking_reachable(chat, bot_api, demo_database):
    await chat.say("/help")
    await chat.send(chat.user.membership("member", "kicked"), replies=0)
    await bot_api.wait_until(lambda: True)
    await wait_for_row(demo_database, chat.user, active=False)
    await chat.send(chat.user.membership("kicked", "member"), replies=0)
    await wait_for_row(demo_database, chat.user, active=True)


async def test_a_chat_that_blocked_the_bot_is_marked_unreachable_when_sending_is_forbidden(chat, bot_api,
                                                                                             demo_database):
    await chat.say("/help")
    bot_api.blocked.add(chat.user.id)
    await chat.send(chat.user.text("/help"), replies=0)
    await bot_api.wait_until(lambda: any(c.method == "sendMessage" and c.result is None for c in bot_api.calls))
    await wait_for_row(demo_database, chat.user, active=False)


async def wait_for_row(database, user: TelegramUser, *, active: bool) -> None:
    import asyncio

    for _ in range(100):
        if (await chat_row(database, user)).active is active:
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"chat {user.id} never became active={active}")


# ----- webhook


async def test_webhook_is_set_with_the_secret_and_the_update_types_the_routers_use(webhook, bot_api):
    hook = bot_api.webhook
    assert hook["url"] == webhook.url and hook["secret_token"] == SECRET
    assert {"message", "callback_query", "my_chat_member"} <= set(hook["allowed_updates"])
    assert bot_api.calls_to("deleteWebhook") == []


async def test_webhook_refuses_a_wrong_or_missing_secret(webhook, bot_api):
    user = TelegramUser()
    for secret in ("wrong", None):
        chat = webhook.chat(user, secret=secret)
        await chat.send(user.text("/start"), replies=0)
        assert chat.status == 401
    assert bot_api.calls_to("sendMessage") == []


async def test_webhook_links_and_handles_a_twice_delivered_update_once(webhook, bot_api):
    chat = webhook.chat(TelegramUser())
    await link(chat)
    update = chat.user.text("/balance")
    assert "658.40" in (await chat.send(update))[0].text
    assert chat.status == 200
    await chat.send(update, replies=0)  # Telegram retries the same update_id
    assert chat.status == 200 and chat.unread == []
    press = chat.user.press(chat.last, "cmd:balance")
    await chat.send(press)
    await chat.send(press, replies=0)
    assert chat.unread == []


async def test_webhook_answers_a_button_press_in_its_response_after_the_replies(webhook, bot_api):
    from tests.telegram_api import method_in_response

    chat = webhook.chat(TelegramUser())
    await link(chat)
    await chat.say("/reading 12300", replies=2)
    press = chat.user.press(chat.last, "reading:confirm")
    press["update_id"] = 900_000_001
    async with aiohttp.ClientSession() as session:
        async with session.post(webhook.url, json=press, headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}) as response:
            answer = await method_in_response(response)
    assert answer == {"method": "answerCallbackQuery", "callback_query_id": press["callback_query"]["id"]}
    # The bot asked nothing itself (4 presses while linking and confirming were carried out by `webhook.chat`):
    assert len(bot_api.calls_to("answerCallbackQuery")) == 2
    assert "accepted: 12300" in (await chat.expect(1))[0].text  # sent before the webhook answered


async def test_webhook_answers_500_and_apologises_when_the_core_fails(bot_api, kabinet, demo_database):
    class BuggyArchive:  # a bug of ours (a full disk is survived: tests/test_faults_photos.py)
        def save(self, content, received_at):
            raise RuntimeError("a bug in the archive")

    broken = dataclasses.replace(kabinet, photos=BuggyArchive())
    async with Webhook(bot_api, broken, demo_database) as hook:
        chat = hook.chat(TelegramUser())
        await link(chat)
        photo = chat.user.photo(bot_api.add_file(JPEG), len(JPEG))
        apology = await chat.send(photo)
        assert chat.status == 500  # so Telegram delivers it again
        assert "went wrong on our side" in apology[0].text
        retried = await chat.send(photo)  # not recorded as handled, so the retry is processed
        assert chat.status == 500 and "went wrong" in retried[0].text


async def test_webhook_answers_400_to_a_request_that_is_not_an_update(webhook):
    async with aiohttp.ClientSession() as session:
        async with session.post(webhook.url, data=b"not json",
                                headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}) as response:
            assert response.status == 400


async def test_webhook_without_a_configured_secret_still_requires_one(bot_api, kabinet, demo_database):
    from handlers.telegram.channel import TelegramConfig, webhook_secret

    def settings(token: str):
        return TelegramConfig(token, webhook_url="https://bot.example.com/webhook/telegram")

    # Derived from the token: every process of one bot agrees on it without being told.
    assert webhook_secret(settings(TOKEN)) == webhook_secret(settings(TOKEN))
    assert webhook_secret(settings(TOKEN)) != webhook_secret(settings("987654321:AAAnotherBotTokenForTests"))
    async with Webhook(bot_api, kabinet, demo_database, secret=None) as hook:
        assert bot_api.webhook["secret_token"] == hook.channel.secret
        missing = hook.chat(TelegramUser(), secret=None)
        await missing.send(missing.user.text("/start"), replies=0)
        assert missing.status == 401
        allowed = hook.chat(TelegramUser(), secret=hook.channel.secret)
        await allowed.send(allowed.user.text("/start"), replies=2)
        assert allowed.status == 200


async def test_a_photo_telegram_cannot_serve_is_apologised_for_and_retried(webhook, bot_api):
    chat = webhook.chat(TelegramUser())
    await link(chat)
    gone = await chat.send(chat.user.photo("AgACAgIAAxkBAAIunknown", 5000))
    assert chat.status == 500 and "went wrong on our side" in gone[0].text


# ----- groups (issue 16.1)


@dataclasses.dataclass
class InGroup(TelegramUser):
    """The same person writing in a group the bot is a member of: the chat is the group's."""

    group: int = -1001234567890

    @property
    def chat(self) -> dict:
        return {"id": self.group, "title": "Родина", "type": "supergroup"}


class GroupChat(TelegramChat):
    @property
    def messages(self):
        return self.api.sent_to(self.user.group)


async def test_accounts_are_not_linked_in_a_group(bot_api, polling):
    group = GroupChat(bot_api, InGroup(), polling_delivery(bot_api))
    assert "only in a private chat" in await group.say("/link@kabinet_bot 010000012345 Шевченко")
    assert "personal account" in await group.say("/start", replies=2)
    assert "only in a private chat" in await group.press("Link account")  # the button of a group's message
    assert "No account is linked" in await group.say("/balance")
    private = TelegramChat(bot_api, TelegramUser(), polling_delivery(bot_api))
    await link(private)


@pytest.mark.parametrize("status", [404, 500])
async def test_a_photo_whose_download_fails_is_apologised_for_retried_and_logged_without_the_token(
        webhook, bot_api, logged, status):
    from tests.support.logs import leaked

    chat = webhook.chat(TelegramUser())
    await link(chat)
    photo_id = bot_api.add_file(JPEG)
    bot_api.file_failures[photo_id] = status
    photo = chat.user.photo(photo_id, len(JPEG))
    apology = await chat.send(photo)
    assert chat.status == 500  # so Telegram delivers it again
    assert "went wrong on our side" in apology[0].text
    said = [line for line in logged.lines if "not fetched" in line]
    assert said and f"ClientResponseError: HTTP {status}" in said[0]
    assert leaked(logged.lines) == []
    assert not any("/file/bot" in line for line in logged.lines)  # no URL at all
    del bot_api.file_failures[photo_id]
    kept = await chat.send(photo)  # the retry, once Telegram serves the file
    assert chat.status == 200 and "photo is kept" in kept[0].text
