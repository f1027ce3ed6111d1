"""How many updates one chat may send: a port, so that several processes can share one limit.

The check runs before a turn's transaction: a chat flooding the bot waits on nothing and holds no database
connection. bot/app.py plugs in an implementation (scheduler/chat_limit.py: in process memory, or Redis).
"""
from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Protocol

WINDOW_SECONDS = 60


class Admission(str, Enum):
    ADMITTED = "admitted"
    SLOW_DOWN = "slow-down"  # the first update over the limit in its window: the chat is told, once
    DROPPED = "dropped"  # the rest of that window: no answer at all


class ChatLimit(Protocol):
    async def admit(self, channel: str, chat_id: str, delivery_key: str | None, at: datetime) -> Admission:
        """Count the update (a repeated delivery key of an admitted one is not counted again) and judge it."""


def window_of(at: datetime) -> int:
    """The number of the fixed window `at` falls in; every process numbers them alike."""
    return int(at.timestamp()) // WINDOW_SECONDS


def admission(count: int, limit: int) -> Admission:
    """The judgement of a chat's `count`th update in a window."""
    if count <= limit:
        return Admission.ADMITTED
    return Admission.SLOW_DOWN if count == limit + 1 else Admission.DROPPED
