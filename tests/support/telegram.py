"""Kabinet's Telegram channel on a webhook, against the stand-in Bot API server (tests/telegram_api.py)."""
from __future__ import annotations

from aiohttp import web

from bot.server import make_web_app
from handlers.telegram.channel import WEBHOOK_PATH, TelegramChannel, TelegramConfig
from tests.support.chat import Seen, Transcript, plain
from tests.support.waiting import free_port
from tests.telegram_api import TOKEN, BotAPI, Call, TelegramChat, TelegramUser, webhook_delivery

SECRET = "s3cret-Token_for-tests"
JPEG = b"\xff\xd8\xff\xe0" + b"meter photo" * 100 + b"\xff\xd9"


class Webhook:
    """Kabinet's Telegram channel in webhook mode, on the shared web app, listening on 127.0.0.1."""

    def __init__(self, api: BotAPI, kabinet, database, secret: str | None = SECRET) -> None:
        self.api = api
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}{WEBHOOK_PATH}"
        self.channel = TelegramChannel(TelegramConfig(TOKEN, api.base, self.url, secret), kabinet)
        self.app = make_web_app(database, kabinet)
        self.channel.mount(self.app)

    async def __aenter__(self) -> "Webhook":
        self.runner = web.AppRunner(self.app, shutdown_timeout=1)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", self.port).start()
        await self.channel.start()
        assert await self.channel.registration.task  # set in the background
        return self

    async def __aexit__(self, *exc_info) -> None:
        await self.channel.stop()
        await self.runner.cleanup()

    def chat(self, user: TelegramUser, secret: str | None = SECRET) -> TelegramChat:
        return TelegramChat(self.api, user, webhook_delivery(self.url, secret, self.api))


async def link(chat: TelegramChat) -> None:
    """Consent through the inline button and link the demo account, the way a consumer does it."""
    assert "personal account" in await chat.say("/start", replies=2)
    assert "consent" in await chat.press("Link account")
    assert chat.last.labels == ["I agree", "I do not agree"]
    assert "Consent recorded" in await chat.press("I agree", replies=2)
    assert "surname" in await chat.say("01 000 0012345")
    assert "Account 010000012345 is linked" in await chat.say("Шевченко")


def seen(call: Call) -> Seen:
    keys = [key for row in call.markup.get("inline_keyboard", []) for key in row]
    return Seen(plain(call.text), [label for label, data in call.buttons if data], call.file_names.get("document"),
                [(plain(key["text"]), key["url"]) for key in keys if "url" in key])


class TelegramDriver(Transcript):
    """A ChatDriver for a private Telegram chat: updates POSTed to the real webhook, answers read from the
    stand-in Bot API server. The webhook answers after the turn's replies are sent, so no waiting is needed."""

    channel = "telegram"

    def __init__(self, hook: Webhook, user: TelegramUser) -> None:
        super().__init__()
        self.api = hook.api
        self.chat = hook.chat(user)
        self.user = user
        self.external_id = str(user.id)
        self.sender = hook.channel

    def received(self) -> list[Seen]:
        return [seen(call) for call in self.chat.messages]

    async def _send(self, update: dict) -> str:
        status = await self.chat.deliver(update)
        assert status == 200, f"the webhook answered {status}"
        return self.take_new()

    async def say(self, text: str) -> str:
        return await self._send(self.user.text(text))

    async def press(self, label: str | None = None, *, action: str | None = None) -> str:
        """Press a button on the latest message that has it; an action is pressed on the last message."""
        messages = self.chat.messages[:self.read]
        assert messages, "nothing to press: the bot has sent no message"
        if action is not None:
            return await self._send(self.user.press(messages[-1], action))
        for message in reversed(messages):
            for button_label, data in message.buttons:
                if button_label == label and data:
                    return await self._send(self.user.press(message, data))
        raise AssertionError(f"no button {label!r} in {[m.labels for m in messages]}")

    async def photo(self, content: bytes) -> str:
        file_id = self.api.add_file(content)
        return await self._send(self.user.photo(file_id, len(content)))

    async def document(self, content: bytes, name: str) -> str:
        file_id = self.api.add_file(content, name=name)
        return await self._send(self.user.document(file_id, len(content), file_name=name, mime_type="application/pdf"))

    async def contact(self, phone: str) -> str:
        return await self._send(self.user.contact(phone))
