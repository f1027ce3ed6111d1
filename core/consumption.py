"""Consumption by month, the way the web cabinets show it: from the meter readings, else from the invoice.

A reading closes a billing month (ReadingWindow.billing_month: one taken on the window's opening days closes
the month that just ended). A month's consumption is, for each meter and zone, its closing reading against the
closing reading of the month before, × K, through zero when the meter rolled over (core.readings.assess). When
readings skipped months, the pair covers all of them together: one row from its first month to its last, never
split by a guess. Each meter keeps its own zones; the account's total is their sum.

A month no pair of readings covers takes its invoice's kWh (one total, no split by meter or zone); an invoice
of a month the readings cover is not counted again. A month with neither, between the first and the last
month known, is a gap.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from itertools import pairwise
from typing import Callable

from core.model import Invoice, Meter, MeterReading
from core.readings import assess

Part = tuple[int, int]  # (meter id, zone): what a consumption is of


@dataclass
class MonthConsumption:
    """One row of consumption by month: `first`..`month` (one month unless readings skipped some)."""

    month: str  # YYYY-MM, the last month the row covers
    first: str = ""  # YYYY-MM, the first month it covers; the same as `month` when empty
    parts: dict[Part, Decimal] = field(default_factory=dict)  # from readings
    invoice_kwh: Decimal | None = None  # from the month's invoice, when no readings cover it

    def __post_init__(self) -> None:
        self.first = self.first or self.month

    @property
    def total(self) -> Decimal:
        return self.invoice_kwh if self.invoice_kwh is not None else sum(self.parts.values(), Decimal(0))

    @property
    def from_invoice(self) -> bool:
        return self.invoice_kwh is not None

    @property
    def is_gap(self) -> bool:
        return self.invoice_kwh is None and not self.parts

    @property
    def months(self) -> int:
        return months_between(self.first, self.month) + 1

    def of_meter(self, meter_id: int) -> dict[int, Decimal]:
        """Zone → kWh of one meter."""
        return {zone: kwh for (meter, zone), kwh in self.parts.items() if meter == meter_id}


def next_month(month: str) -> str:
    year, number = int(month[:4]), int(month[5:7])
    return f"{year + number // 12:04d}-{number % 12 + 1:02d}"


def months_between(first: str, last: str) -> int:
    return (int(last[:4]) - int(first[:4])) * 12 + int(last[5:7]) - int(first[5:7])


@dataclass(frozen=True)
class _Span:
    first: str
    last: str
    part: Part
    kwh: Decimal


def _spans(meter: Meter, readings: list[MeterReading], billing_month: Callable[[date], str]) -> list[_Span]:
    """The meter's consumption between the closing readings of its billing months, zone by zone."""
    closing: dict[int, dict[str, int]] = {}
    for reading in readings:  # oldest first: the last one of a billing month stays
        closing.setdefault(reading.zone, {})[billing_month(reading.taken_on)] = reading.value
    spans = []
    for zone, by_month in closing.items():
        for (before_month, before), (month, value) in pairwise(sorted(by_month.items())):
            kwh = assess([value], {1: before}, digits=meter.digits, k_factor=meter.k_factor).zones[0].kwh
            assert kwh is not None  # known: the zone has a previous value
            spans.append(_Span(next_month(before_month), month, (meter.id, zone), kwh))
    return spans


def monthly_consumption(
    meters: list[tuple[Meter, list[MeterReading]]], invoices: list[Invoice], first_month: str,
    billing_month: Callable[[date], str],
) -> list[MonthConsumption]:
    """Rows of consumption from `first_month` on, oldest first, each month in exactly one row.

    Each meter comes with its readings oldest first, including at least the last one before `first_month`
    when there is one, so the first month in the window has something to be measured against.
    """
    spans = sorted(
        (span for meter, readings in meters for span in _spans(meter, readings, billing_month)
         if span.last >= first_month),
        key=lambda span: (span.first, span.last),
    )
    rows: list[MonthConsumption] = []
    for span in spans:  # spans that overlap (meters or zones read on other days) make one row
        if rows and span.first <= rows[-1].month:
            row = rows[-1]
            row.month = max(row.month, span.last)
        else:
            row = MonthConsumption(span.last, span.first)
            rows.append(row)
        row.parts[span.part] = row.parts.get(span.part, Decimal(0)) + span.kwh
    covered = {month for row in rows for month in _months(row.first, row.month)}
    rows.extend(
        MonthConsumption(invoice.period, invoice_kwh=invoice.kwh)
        for invoice in invoices if invoice.period >= first_month and invoice.period not in covered
    )
    rows.sort(key=lambda row: row.month)
    if not rows:
        return rows
    known = covered | {row.month for row in rows}
    start = max(rows[0].first, first_month)
    gaps = [MonthConsumption(month) for month in _months(start, rows[-1].month) if month not in known]
    return sorted(rows + gaps, key=lambda row: row.month)


def _months(first: str, last: str) -> list[str]:
    months = [first]
    while months[-1] < last:
        months.append(next_month(months[-1]))
    return months


def month_slots(rows: list[MonthConsumption], first_month: str) -> list[tuple[str, MonthConsumption]]:
    """Every month from `first_month` on that the rows cover, oldest first, with its row: the chart's places."""
    by_month = {month: row for row in rows for month in _months(row.first, row.month) if month >= first_month}
    return [(month, by_month[month]) for month in sorted(by_month)]
