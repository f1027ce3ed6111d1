"""A chat's recent turns, kept for a technical-support appeal ("the bot does not work as expected").

The engine keeps one per turn: what came in and what the bot answered, with the time and the messenger's id of
the update. Never a photo's bytes (the turn says "[photo]"), never a token (only the consumer's own words and
the bot's texts are kept), and never a secret: a text typed to a step or command that asks for one (the owner's
surname while linking, a mailed code) is kept the way that step or command's `kept` says, and the bot's answer
to it without the words taken out. A chat keeps its last KEPT_TURNS, for KEPT_FOR at most (the retention job
drops older ones); /forget drops them all.
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from core.messages import EventKind, Incoming, Reply
from core.model import RecentTurn

if TYPE_CHECKING:  # the flows import this module for `hidden`
    from core.flows.registry import KeptText, Registry

KEPT_TURNS = 20
KEPT_FOR = timedelta(days=7)
HIDDEN = "[hidden]"
TEXT_LIMIT = 2000  # characters of what came in, and of what the bot answered, kept of one turn
NAMED = {EventKind.PHOTO: "[photo]", EventKind.CONTACT: "[contact]", EventKind.OTHER: "[other]"}


def hidden(text: str) -> str:
    """`kept` of a step whose every answer is a secret."""
    return HIDDEN


def kept_turn(registry: Registry, event: Incoming, step: str | None, replies: list[Reply],
              at: datetime) -> RecentTurn:
    """The turn as it is kept: `step` is the one the chat was in when the event came."""
    if event.kind is EventKind.TEXT:
        said = kept_text(registry, event.text.strip(), step)
        secrets = [word for word in event.text.split() if word not in said.split()]
    elif event.kind is EventKind.BUTTON:
        said, secrets = f"[button] {event.action}", []
    else:
        said, secrets = NAMED.get(event.kind, NAMED[EventKind.OTHER]), []
    return RecentTurn(at, event.delivery_key, event.kind.value, cut(said), cut(answered(replies, secrets)))


def kept_text(registry: Registry, text: str, step: str | None) -> str:
    """A typed text as kept: a command's arguments by its `kept`, else a text typed to a step by the step's."""
    kept: KeptText | None = None
    if text.startswith("/"):
        head, _, args = text.partition(" ")
        command = registry.commands.get(head[1:].split("@", 1)[0].lower())
        if command is not None:
            return f"{head} {command.kept(args.strip())}" if command.kept and args.strip() else text
    if step is not None and step in registry.steps:
        kept = registry.steps[step].kept
    return kept(text) if kept else text


def answered(replies: list[Reply], secrets: list[str]) -> str:
    """The bot's replies as text: each one's text, its buttons' labels, its image or document by name."""
    parts = []
    for reply in replies:
        lines = [reply.text] if reply.text else []
        if reply.buttons:
            lines.append(" ".join(f"[{button.label}]" for button in reply.all_buttons()))
        for what, attachment in (("image", reply.image), ("document", reply.document)):
            if attachment is not None:
                lines.append(f"[{what} {attachment.filename}]")
        parts.append("\n".join(lines))
    text = "\n\n".join(parts)
    return re.sub(r"\S+", lambda word: HIDDEN if names_secret(word.group(), secrets) else word.group(), text) \
        if secrets else text


def names_secret(word: str, secrets: list[str]) -> bool:
    """Whether a word of an answer repeats a secret, or the beginning of one (an answer may cut what it repeats)."""
    word = word.casefold()
    for secret in secrets:
        secret = secret.casefold()
        if secret == word or (len(secret) > 1 and secret in word) or (len(word) > 3 and secret.startswith(word)):
            return True
    return False


def cut(text: str) -> str:
    return text if len(text) <= TEXT_LIMIT else text[:TEXT_LIMIT - 1] + "…"
