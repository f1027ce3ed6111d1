"""A month or a year as a consumer types it ("2025", "2025-03", "03.2025", "березень 2025", "за March 2025"), and
an account's balance over one, from its invoices and payments: pure, no I/O.

The balance the billing sends is as of a day (its closing balance, that day's invoices and payments in it). The
balance on any other day follows from the invoices and payments between the two, so it is known only where the
billing's history reaches: from the account's first invoice (payments are taken to be there from then on too), or,
with none before the balance's day, from the day after it. Before that nothing is counted, never guessed.
"""
from __future__ import annotations

import calendar
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from core.model import Account, Invoice, Payment

FIRST_YEAR, LAST_YEAR = 1900, 2200  # the years the exchange format takes
# Words typed around a period that say nothing of it: "за березень 2025 року", "in March 2025", "за 2025 год".
FILLER_WORDS = frozenset({"за", "у", "в", "во", "рік", "року", "р", "год", "года", "г", "in", "for", "of", "year"})


@dataclass(frozen=True)
class Period:
    """A calendar month (`month` 1–12) or a whole year (`month` None)."""

    year: int
    month: int | None = None

    @property
    def first(self) -> date:
        return date(self.year, self.month or 1, 1)

    @property
    def last(self) -> date:
        month = self.month or 12
        return date(self.year, month, calendar.monthrange(self.year, month)[1])

    @property
    def code(self) -> str:
        """`2025` or `2025-03`: how a button carries it, and how parse_period reads it back."""
        return str(self.year) if self.month is None else f"{self.year}-{self.month:02d}"


def parse_period(text: str, today: date, month_stems: Mapping[str, int]) -> Period | None:
    """The month or year typed, or None when the text is not one. `month_stems`: the beginnings of the months'
    names (of every language) to the month, the longest that begins a word names it. A month without a year is
    the last one that has begun."""
    typed = text.strip().casefold()
    if numeric := re.fullmatch(r"(\d{4})(?:[-./](\d{1,2}))?", typed):
        return _period(int(numeric[1]), int(numeric[2]) if numeric[2] else None)
    if numeric := re.fullmatch(r"(\d{1,2})[-./](\d{4})", typed):
        return _period(int(numeric[2]), int(numeric[1]))
    year_typed: int | None = None
    month_typed: int | None = None
    for word in re.findall(r"[^\W\d_]+|\d+|\S", typed):
        if word.isdecimal() and len(word) == 4 and year_typed is None:
            year_typed = int(word)
        elif word in FILLER_WORDS or word in {".", ",", "-"}:
            continue
        elif word.isalpha() and month_typed is None and (month := _month_of(word, month_stems)) is not None:
            month_typed = month
        else:
            return None
    if month_typed is None:
        return None if year_typed is None else _period(year_typed, None)
    if year_typed is None:
        year_typed = today.year if month_typed <= today.month else today.year - 1
    return _period(year_typed, month_typed)


def _month_of(word: str, month_stems: Mapping[str, int]) -> int | None:
    found = [stem for stem in month_stems if word.startswith(stem)]
    return month_stems[max(found, key=len)] if found else None


def _period(year: int, month: int | None) -> Period | None:
    if not FIRST_YEAR <= year <= LAST_YEAR or (month is not None and not 1 <= month <= 12):
        return None
    return Period(year, month)


def history_start(account: Account, invoices: Iterable[Invoice]) -> date:
    """The first day from which the account's balance can be counted: its first invoice's, or the day after its
    balance's when no invoice came on or before that."""
    earliest = min((i.issued_on for i in invoices), default=None)
    if earliest is None or earliest > account.balance_on:
        return account.balance_on + timedelta(days=1)
    return earliest


@dataclass(frozen=True)
class PeriodBalance:
    """The balance at the start of `first` (positive: owed), the invoices issued and payments made from `first` to
    `last`, both days counted, and the balance they leave at the end of `last`."""

    first: date
    last: date
    opening: Decimal
    invoices: tuple[Invoice, ...]
    payments: tuple[Payment, ...]

    @property
    def charged(self) -> Decimal:
        return sum((i.amount for i in self.invoices), Decimal(0))

    @property
    def paid(self) -> Decimal:
        return sum((p.amount for p in self.payments), Decimal(0))

    @property
    def closing(self) -> Decimal:
        return self.opening + self.charged - self.paid


def period_balance(account: Account, invoices: Iterable[Invoice], payments: Iterable[Payment], period: Period,
                   today: date) -> PeriodBalance | None:
    """The account's balance over the period, cut to the days its history reaches and to today; None when the
    period has not begun or ends before the history starts. `invoices`: all of the account's; `payments`: all from the
    period's first day on, or from its balance's day when that is earlier."""
    invoices, payments = list(invoices), list(payments)
    first = max(period.first, history_start(account, invoices))
    last = min(period.last, today)
    if first > last:
        return None
    anchor = account.balance_on
    # The balance at the start of `first` is the one at the end of the day before: from the balance's day, add what
    # came after it up to then, or take off what came after then up to it.
    before = first - timedelta(days=1)
    low, high, sign = (anchor, before, 1) if before >= anchor else (before, anchor, -1)
    moved = (sum((i.amount for i in invoices if low < i.issued_on <= high), Decimal(0))
             - sum((p.amount for p in payments if low < p.paid_on <= high), Decimal(0)))
    return PeriodBalance(
        first=first, last=last, opening=account.balance + sign * moved,
        invoices=tuple(sorted((i for i in invoices if first <= i.issued_on <= last), key=lambda i: (i.issued_on, i.period))),
        payments=tuple(p for p in sorted(payments, key=lambda p: p.paid_on) if first <= p.paid_on <= last),
    )
