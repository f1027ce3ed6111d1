"""Core replies rendered as Bot API calls, sent by the real aiogram Bot to the stand-in server."""
from __future__ import annotations

from functools import partial
from types import SimpleNamespace

import pytest
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer

from core.messages import Attachment, Button, Reply
from handlers.channel import Recipient, split_text
from handlers.telegram.replies import MAX_TEXT, TelegramOutput
from tests.telegram_api import TOKEN

CHAT = 5_550_010
PNG = b"\x89PNG\r\n\x1a\n" + b"chart" * 50


@pytest.fixture
async def sender(bot_api, kabinet):
    bot = Bot(TOKEN, session=AiohttpSession(api=TelegramAPIServer.from_base(bot_api.base)))
    output = TelegramOutput(bot, kabinet)
    yield SimpleNamespace(send=partial(output.answer, Recipient(str(CHAT), "en")))
    await bot.session.close()


async def test_choices_are_an_inline_keyboard_row_by_row(sender, bot_api):
    await sender.send([Reply("Choose", [[Button("A", "x:1"), Button("B", "x:2")], [Button("C", "x:3")]])])
    (message,) = bot_api.sent_to(CHAT)
    assert message.markup["inline_keyboard"] == [
        [{"text": "A", "callback_data": "x:1"}, {"text": "B", "callback_data": "x:2"}],
        [{"text": "C", "callback_data": "x:3"}],
    ]


async def test_a_link_button_is_a_url_button(sender, bot_api):
    link = "https://bank.gov.ua/qr/" + "Q" * 400  # a payment link is longer than any callback may be
    await sender.send([Reply("Pay", [[Button("Pay UAH 658.40", "", url=link)], [Button("C", "x:3")]])])
    (message,) = bot_api.sent_to(CHAT)
    assert message.markup["inline_keyboard"] == [
        [{"text": "Pay UAH 658.40", "url": link}], [{"text": "C", "callback_data": "x:3"}],
    ]


async def test_a_button_whose_action_is_over_64_bytes_is_left_out_and_logged(sender, bot_api, caplog):
    await sender.send([Reply("Choose", [[Button("ok", "x:1"), Button("long", "x:" + "я" * 40)]])])
    (message,) = bot_api.sent_to(CHAT)
    assert message.labels == ["ok"]
    assert "over Telegram's 64 bytes" in caplog.text


async def test_a_phone_request_is_a_contact_keyboard_and_choices_follow(sender, bot_api):
    await sender.send([Reply("Your phone number?", [[Button("Cancel", "cmd:cancel")]], request_contact=True)])
    asked, choices = bot_api.sent_to(CHAT)
    assert asked.markup["keyboard"] == [[{"text": "📱 Share my phone number", "request_contact": True}]]
    assert asked.markup["one_time_keyboard"] is True
    assert choices.text == "Or choose:" and choices.labels == ["Cancel"]


async def test_images_and_documents_are_uploaded_with_the_text_as_caption(sender, bot_api):
    await sender.send([
        Reply("Consumption in 2026", [[Button("Back", "cmd:help")]], image=Attachment("chart.png", PNG, "image/png")),
        Reply("Invoice", document=Attachment("invoice-2026-10.pdf", b"%PDF-1.4 ...", "application/pdf")),
    ])
    photo, document = bot_api.sent_to(CHAT)
    assert photo.method == "sendPhoto" and photo.params["photo"] == PNG
    assert photo.text == "Consumption in 2026" and photo.labels == ["Back"]
    assert document.method == "sendDocument" and document.params["document"].startswith(b"%PDF")
    assert document.text == "Invoice"


async def test_a_caption_too_long_for_a_photo_follows_as_a_message(sender, bot_api):
    text = "line\n" * 300
    await sender.send([Reply(text, [[Button("Back", "cmd:help")]], image=Attachment("c.png", PNG, "image/png"))])
    photo, message = bot_api.sent_to(CHAT)
    assert "caption" not in photo.params and photo.markup == {}
    assert message.text == text
    assert message.labels == ["Back"]


async def test_a_text_over_4096_characters_is_split_at_line_ends_with_buttons_on_the_last():
    lines = [f"{n:04d} " + "x" * 95 for n in range(100)]
    parts = split_text("\n".join(lines), MAX_TEXT)
    assert len(parts) == 3 and all(len(part) <= 4096 for part in parts)
    assert "\n".join(parts) == "\n".join(lines)
    assert split_text("y" * 5000, MAX_TEXT) == ["y" * 4096, "y" * 904]


async def test_a_long_paragraph_is_split_between_words_not_inside_one(sender, bot_api):
    paragraph = " ".join(f"слово{n}" for n in range(800))  # about 7,800 characters and no line break
    await sender.send([Reply(paragraph, [[Button("Back", "cmd:help")]])])
    first, second = bot_api.sent_to(CHAT)
    assert len(first.text) <= 4096 and first.text.endswith(("0", "1", "2", "3", "4", "5", "6", "7", "8", "9"))
    assert f"{first.text} {second.text}" == paragraph
    assert first.markup == {} and second.labels == ["Back"]


async def test_a_forbidden_send_marks_the_chat_unreachable_and_stops(sender, bot_api, kabinet, monkeypatch):
    marked = []

    async def set_reachable(channel, chat_id, reachable):
        marked.append((channel, chat_id, reachable))

    monkeypatch.setattr(kabinet, "set_reachable", set_reachable)
    bot_api.blocked.add(CHAT)
    assert await sender.send([Reply("one"), Reply("two")]) is False
    assert len(bot_api.calls_to("sendMessage")) == 1
    assert marked == [("telegram", str(CHAT), False)]


async def test_an_answer_waits_out_a_short_429_once(sender, bot_api):
    bot_api.fail("sendMessage", 429, "Too Many Requests: retry after 1", retry_after=1)
    assert await sender.send([Reply("one"), Reply("two")]) is True
    assert [message.text for message in bot_api.sent_to(CHAT)] == ["one", "two"]


@pytest.fixture
async def channel(bot_api, kabinet):
    from handlers.telegram.channel import TelegramChannel, TelegramConfig

    channel = TelegramChannel(TelegramConfig(TOKEN, bot_api.base), kabinet)
    yield channel
    await channel.bot.session.close()


@pytest.mark.parametrize("code, description, parameters, refusal", [
    (429, "Too Many Requests: retry after 7", {"retry_after": 7}, "RetryAfter"),
    (403, "Forbidden: bot was blocked by the user", {}, "ChatUnreachable"),
    (502, "Bad Gateway", {}, "TransientFailure"),
    (400, "Bad Request: chat not found", {}, "DeliveryError"),
])
async def test_outbox_delivery_turns_telegrams_refusals_into_core_delivery_errors(
    channel, bot_api, code, description, parameters, refusal,
):
    from core import notifications

    bot_api.fail("sendMessage", code, description, **parameters)
    with pytest.raises(notifications.DeliveryError) as raised:
        await channel.deliver(str(CHAT), [Reply("Your invoice for October is ready.")])
    assert type(raised.value).__name__ == refusal
    if refusal == "RetryAfter":
        assert raised.value.seconds == 7
    await channel.deliver(str(CHAT), [Reply("Your invoice for October is ready.")])
    assert bot_api.sent_to(CHAT)[-1].text == "Your invoice for October is ready."


async def test_the_channel_builds_each_bot_api_response_model_once(channel, bot_api):
    # pydantic keeps Response[T] weakly; aiogram asks for it on every call, so without the channel
    # holding it each call after a garbage collection built the model class again (CPU per update).
    import gc
    import weakref

    from aiogram.methods import Response
    from aiogram.types import Message

    # (a text goes as JSON and its answer is not read; a picture is sent by aiogram's SendPhoto)
    chart = Reply("Consumption in 2026", image=Attachment("chart.png", PNG, "image/png"))
    gc.collect()
    model = weakref.ref(Response[Message])
    await channel.deliver(str(CHAT), [chart])
    gc.collect()
    assert model() is not None and Response[Message] is model()
    assert bot_api.sent_to(CHAT)[-1].method == "sendPhoto"
