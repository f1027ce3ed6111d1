"""The console channel as tests drive it: `Talk` for core conversations, `ConsoleDriver` for the journeys."""
from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Awaitable

from core.conversation import Kabinet
from core.messages import EventKind, Incoming, Reply
from handlers.console.channel import CHANNEL, ConsoleChannel
from tests.support.chat import Seen, Transcript, plain


class Talk:
    """A conversation through the console channel, read like one: `await talk.say("/balance")` → the bot's text."""

    def __init__(self, kabinet: Kabinet, chat_id: str = "c1", language: str | None = "en", files: Path | None = None):
        self.out = io.StringIO()
        self.channel = ConsoleChannel(kabinet, chat_id=chat_id, language=language, out=self.out,
                                      files_dir=files or Path("var/test-out"))
        self.replies: list[Reply] = []

    async def say(self, line: str) -> str:
        self.replies = await self.channel.send(line)
        return self.text

    async def press(self, label: str | None = None, *, action: str | None = None) -> str:
        """Press a button of the last reply by its label, or send a button's action as a messenger delivers
        it (e.g. from a message sent before a restart)."""
        if action is None:
            shown = {button.label: button.action for button in self.channel.buttons}
            assert label in shown, f"no button {label!r} in {list(shown)}"
            action = shown[label]
        return await self._answer(Incoming.pressed(CHANNEL, self.channel.chat_id, action, self.channel.language))

    async def _answer(self, event: Incoming) -> str:
        self.replies = await self.channel.kabinet.handle(event)
        await self.channel.show(self.replies)  # the buttons now are this reply's
        return self.text

    @property
    def text(self) -> str:
        return "\n".join(plain(reply.text) for reply in self.replies)

    @property
    def buttons(self) -> list[str]:
        return [button.label for button in self.channel.buttons]

    async def photo(self, path: Path) -> str:
        return await self.say(f"/photo {path}")

    async def contact(self, phone: str) -> str:
        """A shared contact, as Telegram and Viber deliver one (a typed line cannot be one)."""
        return await self._answer(Incoming(CHANNEL, self.channel.chat_id, EventKind.CONTACT, phone=phone,
                                           language=self.channel.language))


async def linked(talk: Talk, account: str = "010000012345", surname: str = "Шевченко") -> str:
    """Consent (when asked) and link, the way a consumer does it; returns the bot's last answer."""
    text = await talk.say(f"/link {account} {surname}")
    if talk.channel.buttons and talk.channel.buttons[0].action == "consent:yes":
        text = await talk.say("1")
    assert "is linked" in text or "is already linked" in text, text
    return text


class ConsoleDriver(Transcript):
    """A ChatDriver for the console channel (a Talk underneath); the outbox's notices to the chat land in it."""

    channel = CHANNEL

    def __init__(self, kabinet: Kabinet, files: Path, chat_id: str = "c1", language: str | None = "uk") -> None:
        super().__init__()
        self.talk = Talk(kabinet, chat_id=chat_id, language=language, files=files)
        self.files = files
        self.external_id = chat_id
        self.sender = self
        self.messages: list[Seen] = []
        self.notice_buttons: dict[str, str] = {}  # label -> action of a notice that came after the last turn

    def received(self) -> list[Seen]:
        return list(self.messages)

    async def deliver(self, external_id: str, replies: list[Reply]) -> None:
        """core.notifications.Sender: what the dispatcher sends this chat appears in it."""
        assert external_id == self.external_id, external_id
        self.messages.extend(Seen.of(reply) for reply in replies)
        if replies:
            self.notice_buttons = {b.label: b.action for b in replies[-1].all_buttons() if not b.url}

    async def _turn(self, answered: Awaitable[str]) -> str:
        self.notice_buttons = {}
        await answered
        self.messages.extend(Seen.of(reply) for reply in self.talk.replies)
        return self.take_new()

    async def say(self, text: str) -> str:
        return await self._turn(self.talk.say(text))

    async def press(self, label: str | None = None, *, action: str | None = None) -> str:
        if action is None and label in self.notice_buttons:  # a button of the notice the console printed last
            action, label = self.notice_buttons[label], None
        return await self._turn(self.talk.press(label, action=action))

    async def photo(self, content: bytes) -> str:
        path = self.files / f"sent-{len(self.messages)}.jpg"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        return await self._turn(self.talk.photo(path))

    async def document(self, content: bytes, name: str) -> str:
        path = self.files / f"sent-{len(self.messages)}-{name}"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        return await self._turn(self.talk.say(f"/file {path}"))

    async def contact(self, phone: str) -> str:
        return await self._turn(self.talk.contact(phone))


async def order(talk: Talk, service: str = "Noise in the electricity meter", comment: str = "Skip") -> str:
    """Order a service with one linked account; returns the order's number."""
    await talk.say("/service")
    assert "Which service" in talk.text
    assert "Enter a contact phone" in await talk.say(service)
    assert "Add a comment" in await talk.say("+380 50 123 45 67")
    text = await talk.say(comment)
    assert "is sent" in text, text
    return re.search(r"Order No\. (\d+)", text).group(1)
