"""Webhook bodies, shared by Telegram and Viber: bounded in size while read, in depth and numbers when parsed."""
from __future__ import annotations

import json
from typing import Any

from aiohttp import web

# An update or a callback is a few kilobytes (media come as links), so 1 MB is generous; only the admin
# import takes large bodies, and it streams them to disk under its own limit.
BODY_LIMIT = 1024 * 1024
MAX_DEPTH = 32  # Telegram's deepest update (a reply's keyboard) is under 10 levels
# Every id and token of both messengers fits in 64 bits; a larger one fits no column of ours (a 500 once).
MAX_INTEGER = 2**64
CHUNK = 64 * 1024


class BadBody(ValueError):
    """A body that is not JSON we read; the message says why and never quotes the body."""


async def read_body(request: web.Request, limit: int = BODY_LIMIT) -> bytes:
    """The body, refused with 413 as soon as it is known to be over the limit: never more is kept."""
    if request.content_length is not None and request.content_length > limit:
        raise web.HTTPRequestEntityTooLarge(max_size=limit, actual_size=request.content_length)
    body = bytearray()
    async for chunk in request.content.iter_chunked(CHUNK):
        if len(body) + len(chunk) > limit:
            raise web.HTTPRequestEntityTooLarge(max_size=limit, actual_size=len(body) + len(chunk))
        body += chunk
    return bytes(body)


def parse_json(body: bytes) -> Any:
    """The JSON value; BadBody for what json.loads would raise on, or fail on (RecursionError), and for depth."""
    try:
        value = json.loads(body)
    except RecursionError:
        raise BadBody(f"nested deeper than {MAX_DEPTH} levels") from None
    except UnicodeDecodeError:
        raise BadBody("not UTF-8") from None
    except json.JSONDecodeError as exc:
        raise BadBody(f"not JSON: {exc.msg} at character {exc.pos}") from None
    except ValueError:  # the only other one: an integer over sys.get_int_max_str_digits() digits
        raise BadBody("a number with too many digits") from None
    problem = _problem(value)
    if problem is not None:
        raise BadBody(problem)
    return value


def _problem(value: Any) -> str | None:
    """Why the parsed value is refused: too deep, or a number too large. Iterative, so depth cannot
    exhaust the stack."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (dict, list)):
            if depth > MAX_DEPTH:
                return f"nested deeper than {MAX_DEPTH} levels"
            stack.extend((child, depth + 1) for child in (item.values() if isinstance(item, dict) else item))
        elif isinstance(item, int) and not isinstance(item, bool) and abs(item) >= MAX_INTEGER:
            return "a number beyond 64 bits"
    return None
