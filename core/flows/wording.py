"""How several flows word the same things: zones, months, reading sources, the meter verification warning, the day
of an online payment."""
from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING

from core import i18n
from core.model import Meter, OnlinePayment

if TYPE_CHECKING:
    from core.conversation import Turn

VERIFICATION_WARNING_DAYS = 90
READING_SOURCES = ("telegram", "viber", "console", "cabinet", "controller", "receipt")


def zone_label(turn: Turn, zone: int, zones: int, value: str) -> str:
    if zones <= 1:
        return value
    return turn.t("zone-value", zone=turn.t(f"zone-{zones}-{zone}"), value=value)


def zone_values(turn: Turn, zones: int, values: dict[int, str]) -> str:
    return " / ".join(zone_label(turn, zone, zones, values[zone]) for zone in sorted(values))


def verification_warning(turn: Turn, meter: Meter, today: date) -> list[str]:
    due = meter.next_verification_on
    if due is None:
        return []
    if due < today:
        return [turn.t("verification-expired", meter=meter.serial, on=i18n.day(due))]
    if due <= today + timedelta(days=VERIFICATION_WARNING_DAYS):
        return [turn.t("verification-soon", meter=meter.serial, on=i18n.day(due), days=(due - today).days)]
    return []


def month_name(turn: Turn, period: str, language: str | None = None) -> str:
    """`2026-10` as words, "жовтень 2026", in the chat's language or the one given."""
    return turn.app.translator.text(language or turn.language, i18n.month(period))


def source_name(turn: Turn, source: str) -> str:
    return turn.t(f"reading-source-{source}") if source in READING_SOURCES else source


def paid_on(turn: Turn, payment: OnlinePayment) -> str:
    """The local day an online payment was made."""
    return i18n.day(paid_day(turn, payment))


def paid_day(turn: Turn, payment: OnlinePayment) -> date:
    return (payment.paid_at or payment.created_at).astimezone(turn.app.timezone).date()
