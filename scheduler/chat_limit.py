"""The per-chat update limit (core.chat_limit.ChatLimit): in this process's memory, or shared through Redis.

Windows are fixed minutes numbered from the clock, so every process counts a chat's minute alike. Without
KABINET_REDIS_URL each process counts alone (with N processes behind a balancer a chat gets up to N times
the limit); with it they count together, and while Redis cannot be reached each falls back to its own count.
A chat's photos are limited by a second count of the same kind (`photos`), kept apart from its updates.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from core.chat_limit import WINDOW_SECONDS, Admission, admission, window_of

log = logging.getLogger(__name__)

# KEYS[1]: the chat's updates in the window; KEYS[2]: delivery keys admitted in it.
# ARGV: the limit, the keys' lifetime in seconds, the delivery key ('' when there is none).
# Returns 0 for a repeat of an admitted delivery (not counted again), else the update's count.
_COUNT = """
if ARGV[3] ~= '' and redis.call('SISMEMBER', KEYS[2], ARGV[3]) == 1 then return 0 end
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('EXPIRE', KEYS[1], ARGV[2]) end
if ARGV[3] ~= '' and n <= tonumber(ARGV[1]) then
  redis.call('SADD', KEYS[2], ARGV[3])
  redis.call('EXPIRE', KEYS[2], ARGV[2])
end
return n
"""
MAX_CHATS = 100_000  # chats counted in memory before the finished windows are dropped
PHOTOS_PREFIX = "kabinet:photos:"


@dataclass
class _Count:
    window: int
    updates: int = 0
    admitted_keys: set[str] = field(default_factory=set)


class LocalChatLimit:
    """Each chat's updates of the current minute, counted in this process."""

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self.counts: dict[tuple[str, str], _Count] = {}
        self.pruned_in = -1

    async def admit(self, channel: str, chat_id: str, delivery_key: str | None, at: datetime) -> Admission:
        window = window_of(at)
        count = self.counts.get((channel, chat_id))
        if count is None or count.window != window:
            if len(self.counts) >= MAX_CHATS and self.pruned_in < window:  # at most once a window
                self.counts = {chat: c for chat, c in self.counts.items() if c.window >= window}
                self.pruned_in = window
            count = self.counts[(channel, chat_id)] = _Count(window)
        if delivery_key is not None and delivery_key in count.admitted_keys:
            return Admission.ADMITTED  # the turn's transaction recognises the repeat
        count.updates += 1
        verdict = admission(count.updates, self.per_minute)
        if verdict is Admission.ADMITTED and delivery_key is not None:
            count.admitted_keys.add(delivery_key)
        return verdict

    def photos(self, per_minute: int) -> LocalChatLimit:
        """Each chat's photos a minute, counted apart from its updates."""
        return LocalChatLimit(per_minute)


class RedisChatLimit:
    """The same count, shared by every process that talks to the same Redis (one Lua script per update)."""

    def __init__(self, url: str, per_minute: int, prefix: str = "kabinet:chat:", *, client=None) -> None:
        import redis.asyncio

        # Short timeouts: a Redis that hangs must not hold consumers' updates; the local count takes over.
        self.redis = client or redis.asyncio.from_url(url, socket_connect_timeout=1, socket_timeout=1)
        self.url = url
        self.per_minute = per_minute
        self.prefix = prefix
        self.local = LocalChatLimit(per_minute)
        self.unreachable = False
        self._count = self.redis.register_script(_COUNT)

    async def admit(self, channel: str, chat_id: str, delivery_key: str | None, at: datetime) -> Admission:
        import redis

        # The hash tag keeps a chat's two keys in one slot of a Redis cluster.
        key = f"{self.prefix}{{{channel}:{chat_id}}}:{window_of(at)}"
        try:
            count = int(await self._count(keys=[key, key + ":keys"],
                                          args=[self.per_minute, 2 * WINDOW_SECONDS, delivery_key or ""]))
        except (redis.RedisError, OSError) as exc:
            if not self.unreachable:
                self.unreachable = True
                log.warning("Redis (KABINET_REDIS_URL) cannot be reached (%s): chats are limited by this "
                            "process's own count until it is back", type(exc).__name__)
            return await self.local.admit(channel, chat_id, delivery_key, at)
        if self.unreachable:
            self.unreachable = False
            log.warning("Redis (KABINET_REDIS_URL) is back: chats are limited by the shared count again")
        return Admission.ADMITTED if count == 0 else admission(count, self.per_minute)

    def photos(self, per_minute: int) -> RedisChatLimit:
        """Each chat's photos a minute, counted apart from its updates through this limit's connection (closed
        with this one)."""
        return RedisChatLimit(self.url, per_minute, PHOTOS_PREFIX, client=self.redis)

    async def close(self) -> None:
        await self.redis.aclose()
