"""Updates of one chat handled one at a time and in the messenger's order, while other chats go on.

A process may hold several updates of one chat at once: a getUpdates batch (aiogram handles each update as
its own task, and tasks need not reach the core in update_id order), parallel webhook requests, Viber
callbacks. Each update takes a place in its chat's line, ordered by the messenger's sequence number
(Telegram's update_id, Viber's timestamp), and is handled once every earlier place is done. Only updates
this process holds are ordered: what another process handles, or what arrives after a later update of its
chat was handled, is not waited for (the README's Telegram section says what each mode guarantees).
"""
from __future__ import annotations

import asyncio
import bisect
import itertools
import logging
import time
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import AsyncIterator, Callable, Hashable

log = logging.getLogger(__name__)

# A place queued ahead (a polled update) that its update never comes to claim is given up after this long,
# so that a lost update cannot stop its chat for good.
UNCLAIMED_SECONDS = 30.0


@dataclass(order=True)
class _Place:
    sequence: float
    arrival: int  # equal sequence numbers (a repeated delivery) keep their order of arrival
    queued_at: float = field(compare=False)
    claimed: bool = field(default=False, compare=False)


@dataclass
class _Line:
    places: list[_Place] = field(default_factory=list)
    running: _Place | None = None
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    def wake(self) -> None:
        self.changed.set()
        self.changed = asyncio.Event()


class ChatLines:
    """One line per chat with updates in this process; a chat's line is gone once it is empty."""

    def __init__(self, unclaimed_seconds: float = UNCLAIMED_SECONDS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._lines: dict[Hashable, _Line] = {}
        self._arrivals = itertools.count()
        self.unclaimed_seconds = unclaimed_seconds
        self.clock = clock

    def __len__(self) -> int:
        """Chats with an update in line or being handled."""
        return len(self._lines)

    def waiting(self, chat: Hashable) -> int:
        """Updates of the chat in this process: the one being handled and those behind it."""
        line = self._lines.get(chat)
        return len(line.places) if line else 0

    def queue(self, chat: Hashable | None, sequence: float) -> None:
        """Take an update's place now, before it is handled: called as a polled batch arrives, so that no task of
        the batch can overtake an earlier update of its chat by starting first. `turn` claims the place."""
        if chat is not None:
            self._queue(chat, sequence)

    @asynccontextmanager
    async def turn(self, chat: Hashable | None, sequence: float) -> AsyncIterator[None]:
        """Wait until every earlier update of the chat in this process is handled, then hold the chat's turn."""
        if chat is None:
            yield
            return
        line = self._lines.get(chat)
        place = next((p for p in line.places if not p.claimed and p.sequence == sequence), None) if line else None
        if place is None:
            place = self._queue(chat, sequence)
        line = self._lines[chat]
        place.claimed = True
        try:
            while not self._may_go(line, place):
                await self._wait(line)
            line.running = place
            yield
        finally:
            if line.running is place:
                line.running = None
            line.places.remove(place)
            line.wake()
            if not line.places and self._lines.get(chat) is line:
                del self._lines[chat]

    def _queue(self, chat: Hashable, sequence: float) -> _Place:
        place = _Place(sequence, next(self._arrivals), self.clock())
        bisect.insort(self._lines.setdefault(chat, _Line()).places, place)
        return place

    def _may_go(self, line: _Line, place: _Place) -> bool:
        now = self.clock()
        while (head := line.places[0]) is not place and not head.claimed \
                and now - head.queued_at >= self.unclaimed_seconds:
            log.warning("update %s never came to its place in line; the updates behind it go on", head.sequence)
            line.places.pop(0)
        return line.running is None and line.places[0] is place

    async def _wait(self, line: _Line) -> None:
        head = line.places[0]
        timeout = None if head.claimed else max(0.0, head.queued_at + self.unclaimed_seconds - self.clock())
        try:
            await asyncio.wait_for(line.changed.wait(), timeout)
        except asyncio.TimeoutError:
            pass
