"""Consumption by month, the way the web cabinets show it: from the meter readings, else from the invoice.

A month's consumption is its last reading of each zone against the last reading before that month
(the month before, or earlier if the consumer skipped one), × K, through zero when the meter rolled over
(core.readings.assess). A month with no such pair of readings takes the kWh of its invoice, as one total
with no split by zone (zone 0).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from core.model import Invoice, Meter, MeterReading
from core.readings import assess

TOTAL_ONLY = 0  # the zone key of a month known only from its invoice


@dataclass
class MonthConsumption:
    month: str  # YYYY-MM
    zones: dict[int, Decimal] = field(default_factory=dict)

    @property
    def total(self) -> Decimal:
        return sum(self.zones.values(), Decimal(0))

    @property
    def from_invoice(self) -> bool:
        return TOTAL_ONLY in self.zones


def month_of(reading: MeterReading) -> str:
    return reading.taken_on.strftime("%Y-%m")


def monthly_consumption(
    meters: list[tuple[Meter, list[MeterReading]]], invoices: list[Invoice], first_month: str
) -> list[MonthConsumption]:
    """Months from `first_month` on that have a consumption, oldest first.

    Each meter comes with its readings oldest first, including at least the last one before `first_month`
    when there is one, so the first month in the window has something to be measured against.
    """
    months: dict[str, MonthConsumption] = {}
    for meter, readings in meters:
        month_end: dict[int, dict[str, int]] = {}
        for reading in readings:  # oldest first: the last one of a month stays
            month_end.setdefault(reading.zone, {})[month_of(reading)] = reading.value
        for zone, by_month in month_end.items():
            ordered = sorted(by_month.items())
            for (_, before), (month, value) in zip(ordered, ordered[1:]):
                if month < first_month:
                    continue
                kwh = assess([value], {1: before}, digits=meter.digits, k_factor=meter.k_factor).zones[0].kwh
                entry = months.setdefault(month, MonthConsumption(month))
                entry.zones[zone] = entry.zones.get(zone, Decimal(0)) + kwh
    for invoice in invoices:
        if invoice.period >= first_month and invoice.period not in months:
            months[invoice.period] = MonthConsumption(invoice.period, {TOTAL_ONLY: invoice.kwh})
    return [months[month] for month in sorted(months)]
