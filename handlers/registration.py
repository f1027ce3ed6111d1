"""Setting something up with an outside service (a webhook, a command menu, a Redis connection) in the background,
retried with capped exponential backoff and jitter until it works, so that no outage of theirs keeps the web
server from serving the rest."""
from __future__ import annotations

import asyncio
import logging
import random
from typing import Awaitable, Callable

log = logging.getLogger(__name__)

REGISTERING, READY, FAILED = "registering", "ready", "failed"
FIRST_DELAY = 1.0  # seconds before the second attempt
MAX_DELAY = 60.0  # the cap of the doubling


class Registration:
    """One set-up step, retried until it succeeds or fails for good (`final(exc)`, e.g. a token refused).
    `state` is `registering`, `ready` or `failed`; each failed attempt is logged once, in one line."""

    def __init__(self, name: str, attempt: Callable[[], Awaitable[object]], *,
                 final: Callable[[Exception], bool] = lambda exc: False) -> None:
        self.name = name
        self.attempt = attempt
        self.final = final
        self.state = REGISTERING
        self.attempts = 0
        self.task: asyncio.Task[bool] | None = None

    def start(self) -> asyncio.Task[bool]:
        """Run in the background (again, if it ran before); the running task if there is one."""
        if self.task is None or self.task.done():
            self.state = REGISTERING
            self.task = asyncio.create_task(self.run(), name=f"register {self.name}")
        return self.task

    async def run(self) -> bool:
        delay = FIRST_DELAY
        while True:
            self.attempts += 1
            try:
                await self.attempt()
            except Exception as exc:
                if self.final(exc):
                    self.state = FAILED
                    log.error("%s failed and is not retried: %s", self.name, describe_error(exc))
                    return False
                pause = random.uniform(delay / 2, delay)  # jitter: processes started together do not retry together
                log.warning("%s failed (attempt %d): %s; next attempt in %.1f s",
                            self.name, self.attempts, describe_error(exc), pause)
                await asyncio.sleep(pause)
                delay = min(delay * 2, MAX_DELAY)
                continue
            self.state = READY
            # A recovery is worth a line at the default level; a first-time success is routine.
            log.log(logging.WARNING if self.attempts > 1 else logging.INFO, "%s done (attempt %d)",
                    self.name, self.attempts)
            return True

    async def stop(self) -> None:
        if self.task is not None and not self.task.done():
            self.task.cancel()
            await asyncio.gather(self.task, return_exceptions=True)


def describe_error(exc: Exception) -> str:
    """The exception's type and its message cut short: never a traceback, and no request it may carry."""
    message = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {message[:200]}" if message else type(exc).__name__

