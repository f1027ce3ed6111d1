"""Viber's REST API over aiohttp: the viberbot SDK sends with blocking `requests` and no timeout."""
from __future__ import annotations

import asyncio
import logging
from typing import Any

import aiohttp

log = logging.getLogger(__name__)

# Viber answers HTTP 200 with a status in the body; the ones we act on (REST API "Error Codes").
INVALID_AUTH_TOKEN = 2
RECEIVER_NOT_REGISTERED = 5
RECEIVER_NOT_SUBSCRIBED = 6
TOO_MANY_REQUESTS = 12
UNREACHABLE = frozenset({RECEIVER_NOT_REGISTERED, RECEIVER_NOT_SUBSCRIBED})
TRANSPORT_FAILURE = -1  # no answer from Viber at all: timeout, connection refused, HTTP 5xx


class ViberApiError(Exception):
    """Viber refused a call, or could not be reached."""

    def __init__(self, method: str, status: int, message: str) -> None:
        super().__init__(f"{method}: status {status}: {message}")
        self.method = method
        self.status = status
        self.message = message


class ReceiverUnreachable(ViberApiError):
    """The user unsubscribed or left Viber: sending to them again is pointless until they write."""


class ViberApi:
    """send_message and set_webhook, retrying Viber's rate-control refusal a bounded number of times."""

    def __init__(self, token: str, base: str, *, retries: int = 3, backoff: float = 0.5,
                 timeout: float = 15.0) -> None:
        self.base = base.rstrip("/")
        self.retries = retries
        self.backoff = backoff
        self._token = token
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._session: aiohttp.ClientSession | None = None

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def send_message(self, payload: dict[str, Any], retries: int | None = None) -> int | None:
        """Send one message (payload as Viber's send_message takes it); returns Viber's message_token."""
        result = await self.call("send_message", payload, retries)
        return result.get("message_token")

    async def set_webhook(self, url: str, event_types: list[str], retries: int | None = None) -> list[str]:
        result = await self.call("set_webhook", {"url": url, "event_types": event_types}, retries)
        subscribed: list[str] = result.get("event_types", [])
        return subscribed

    async def call(self, method: str, payload: dict[str, Any], retries: int | None = None) -> dict[str, Any]:
        retries = self.retries if retries is None else retries
        for attempt in range(retries + 1):
            last_try = attempt == retries
            try:
                result = await self._post(method, payload)
            except ViberApiError as exc:
                if last_try:
                    raise
                log.warning("viber %s: %s; retrying", method, exc.message)
                await asyncio.sleep(self.backoff * 2 ** attempt)
                continue
            status = result.get("status")
            if status == 0:
                return result
            message = str(result.get("status_message", ""))
            if status == TOO_MANY_REQUESTS and not last_try:
                await asyncio.sleep(self.backoff * 2 ** attempt)
                continue
            error = ReceiverUnreachable if status in UNREACHABLE else ViberApiError
            raise error(method, status if isinstance(status, int) else TRANSPORT_FAILURE, message)
        raise AssertionError("unreachable")  # the loop returns or raises on its last try

    async def _post(self, method: str, payload: dict[str, Any]) -> dict[str, Any]:
        try:
            async with self.session.post(
                f"{self.base}/{method}", json=payload, headers={"X-Viber-Auth-Token": self._token}
            ) as response:
                if response.status >= 400:
                    raise ViberApiError(method, TRANSPORT_FAILURE, f"HTTP {response.status}")
                result = await response.json(content_type=None)
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            # The type only: a client error's text and repr quote the request, its X-Viber-Auth-Token too.
            raise ViberApiError(method, TRANSPORT_FAILURE, type(exc).__name__) from None
        except ValueError:
            raise ViberApiError(method, TRANSPORT_FAILURE, "the answer is not JSON") from None
        if not isinstance(result, dict):
            raise ViberApiError(method, TRANSPORT_FAILURE, "the answer is not a JSON object")
        return result
