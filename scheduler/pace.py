"""Sending pace: how fast one messenger (and one chat) may be sent to.

One process keeps the pace in memory. Several `kabinet run` processes share it through Redis
(KABINET_REDIS_URL): a small Lua script hands out send slots from one clock, so together they keep to
the messenger's limit instead of each taking all of it.
"""
from __future__ import annotations

import asyncio
import logging
import time
from typing import Callable, Protocol

log = logging.getLogger(__name__)

# Returns the seconds to wait for the next slot of KEYS[1], slots ARGV[1] seconds apart, by Redis's clock.
_TAKE_SLOT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local nxt = tonumber(redis.call('GET', KEYS[1]) or '0')
local slot = math.max(now, nxt)
redis.call('SET', KEYS[1], tostring(slot + tonumber(ARGV[1])), 'PX', 600000)
return tostring(slot - now)
"""
# Pushes KEYS[1]'s next slot at least ARGV[1] seconds into the future (a 429's retry_after).
_PAUSE = """
local t = redis.call('TIME')
local until_ = tonumber(t[1]) + tonumber(t[2]) / 1000000 + tonumber(ARGV[1])
local nxt = tonumber(redis.call('GET', KEYS[1]) or '0')
if until_ > nxt then redis.call('SET', KEYS[1], tostring(until_), 'PX', 600000) end
return 1
"""


class Pace(Protocol):
    async def wait(self, key: str, interval: float) -> None: ...

    async def pause(self, key: str, seconds: float) -> None: ...


class LocalPace:
    """Slots `interval` seconds apart for each key, evenly spaced (no bursts: a burst is what earns a 429)."""

    def __init__(self) -> None:
        self.next_slot: dict[str, float] = {}

    async def wait(self, key: str, interval: float) -> None:
        now = time.monotonic()
        slot = max(self.next_slot.get(key, 0.0), now)
        self.next_slot[key] = slot + interval
        if len(self.next_slot) > 200_000:
            self.next_slot = {k: v for k, v in self.next_slot.items() if v > now}
        if slot > now:
            await asyncio.sleep(slot - now)

    async def pause(self, key: str, seconds: float) -> None:
        self.next_slot[key] = max(self.next_slot.get(key, 0.0), time.monotonic() + seconds)


class RedisPace:
    """The same slots, shared by every process that talks to the same Redis."""

    def __init__(self, url: str, prefix: str = "kabinet:pace:") -> None:
        import redis.asyncio

        # Short timeouts: a Redis that does not answer must not hold up sending for long (SharedPace falls back).
        self.redis = redis.asyncio.from_url(url, socket_connect_timeout=2, socket_timeout=2)
        self.prefix = prefix
        self._take = self.redis.register_script(_TAKE_SLOT)
        self._pause = self.redis.register_script(_PAUSE)

    async def wait(self, key: str, interval: float) -> None:
        delay = float(await self._take(keys=[self.prefix + key], args=[interval]))
        if delay > 0:
            await asyncio.sleep(delay)

    async def pause(self, key: str, seconds: float) -> None:
        await self._pause(keys=[self.prefix + key], args=[seconds])

    async def ping(self) -> None:
        await self.redis.ping()

    async def close(self) -> None:
        await self.redis.aclose()


class SharedPace:
    """Redis's shared pace once Redis answers (`connect`), the in-process one until then and whenever a call to
    Redis fails: an outage of Redis slows nothing down, it only stops the processes sharing their pace.
    `lost` is called on such a failure (the server then connects again in the background)."""

    def __init__(self, redis: RedisPace, lost: Callable[[], object] = lambda: None) -> None:
        self.redis = redis
        self.local = LocalPace()
        self.lost = lost
        self.shared = False

    async def connect(self) -> None:
        await self.redis.ping()
        self.shared = True

    async def wait(self, key: str, interval: float) -> None:
        if self.shared:
            try:
                return await self.redis.wait(key, interval)
            except Exception as exc:  # redis raises its own errors and OSError alike
                self._fall_back(exc)
        await self.local.wait(key, interval)

    async def pause(self, key: str, seconds: float) -> None:
        await self.local.pause(key, seconds)
        if self.shared:
            try:
                await self.redis.pause(key, seconds)
            except Exception as exc:
                self._fall_back(exc)

    def _fall_back(self, exc: Exception) -> None:
        if self.shared:
            self.shared = False
            log.error("redis failed (%s); the send pace is this process's own until it answers again",
                      type(exc).__name__)
            self.lost()

    async def close(self) -> None:
        await self.redis.close()
