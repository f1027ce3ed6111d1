"""A chat's /settings: which reminders it gets and its quiet hours; stored by storage as JSON.

Every reminder is on until the consumer turns it off, and quiet hours are on by default, 22:00–08:00
(local time): nothing planned for the night is lost, the dispatcher holds it until the morning.
"""
from __future__ import annotations

import re
from datetime import time
from typing import Any

from core.model import ChatSettings

# The switches, in the order /settings shows them; the names core/notifications.py keys its kinds on.
REMINDER_SWITCHES = ("invoice", "reading", "verification", "outages", "orders")

_QUIET = re.compile(r"(\d{1,2})(?:[:.](\d{2}))?\s*[-–—]\s*(\d{1,2})(?:[:.](\d{2}))?")


def parse_quiet_hours(text: str) -> tuple[time, time] | None:
    """'22-8', '22:00-08:00', '23.30 – 7.00' → (from, to); None when it is not a valid range of two times."""
    match = _QUIET.fullmatch(text.strip())
    if match is None:
        return None
    start_hour, start_minute, end_hour, end_minute = (int(group or 0) for group in match.groups())
    if not (start_hour < 24 and end_hour < 24 and start_minute < 60 and end_minute < 60):
        return None
    start, end = time(start_hour, start_minute), time(end_hour, end_minute)
    return (start, end) if start != end else None


def settings_to_json(settings: ChatSettings) -> dict[str, Any]:
    quiet = None
    if settings.quiet_from is not None and settings.quiet_to is not None:
        quiet = [settings.quiet_from.strftime("%H:%M"), settings.quiet_to.strftime("%H:%M")]
    return {"off": sorted(settings.switched_off), "quiet": quiet}


def settings_from_json(data: dict[str, Any] | None) -> ChatSettings:
    """Stored settings; what is missing keeps its default (a switch added later starts on)."""
    if not data:
        return ChatSettings()
    switched_off = frozenset(name for name in data.get("off", ()) if name in REMINDER_SWITCHES)
    if "quiet" not in data:
        return ChatSettings(switched_off=switched_off)
    quiet = data["quiet"]
    if not quiet:
        return ChatSettings(switched_off=switched_off, quiet_from=None, quiet_to=None)
    return ChatSettings(switched_off, time.fromisoformat(quiet[0]), time.fromisoformat(quiet[1]))
