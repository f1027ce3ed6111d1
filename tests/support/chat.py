"""One way to talk to the bot in every channel: the ChatDriver protocol and the transcript its drivers keep.

A journey written against ChatDriver runs unchanged through the console, Telegram and Viber drivers, and
asserts what the consumer sees there: the texts of the bot's messages and the buttons they can press.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from core.messages import Reply


@dataclass(frozen=True)
class Seen:
    """One message as the consumer sees it: its text and the labels of the buttons they can press on it."""

    text: str
    buttons: list[str] = field(default_factory=list)
    document: str | None = None  # the name of a file that came with it
    links: list[tuple[str, str]] = field(default_factory=list)  # link buttons as (label, address)

    @classmethod
    def of(cls, reply: Reply) -> "Seen":
        return cls(plain(reply.text), [button.label for button in reply.all_buttons() if not button.url],
                   reply.document.filename if reply.document else None,
                   [(plain(button.label), button.url) for button in reply.all_buttons() if button.url])


def plain(text: str) -> str:
    # Numbers are grouped with no-break spaces; the tests read them as plain spaces.
    return (text or "").replace("\xa0", " ")


class Sender(Protocol):
    async def deliver(self, external_id: str, replies: list[Reply]) -> None: ...


class ChatDriver(Protocol):
    """A consumer in one chat: say this, press that, send a photo, a file or a phone number, read the answers."""

    channel: str  # the channel's name, as the outbox dispatcher knows it
    external_id: str  # the chat's id in that channel, as text
    sender: Sender  # what the dispatcher hands this channel's notices to

    async def say(self, text: str) -> str: ...
    async def press(self, label: str | None = None, *, action: str | None = None) -> str: ...
    async def photo(self, content: bytes) -> str: ...
    async def document(self, content: bytes, name: str) -> str: ...
    async def contact(self, phone: str) -> str: ...
    async def arrived(self) -> str: ...

    @property
    def replies(self) -> list[str]: ...
    @property
    def text(self) -> str: ...
    @property
    def buttons(self) -> list[str]: ...
    @property
    def documents(self) -> list[str]: ...
    @property
    def links(self) -> list[tuple[str, str]]: ...


class Transcript:
    """The bookkeeping every driver shares: what the chat has received, and which of it is new."""

    def __init__(self) -> None:
        self.read = 0
        self.latest: list[Seen] = []

    def received(self) -> list[Seen]:
        """Every message the chat has received so far, oldest first."""
        raise NotImplementedError

    def take_new(self) -> str:
        """The messages since the last look become the latest; returns their texts."""
        messages = self.received()
        self.latest = messages[self.read:]
        self.read = len(messages)
        return self.text

    async def arrived(self) -> str:
        """Messages that came outside a turn (a notice from the outbox), since the last look."""
        return self.take_new()

    @property
    def replies(self) -> list[str]:
        """The texts of the latest messages (the answer to the last thing the consumer did)."""
        return [message.text for message in self.latest if message.text]

    @property
    def text(self) -> str:
        return "\n".join(self.replies)

    @property
    def buttons(self) -> list[str]:
        """The labels a consumer can press on the last message received (links are not choices)."""
        return self.latest[-1].buttons if self.latest else []

    @property
    def documents(self) -> list[str]:
        """The names of the files among the latest messages."""
        return [message.document for message in self.latest if message.document]

    @property
    def links(self) -> list[tuple[str, str]]:
        """The links (label, address) on the last message received: a Pay button opens one."""
        return self.latest[-1].links if self.latest else []
