"""The one contract every messenger adapter keeps, in the spirit of Rasa's OutputChannel.

The pipeline is written here once: a turn's replies sent in order, what the messenger did not take handed
to the outbox, a chat that blocked the bot marked so, the outbox's deliveries with the messenger's refusals
as core's DeliveryErrors, a short rate limit waited out once while a consumer waits, updates in flight
tracked so that stopping lets them finish, and a photo over the messenger's limit refused politely. A
messenger supplies only its primitives: `send_reply` (text with buttons, a picture, a document, laid out
the way its API takes them), `download_photo`, and `refusal` (its errors as core's).
"""
from __future__ import annotations

import asyncio
import logging
from abc import ABC, abstractmethod
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, AsyncIterator, ClassVar

from core.conversation import Kabinet
from core.messages import Reply
from core.notifications import ChatUnreachable, DeliveryError, RetryAfter
from handlers.chat_order import ChatLines

log = logging.getLogger(__name__)

MEGABYTE = 1024 * 1024


class PhotoTooLarge(Exception):
    """A consumer's photo over what the channel takes; the consumer is told the limit in megabytes."""

    def __init__(self, limit_bytes: int) -> None:
        super().__init__(f"a photo over {limit_bytes} bytes")
        self.megabytes = limit_bytes // MEGABYTE


def split_text(text: str, limit: int) -> list[str]:
    """Pieces of at most `limit` characters, cut at a paragraph, a line or a space in the second half of the
    piece (so that no piece is cut short for a break far back), else hard; the break itself is dropped."""
    pieces: list[str] = []
    rest = text
    while len(rest) > limit:
        window = rest[:limit]
        cut = next((at for at in (window.rfind(sep) for sep in ("\n\n", "\n", " ")) if at >= limit // 2), limit)
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest or not pieces:
        pieces.append(rest)
    return pieces


@dataclass(frozen=True)
class Recipient:
    """Whom a turn's replies go to, and how."""

    chat_id: str
    language: str | None = None  # the consumer's, for the channel's own words; None: the default language
    waiting: bool = True  # a consumer waits for the answer; False for the outbox, whose dispatcher paces itself
    after_contact: bool = False  # the turn answers a shared phone number (Telegram then removes its keyboard)


class OutputChannel(ABC):
    """The shared pipeline; a messenger's adapter subclasses it and supplies the primitives below."""

    name: ClassVar[str]  # the channel as core keys a chat: (name, chat id)
    photo_too_large_key: ClassVar[str]  # the Fluent key telling a consumer their photo is over the limit
    answer_wait: ClassVar[float] = 0.0  # seconds of a rate limit a waiting consumer's answer sits out, once

    def __init__(self, kabinet: Kabinet) -> None:
        self.kabinet = kabinet
        self.lines = ChatLines()
        self._in_flight: set[asyncio.Task[Any]] = set()

    # ----- the primitives

    @abstractmethod
    async def send_reply(self, to: Recipient, reply: Reply, *, first: bool) -> None:
        """Send one reply (its text with its buttons, its picture, its document); the messenger's errors raised."""

    @abstractmethod
    async def download_photo(self, reference: str, declared_size: int | None) -> bytes:
        """A consumer's photo; PhotoTooLarge over the channel's limit."""

    @abstractmethod
    def refusal(self, exc: Exception) -> DeliveryError | None:
        """The messenger's error as core's DeliveryError; None for an error that is not the messenger's."""

    # ----- the pipeline

    def t(self, language: str | None, key: str, **args: object) -> str:
        """One of the channel's own sentences in the consumer's language."""
        return self.kabinet.translator(self.kabinet.translator.language_for(language), key, **args)

    async def answer(self, to: Recipient, replies: list[Reply], *, keep_unsent: bool = False) -> bool:
        """Answer a consumer: the replies in order, stopping at the first refused, so that none arrives out of
        context. False when the messenger refused: a chat that blocked the bot is marked unreachable; with
        keep_unsent (the turn was committed), what the messenger did not take goes to the outbox."""
        sent = 0
        try:
            for index, reply in enumerate(replies):
                await self._send_patiently(to, reply, first=index == 0)
                sent += 1
        except Exception as exc:
            refused = self.refusal(exc)
            if refused is None:
                raise
            if isinstance(refused, ChatUnreachable):
                log.warning("%s chat %s cannot be reached (%s); marked unreachable", self.name, to.chat_id, refused)
                await self.kabinet.set_reachable(self.name, to.chat_id, False)
                return False
            log.error("%s chat %s: sending a reply failed: %s", self.name, to.chat_id, refused)
            if keep_unsent:
                await self.kabinet.keep_unsent(self.name, to.chat_id, replies[sent:])
            return False
        return True

    async def _send_patiently(self, to: Recipient, reply: Reply, *, first: bool) -> None:
        try:
            await self.send_reply(to, reply, first=first)
        except Exception as exc:
            refused = self.refusal(exc)
            if not (isinstance(refused, RetryAfter) and refused.seconds <= self.answer_wait):
                raise
            log.warning("%s asks to wait %s s before answering chat %s", self.name, refused.seconds, to.chat_id)
            await asyncio.sleep(refused.seconds)
            await self.send_reply(to, reply, first=first)

    async def deliver(self, external_id: str, replies: list[Reply]) -> None:
        """core.notifications.Sender for the outbox dispatcher: the messenger's refusals as core's DeliveryErrors.
        Nothing is waited out here: the dispatcher paces and retries itself."""
        to = Recipient(external_id, waiting=False)
        try:
            for index, reply in enumerate(replies):
                await self.send_reply(to, reply, first=index == 0)
        except Exception as exc:
            refused = self.refusal(exc)
            if refused is None:
                raise
            raise refused from exc

    async def refuse_photo(self, to: Recipient, too_large: PhotoTooLarge) -> None:
        await self.answer(to, [Reply(self.t(to.language, self.photo_too_large_key, megabytes=too_large.megabytes))])

    @asynccontextmanager
    async def in_flight(self) -> AsyncIterator[None]:
        """Around the handling of one update, so that `settle` lets it finish before the channel stops."""
        task = asyncio.current_task()
        assert task is not None
        self._in_flight.add(task)
        try:
            yield
        finally:
            self._in_flight.discard(task)

    async def settle(self, timeout: float) -> None:
        """Wait up to `timeout` seconds for the updates in flight (their answers still use the API session)."""
        if self._in_flight:
            await asyncio.wait(set(self._in_flight), timeout=timeout)
