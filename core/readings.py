"""Meter reading rules: the reading window, what a typed reading may be, consumption and its cost."""
from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

LARGE_CONSUMPTION_KWH = Decimal(50_000)
MAX_ZONES = 3
# Where a reading comes from; the chats' are the ones consumers submitted (exported back to the utility).
SOURCES = ("telegram", "viber", "console", "cabinet", "controller", "receipt")
CHAT_SOURCES = ("telegram", "viber", "console")


@dataclass(frozen=True)
class ReadingWindow:
    """Days of the month when readings are accepted: the last `last` days and the first `first` days."""

    last: int
    first: int
    always: bool = False

    @classmethod
    def parse(cls, text: str) -> "ReadingWindow":
        """`always`, or `LAST,FIRST` (the default `2,3`: the last 2 and the first 3 days of a month)."""
        cleaned = text.strip().lower()
        if cleaned == "always":
            return cls(0, 0, always=True)
        match = re.fullmatch(r"(\d{1,2})\s*,\s*(\d{1,2})", cleaned)
        if not match:
            raise ValueError("expected 'always' or 'LAST,FIRST', e.g. '2,3'")
        last, first = int(match[1]), int(match[2])
        if last > 14 or first > 14 or last + first == 0:
            raise ValueError("LAST and FIRST must be 0..14 days, not both 0")
        return cls(last, first)

    def is_open(self, day: date) -> bool:
        if self.always:
            return True
        days_in_month = calendar.monthrange(day.year, day.month)[1]
        return day.day <= self.first or day.day > days_in_month - self.last

    def next_opening(self, day: date) -> date:
        """The first day of the next window after `day` (the day itself never counts)."""
        probe = day + timedelta(days=1)
        while not self.is_open(probe) or self.is_open(probe - timedelta(days=1)):
            probe += timedelta(days=1)
        return probe

    def billing_month(self, day: date) -> str:
        """The month (YYYY-MM) a reading taken on `day` closes.

        A reading on the window's opening days (1..`first`) closes the month that just ended: that is what
        the window is for. An always-open window has no opening days, so a reading closes its own month."""
        if not self.always and day.day <= self.first:
            day = day.replace(day=1) - timedelta(days=1)
        return f"{day.year:04d}-{day.month:02d}"

    def closing(self, day: date) -> date:
        """The last day of the window that `day` is in."""
        probe = day
        while self.is_open(probe + timedelta(days=1)):
            probe += timedelta(days=1)
        return probe


class ReadingRefused(Exception):
    """A typed reading that cannot be accepted; `key` names the message, `args` fill it."""

    def __init__(self, key: str, **args: object) -> None:
        super().__init__(key)
        self.key = key
        self.args_ = args


_SEPARATORS = re.compile(r"[\s;/|]+")
_GROUPED = re.compile(r"\d{1,3}(?:[ \u00a0\u202f,]\d{3})+")  # 12 500, 12,500: one number with thousands grouped


def parse_values(text: str, *, digits: int, zones: int) -> list[int]:
    """One whole number per zone, each fitting the meter's digits; anything else is refused with a reason.
    On a one-zone meter "12 500" and "12,500" are one number, its thousands grouped."""
    if zones == 1 and _GROUPED.fullmatch(text.strip()):
        text = re.sub(r"[ \u00a0\u202f,]", "", text)
    tokens = [token for token in _SEPARATORS.split(text.strip()) if token]
    if not tokens:
        raise ReadingRefused("reading-empty", zones=zones)
    values = []
    for token in tokens:
        if re.fullmatch(r"[+-]?\d+([.,]\d*)?", token) is None:
            raise ReadingRefused("reading-not-number", value=token[:20])
        if token.startswith("-"):
            raise ReadingRefused("reading-negative")
        if "." in token or "," in token:
            raise ReadingRefused("reading-decimal")
        token = token.lstrip("+")
        if len(token.lstrip("0")) > digits:
            raise ReadingRefused("reading-too-long", digits=digits)
        values.append(int(token))
    if len(values) != zones:
        raise ReadingRefused("reading-zone-count", zones=zones, given=len(values))
    return values


@dataclass(frozen=True)
class ZoneConsumption:
    zone: int
    value: int
    previous: int | None
    kwh: Decimal | None
    rolled_over: bool


@dataclass(frozen=True)
class Assessment:
    """What a reading means against the previous one: consumption per zone and what needs confirming."""

    zones: tuple[ZoneConsumption, ...]

    @property
    def rolled_over(self) -> bool:
        return any(zone.rolled_over for zone in self.zones)

    @property
    def total_kwh(self) -> Decimal | None:
        known = [zone.kwh for zone in self.zones if zone.kwh is not None]
        return sum(known, Decimal(0)) if known else None

    @property
    def large(self) -> bool:
        total = self.total_kwh
        return total is not None and total > LARGE_CONSUMPTION_KWH

    @property
    def needs_confirmation(self) -> bool:
        return self.rolled_over or self.large


def assess(values: list[int], previous: dict[int, int], *, digits: int, k_factor: Decimal) -> Assessment:
    """Consumption = (current − previous) × K, through zero as (10^digits + current − previous) × K."""
    zones = []
    for zone, value in enumerate(values, start=1):
        before = previous.get(zone)
        if before is None:
            zones.append(ZoneConsumption(zone, value, None, None, False))
            continue
        rolled = value < before
        difference = (10**digits + value - before) if rolled else (value - before)
        zones.append(ZoneConsumption(zone, value, before, Decimal(difference) * k_factor, rolled))
    return Assessment(tuple(zones))


def estimate_cost(assessment: Assessment, prices: dict[int, Decimal]) -> Decimal | None:
    """Cost by the tariff's zone prices, or None when a zone has no price or no consumption is known."""
    total = Decimal(0)
    for zone in assessment.zones:
        if zone.kwh is None or zone.zone not in prices:
            return None
        total += zone.kwh * prices[zone.zone]
    return total.quantize(Decimal("0.01"))


def meter_prices(zones: int, plan_prices: dict[int, Decimal]) -> dict[int, Decimal] | None:
    """A meter's zone prices: its account's tariff plan's when the plan has the meter's zones, else None.

    The exchange format gives one tariff plan per account, while a business account may have meters with
    other zone counts: a one-zone meter must not be priced at a three-zone plan's peak."""
    return plan_prices if sorted(plan_prices) == list(range(1, zones + 1)) else None
