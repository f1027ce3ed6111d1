"""Billing exchange format v1: the files, their columns and how each cell is read, and the problems a
folder can have (each with its file, line and reason)."""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from core.accounts import account_candidates
from core.model import CONTACT_KINDS
from core.readings import MAX_ZONES, SOURCES
from core.services import OPTIONAL_STATUSES


@dataclass(frozen=True)
class RowProblem:
    file: str
    line: int
    reason: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.reason}"


class ImportRefused(Exception):
    def __init__(self, problems: list[RowProblem]) -> None:
        super().__init__(f"{len(problems)} problem(s)")
        self.problems = problems


class BadValue(ValueError):
    pass


# ----- value parsers: each takes the cell text and returns a value or raises BadValue


def text(limit: int) -> Callable[[str], str]:
    def parse(value: str) -> str:
        if len(value) > limit:
            raise BadValue(f"longer than {limit} characters")
        return value
    return parse


def iso_date(value: str) -> date:
    try:
        if re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
            return date.fromisoformat(value)
    except ValueError:
        pass
    raise BadValue(f"{value!r} is not a date YYYY-MM-DD")


def timestamp(value: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise BadValue(f"{value!r} is not a timestamp like 2026-11-16T09:00:00+02:00") from None
    if parsed.tzinfo is None:
        raise BadValue(f"{value!r} has no UTC offset")
    if not 1900 <= parsed.year <= 2200:
        raise BadValue(f"{value!r} is outside the years 1900..2200")
    return parsed


def amount(value: str) -> Decimal:
    """UAH with at most 2 decimals and 10 whole digits: what the money columns keep exactly."""
    if not re.fullmatch(r"-?[0-9]{1,10}(\.[0-9]{1,2})?", value):
        raise BadValue(f"{value!r} is not an amount like 1234.56 (at most 2 decimals)")
    return Decimal(value)


def quantity(value: str) -> Decimal:
    """kWh with at most 3 decimals and 10 whole digits."""
    if not re.fullmatch(r"-?[0-9]{1,10}(\.[0-9]{1,3})?", value):
        raise BadValue(f"{value!r} is not a quantity like 165 or 165.5 (at most 3 decimals)")
    return Decimal(value)


def positive_decimal(places: int) -> Callable[[str], Decimal]:
    """A positive number up to 100,000 with at most `places` decimals (what its column keeps exactly)."""
    def parse(value: str) -> Decimal:
        if not re.fullmatch(r"[0-9]{1,6}(\.[0-9]+)?", value):
            raise BadValue(f"{value!r} is not a number")
        number = Decimal(value)
        if number <= 0 or number > 100000:
            raise BadValue(f"{value!r} must be a positive number up to 100000")
        if -number.as_tuple().exponent > places and number != number.quantize(Decimal(1).scaleb(-places)):
            raise BadValue(f"{value!r} has more than {places} decimals")
        return number
    return parse


def whole(low: int, high: int) -> Callable[[str], int]:
    def parse(value: str) -> int:
        if not re.fullmatch(r"[0-9]{1,18}", value):
            raise BadValue(f"{value!r} is not a whole number")
        number = int(value)
        if not low <= number <= high:
            raise BadValue(f"{number} is outside {low}..{high}")
        return number
    return parse


def one_of(*choices: str) -> Callable[[str], str]:
    def parse(value: str) -> str:
        if value not in choices:
            raise BadValue(f"{value!r} is not one of {', '.join(choices)}")
        return value
    return parse


def account_number(value: str) -> str:
    compact = re.sub(r"[\s\-]", "", value)
    if not re.fullmatch(r"[0-9]{4,20}", compact):
        raise BadValue(f"{value!r} is not an account number (digits only)")
    return compact


def eic_code(value: str) -> str:
    candidates = account_candidates(value)
    if len(candidates) != 1 or len(candidates[0]) != 16:
        raise BadValue(f"{value!r} is not a 16-character EIC code")
    return candidates[0]


def period(value: str) -> str:
    if not re.fullmatch(r"[0-9]{4}-(0[1-9]|1[0-2])", value):
        raise BadValue(f"{value!r} is not a period YYYY-MM")
    return value


def houses(value: str) -> str:
    for part in value.split(";"):
        if not re.fullmatch(r"\s*[0-9]+[^\s;,-]{0,3}\s*(-\s*[0-9]+[^\s;,-]{0,3}\s*)?", part):
            raise BadValue(f"{value!r} is not a house list like 1-15;17;19А")
    return value


def service_code(value: str) -> str:
    # A button carries it (`svc:CODE`), and Telegram's callback data is at most 64 bytes.
    if not re.fullmatch(r"[a-z0-9][a-z0-9-]{0,39}", value):
        raise BadValue(f"{value!r} is not a code of lower-case Latin letters, digits and dashes (at most 40)")
    return value


def service_price(value: str) -> tuple[bool, Decimal | None]:
    """(paid, price): `free`; `paid` (the operator names the amount for each order); or the price, e.g. 350.00."""
    if value == "free":
        return False, None
    if value == "paid":
        return True, None
    if not re.fullmatch(r"[0-9]{1,10}(\.[0-9]{1,2})?", value) or Decimal(value) <= 0:
        raise BadValue(f"{value!r} is not free, paid or a price like 350.00")
    return True, Decimal(value)


def service_statuses(value: str) -> frozenset[str]:
    """The optional statuses a service goes through, `;`-separated (the others every order may take)."""
    named = [part.strip() for part in value.split(";") if part.strip()]
    unknown = [status for status in named if status not in OPTIONAL_STATUSES]
    if unknown:
        raise BadValue(f"{unknown[0]!r} is not one of {', '.join(OPTIONAL_STATUSES)}")
    return frozenset(named)


def yes_no(value: str) -> bool:
    if value not in ("yes", "no"):
        raise BadValue(f"{value!r} is not yes or no")
    return value == "yes"


@dataclass(frozen=True)
class Column:
    name: str
    parse: Callable[[str], Any]
    optional: bool = False
    added: bool = False  # added to format v1 later: a file written before may lack the whole column


FILES: dict[str, list[Column]] = {
    "accounts.csv": [
        Column("account", account_number), Column("eic", eic_code, True), Column("surname", text(100)),
        Column("full_name", text(200)), Column("address", text(300)), Column("settlement", text(100)),
        Column("street", text(200), True), Column("house", text(20), True), Column("grid_node", text(50), True),
        Column("consumer_type", one_of("household", "business")), Column("tariff_plan", text(50)),
        Column("balance", amount), Column("balance_on", iso_date),
        Column("contract_number", text(50), True, added=True), Column("contract_date", iso_date, True, added=True),
    ],
    "meters.csv": [
        Column("account", account_number), Column("meter", text(50)), Column("type", text(100)),
        Column("digits", whole(4, 9)), Column("zones", whole(1, MAX_ZONES)), Column("k_factor", positive_decimal(3)),
        Column("installed_on", iso_date), Column("next_verification_on", iso_date, True),
        Column("tariff_plan", text(50), True, added=True),
    ],
    "readings.csv": [
        Column("account", account_number), Column("meter", text(50)), Column("taken_on", iso_date),
        Column("zone", whole(1, MAX_ZONES)), Column("value", whole(0, 999_999_999)), Column("source", one_of(*SOURCES)),
    ],
    "payments.csv": [
        Column("account", account_number), Column("paid_on", iso_date), Column("amount", amount),
        Column("purpose", text(200), True),
        # the provider's payment id or our order id of a payment made online: it reconciles that one
        Column("reference", text(100), True, added=True),
    ],
    "invoices.csv": [
        Column("account", account_number), Column("period", period), Column("issued_on", iso_date),
        Column("due_on", iso_date), Column("amount", amount), Column("kwh", quantity), Column("pdf", text(500), True),
    ],
    "tariffs.csv": [
        Column("tariff_plan", text(50)), Column("zone", whole(1, MAX_ZONES)), Column("price", positive_decimal(4)),
        Column("valid_from", iso_date),
    ],
    "outages.csv": [
        Column("outage", text(50)), Column("kind", one_of("planned", "emergency")), Column("starts_at", timestamp),
        Column("ends_at", timestamp, True), Column("reason", text(2000)), Column("settlement", text(100), True),
        Column("street", text(200), True), Column("houses", houses, True), Column("grid_nodes", text(2000), True),
    ],
    "contacts.csv": [
        Column("contact", text(50)), Column("kind", one_of(*CONTACT_KINDS)), Column("label", text(100)),
        Column("value", text(300)), Column("hours", text(200), True),
    ],
    "services.csv": [
        Column("service", service_code), Column("name_uk", text(200)), Column("name_en", text(200), True),
        Column("name_ru", text(200), True), Column("price", service_price), Column("attach_uk", text(500), True),
        Column("attach_en", text(500), True), Column("attach_ru", text(500), True),
        Column("statuses", service_statuses, True), Column("offered", yes_no),
    ],
}


NATURAL_KEYS = {
    "accounts.csv": ("account",),
    "meters.csv": ("account", "meter"),
    "readings.csv": ("account", "meter", "taken_on", "zone", "source"),
    "payments.csv": ("account", "paid_on", "amount", "purpose", "reference"),
    "invoices.csv": ("account", "period"),
    "tariffs.csv": ("tariff_plan", "zone", "valid_from"),
    "outages.csv": ("outage",),
    "contacts.csv": ("contact",),
    "services.csv": ("service",),
}


MAX_REPORTED = 500  # problems listed in one refusal; the count of the rest follows them


def reported(problems: list[RowProblem]) -> list[RowProblem]:
    """The problems in file and line order, at most MAX_REPORTED of them and a last line counting the rest."""
    ordered = sorted(problems, key=lambda p: (p.file, p.line))
    if len(ordered) <= MAX_REPORTED:
        return ordered
    rest = len(ordered) - MAX_REPORTED
    return ordered[:MAX_REPORTED] + [RowProblem("(more)", 0, f"{rest} more problem(s) not listed")]
