"""Waiting for something that happens elsewhere: a port nobody listens on, a condition that comes true."""
from __future__ import annotations

import asyncio
import inspect
import socket
from typing import Any, Awaitable, Callable


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def wait_until(condition: Callable[[], Any | Awaitable[Any]], timeout: float = 10.0,
                     interval: float = 0.05) -> Any:
    """Poll `condition` (a function or a coroutine function) until it is truthy; returns its value."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        value = condition()
        if inspect.isawaitable(value):
            value = await value
        if value:
            return value
        if loop.time() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {getattr(condition, '__name__', condition)}")
        await asyncio.sleep(interval)
