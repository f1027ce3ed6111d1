"""/history: payments, consumption by month with its chart, and readings, for this year and the last."""
from __future__ import annotations

import asyncio
from collections import defaultdict
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

from core import i18n
from core.charts import ChartText, consumption_chart
from core.consumption import MonthConsumption, monthly_consumption
from core.flows.account_choice import account_and_period, account_of_chat, period_name, typed_period
from core.flows.accounts import linked
from core.flows.registry import Action, Command, Flow
from core.flows.wording import month_name, paid_day, paid_on, source_name, zone_label, zone_values
from core.messages import Attachment, Reply
from core.model import Account, Meter, MeterReading
from core.periods import Period, history_start

if TYPE_CHECKING:
    from core.conversation import Turn


def window_start(today: date) -> date:
    """History covers the current and the previous year, as the web cabinets show it."""
    return date(today.year - 1, 1, 1)



async def show_history(turn: Turn, account: Account) -> None:
    today = turn.app.today()
    since = window_start(today)
    first_month = since.strftime("%Y-%m")
    turn.say("history-header", account=account.number, address=account.address, first=str(since.year), last=str(today.year))

    payments = await turn.tx.payments_since(account.id, since)
    pending = await turn.tx.pending_payments(account.id)
    if payments or pending:
        lines = [
            turn.t("history-payment-purpose-line" if p.purpose else "history-payment-line",
                   on=i18n.day(p.paid_on), amount=i18n.money(p.amount), purpose=p.purpose or "")
            for p in payments
        ]
        # Paid online and not in the billing yet: last, whatever their day, as /balance shows them.
        lines += [turn.t("history-payment-pending-line", on=paid_on(turn, p), amount=i18n.money(p.amount))
                  for p in pending]
        turn.say("history-payments", lines="\n".join(lines), count=len(lines))
    else:
        turn.say("history-no-payments")

    meters = await turn.tx.meters([account.id])
    series: list[tuple[Meter, list[MeterReading]]] = []
    for meter in meters:
        baseline = sorted((await turn.tx.last_readings(meter.id, since)).values(), key=lambda r: r.taken_on)
        series.append((meter, baseline + await turn.tx.readings_since(meter.id, since)))
    invoices = await turn.tx.invoices(account.id, first_month)
    months = monthly_consumption(series, invoices, first_month, turn.app.window.billing_month)
    if months:
        lines = [consumption_line(turn, month, meters) for month in months]
        if any(month.months > 1 for month in months):
            lines.append(turn.t("history-consumption-span-note"))
        turn.say("history-consumption", lines="\n".join(lines))
        chart = await asyncio.to_thread(consumption_chart, months, meters, chart_text(turn, account, meters), first_month)
        turn.replies.append(Reply(
            turn.t("history-chart-caption", account=account.number),
            image=Attachment(f"consumption-{account.number}.jpg", chart, "image/jpeg"),
        ))
    else:
        turn.say("history-no-consumption")

    reading_lines = []
    for meter, readings in series:
        shown = [r for r in readings if r.taken_on >= since]
        if not shown:
            continue
        if len(meters) > 1:
            reading_lines.append(turn.t("history-readings-meter", meter=meter.serial))
        grouped: dict[tuple[date, str], dict[int, str]] = defaultdict(dict)
        for reading in shown:
            grouped[(reading.taken_on, reading.source)][reading.zone] = str(reading.value)
        for (taken_on, source), values in grouped.items():
            reading_lines.append(turn.t(
                "history-reading-line", on=i18n.day(taken_on), values=zone_values(turn, meter.zones, values),
                source=source_name(turn, source),
            ))
    if reading_lines:
        turn.say("history-readings", lines="\n".join(reading_lines))
    else:
        turn.say("history-no-readings")
    turn.with_menu()




def consumption_line(turn: Turn, month: MonthConsumption, meters: list[Meter]) -> str:
    name = month_name(turn, month.month)
    if month.months > 1:
        same_year = month.first[:4] == month.month[:4]
        first = turn.t(f"month-{int(month.first[5:])}") if same_year else month_name(turn, month.first)
        name = turn.t("history-months-span", first=first, last=name)
    if month.is_gap:
        return turn.t("history-consumption-gap-line", month=name)
    total = i18n.kwh(month.total, turn.language)
    if month.from_invoice:
        return turn.t("history-consumption-invoice-line", month=name, kwh=total)
    if len(meters) > 1:  # each meter with its own zones: a one-zone meter is no zone of another
        split = "; ".join(
            turn.t("history-consumption-meter", meter=meter.serial, values=meter_split(turn, meter, zones))
            for meter in meters if (zones := month.of_meter(meter.id))
        )
        return turn.t("history-consumption-zones-line", month=name, kwh=total, zones=split)
    if meters and meters[0].zones > 1:
        split = meter_split(turn, meters[0], month.of_meter(meters[0].id))
        return turn.t("history-consumption-zones-line", month=name, kwh=total, zones=split)
    return turn.t("history-consumption-line", month=name, kwh=total)


def meter_split(turn: Turn, meter: Meter, zones: dict[int, Decimal]) -> str:
    """One meter's consumption by its zones, or its one number."""
    if meter.zones == 1:
        return i18n.kwh(sum(zones.values(), Decimal(0)), turn.language)
    return ", ".join(zone_label(turn, zone, meter.zones, i18n.kwh(kwh, turn.language))
                     for zone, kwh in sorted(zones.items()))


def chart_text(turn: Turn, account: Account, meters: list[Meter]) -> ChartText:
    parts = {}
    for meter in meters:
        for zone in range(1, meter.zones + 1):
            zone_name = turn.t(f"zone-{meter.zones}-{zone}") if meter.zones > 1 else ""
            if len(meters) == 1:
                parts[(meter.id, zone)] = zone_name or turn.t("chart-by-readings")
            elif zone_name:
                parts[(meter.id, zone)] = turn.t("chart-meter-zone", meter=meter.serial, zone=zone_name)
            else:
                parts[(meter.id, zone)] = turn.t("chart-meter", meter=meter.serial)
    return ChartText(
        title=turn.t("chart-title"),
        subtitle=turn.t("chart-subtitle", account=account.number),
        months=tuple(turn.t(f"month-short-{number}") for number in range(1, 13)),
        parts=parts,
        by_invoice=turn.t("chart-by-invoice"),
        no_data=turn.t("chart-no-data"),
    )



async def show_payments(turn: Turn, account: Account, period: Period) -> None:
    """The payments of a month or a year (`/history 2025`), and the online ones of it not yet in the billing; a period
    before the billing's history is said to be so, not shown as one without payments."""
    name = period_name(turn, period)
    if period.first > turn.app.today():
        turn.say("period-not-begun", period=name)
        return
    payments = [p for p in await turn.tx.payments_since(account.id, period.first) if p.paid_on <= period.last]
    start = min([history_start(account, await turn.tx.invoices(account.id))] + [p.paid_on for p in payments])
    if period.last < start:
        turn.say("payments-period-no-data", period=name, account=account.number, on=i18n.day(start))
        return
    lines = [
        turn.t("history-payment-purpose-line" if p.purpose else "history-payment-line",
               on=i18n.day(p.paid_on), amount=i18n.money(p.amount), purpose=p.purpose or "")
        for p in payments
    ]
    total = sum((p.amount for p in payments), Decimal(0))
    for online in await turn.tx.pending_payments(account.id):
        if period.first <= paid_day(turn, online) <= period.last:
            lines.append(turn.t("history-payment-pending-line", on=paid_on(turn, online), amount=i18n.money(online.amount)))
            total += online.amount
    parts = [turn.t("payments-period-from", on=i18n.day(start))] if period.first < start else []
    if lines:
        parts.insert(0, turn.t("payments-period-header", period=name, account=account.number, lines="\n".join(lines),
                               total=i18n.money(total)))
    else:
        parts.insert(0, turn.t("payments-period-none", period=name, account=account.number))
    turn.replies.append(Reply("\n".join(parts)))


async def cmd_history(turn: Turn, args: str) -> None:
    """`/history [ACCOUNT] [PERIOD]`: the last two years, or the payments of a month or a year."""
    chosen = account_and_period(turn, args)
    if chosen is None:
        turn.with_menu()
        return
    account, period = chosen
    if account is None and len(turn.accounts) == 1:
        account = turn.accounts[0]
    if account is None:
        suffix = f":{period.code}" if period else ""
        rows = [[turn.button("billing-account-button", f"hist:{a.id}{suffix}", account=a.number, address=a.address)]
                for a in turn.accounts]
        turn.say("history-choose-account", buttons=rows)
        return
    await history_of(turn, account, period)


async def on_history_button(turn: Turn, value: str) -> None:
    """`hist:<account id>` or `hist:<account id>:<period>` (2025, 2025-03), a button of /history's question."""
    turn.go(None)
    account_id, _, code = value.partition(":")
    period = typed_period(turn, code) if code else None
    account = await account_of_chat(turn, account_id)
    if account is not None and (period is not None or not code):
        await history_of(turn, account, period)
    elif account is not None:
        turn.say("button-stale")
        turn.with_menu()


async def history_of(turn: Turn, account: Account, period: Period | None) -> None:
    if period is None:
        await show_history(turn, account)
    else:
        await show_payments(turn, account, period)
        turn.with_menu()


FLOW = Flow(commands=(Command("history", cmd_history, needs=(linked,)),), actions=(Action("hist", on_history_button),))
