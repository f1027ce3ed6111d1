"""Billing views: /balance (what to pay now and how it is counted), /history (payments, consumption and its chart,
readings), /invoices (PDFs, paid or with a QR code for what is still unpaid), /meter."""
from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from datetime import date
from decimal import Decimal
from typing import Awaitable, Callable

from core import i18n
from core.accounts import account_candidates
from core.amount_due import due_of, owed_now, unpaid_part
from core.charts import ChartText, consumption_chart
from core.consumption import MonthConsumption, monthly_consumption
from core.invoice_files import NotAnInvoicePdf, read_pdf
from core.conversation import Turn, register
from core.messages import Attachment, Button, Reply
from core.model import Account, AccountSummary, Invoice, Meter, MeterReading
from core.receipts import ReceiptPage, nbu_payment_link, payment_qr_png, receipt_pdf

log = logging.getLogger(__name__)

READING_SOURCES = ("telegram", "viber", "console", "cabinet", "controller", "receipt")
PURPOSE_LANGUAGE = "uk"  # a payment's purpose is read by the bank and the utility, whatever the chat's language


# ----- shared: which account, the two-year window, month names


async def chosen_account(turn: Turn, args: str, kind: str, question: str) -> Account | None:
    """The account a view is for: named in the command, the only one linked, or a question with buttons."""
    accounts = await turn.linked_or_ask()
    if not accounts:
        return None
    if args:
        wanted = set(account_candidates(args))
        for account in accounts:
            if account.number in wanted or (account.eic and account.eic in wanted):
                return account
        turn.say("billing-account-not-linked", account=args[:40])
    elif len(accounts) == 1:
        return accounts[0]
    rows = [
        [turn.button("billing-account-button", f"{kind}:{account.id}", account=account.number, address=account.address)]
        for account in accounts
    ]
    turn.say(question, buttons=rows)
    return None


async def account_of_chat(turn: Turn, account_id: str) -> Account | None:
    """A linked account by the id a button carries; None (said: stale button) when it is not linked."""
    for account in await turn.tx.linked_accounts(turn.chat.id):
        if account_id.isdecimal() and account.id == int(account_id):
            return account
    turn.say("button-stale")
    turn.with_menu()
    return None


def account_view(command: str, kind: str, question: str, show: Callable[[Turn, Account], Awaitable[None]]) -> None:
    """Register `/command [ACCOUNT]` and its account buttons `kind:<account id>` for a view of one account."""

    async def on_command(turn: Turn, args: str) -> None:
        turn.go(None)
        account = await chosen_account(turn, args, kind, question)
        if account is not None:
            await show(turn, account)

    async def on_button(turn: Turn, value: str) -> None:
        turn.go(None)
        account = await account_of_chat(turn, value)
        if account is not None:
            await show(turn, account)

    register.command(command)(on_command)
    register.action(kind)(on_button)


def window_start(today: date) -> date:
    """History covers the current and the previous year, as the web cabinets show it."""
    return date(today.year - 1, 1, 1)


def month_name(turn: Turn, period: str, language: str | None = None) -> str:
    """`2026-10` as words, "жовтень 2026", in the chat's language or the one given."""
    return turn.app.translator.text(language or turn.language, i18n.month(period))


def source_name(turn: Turn, source: str) -> str:
    return turn.t(f"reading-source-{source}") if source in READING_SOURCES else source


def zone_values(turn: Turn, zones: int, values: dict[int, str]) -> str:
    return " / ".join(turn.zone_label(zone, zones, values[zone]) for zone in sorted(values))


# ----- /balance


def signed(turn: Turn, amount: Decimal) -> str:
    """+712,80 грн or −UAH 300.00: a step of the arithmetic with its sign (a true minus sign)."""
    return ("+" if amount >= 0 else "\u2212") + turn.app.translator.text(turn.language, i18n.money(abs(amount)))


def by_sign(turn: Turn, amount: Decimal, keys: tuple[str, str, str], **args: object) -> str:
    """The text of keys (owed, overpaid, zero) the amount's sign picks, the amount without its sign."""
    owed, overpaid, zero = keys
    key = owed if amount > 0 else overpaid if amount < 0 else zero
    return turn.t(key, amount=i18n.money(abs(amount)), **args)


@register.command("balance")
async def cmd_balance(turn: Turn, args: str) -> None:
    turn.go(None)
    today = turn.app.today()
    summaries = await turn.tx.account_summaries(turn.chat.id, today)
    if not summaries:
        turn.ask_to_link()
        return
    for summary in summaries:
        owed = owed_now(summary.account.balance, summary.invoiced_since, summary.paid_since)
        parts = balance_lines(turn, summary, owed, today)
        row = [turn.button("due-how-button", f"due:{summary.account.id}")]
        pay = pay_button(turn, summary.account, owed)
        turn.replies.append(Reply("\n".join(parts), [[pay], row] if pay else [row]))
    turn.replies[-1].buttons += turn.menu()  # the last answer keeps the main menu under its own button


def pay_button(turn: Turn, account: Account, amount: Decimal, month: str | None = None) -> Button | None:
    """A link to the NBU payment page of `amount` (the bank app opens it on a phone); None when nothing is owed or
    the utility's payment details are not configured."""
    payee = turn.app.payee
    if payee is None or amount <= 0:
        return None
    if month is None:
        purpose = turn.app.translator(PURPOSE_LANGUAGE, "payment-purpose", account=account.number)
    else:
        purpose = turn.app.translator(PURPOSE_LANGUAGE, "receipt-purpose", account=account.number,
                                      month=month_name(turn, month, PURPOSE_LANGUAGE))
    return Button(turn.t("pay-button", amount=i18n.money(amount)), "", url=nbu_payment_link(payee, amount, purpose))


def balance_lines(turn: Turn, summary: AccountSummary, owed: Decimal, today: date) -> list[str]:
    """One account's /balance (`owed`: its amount to pay now), all from its summary: the turn's opening
    statement has read it."""
    account = summary.account
    parts = [turn.t("due-header", account=account.number, address=account.address)]
    parts.append(by_sign(turn, owed, ("due-to-pay", "due-overpaid", "due-nothing")))
    payment = summary.last_payment
    if payment:
        parts.append(turn.t("due-last-payment", amount=i18n.money(payment.amount), on=i18n.day(payment.paid_on)))
    invoice = summary.last_invoice
    if invoice:
        paid = invoice.amount > 0 and unpaid_part(owed, invoice, []) == 0
        parts.append(turn.t(
            "due-last-invoice-paid" if paid else "due-last-invoice", month=month_name(turn, invoice.period),
            amount=i18n.money(invoice.amount), kwh=i18n.kwh(invoice.kwh, turn.language), due=i18n.day(invoice.due_on),
        ))
    prices = summary.prices
    if prices:
        zone_count = len(prices)
        price_text = ", ".join(
            turn.zone_label(zone, zone_count, i18n.decimal(price, turn.language)) for zone, price in sorted(prices.items())
        )
        parts.append(turn.t("balance-tariff", plan=account.tariff_plan, prices=price_text))
    for meter in summary.meters:
        parts.extend(turn.verification_warning(meter, today))
    return parts


@register.action("due")
async def on_due_explained(turn: Turn, value: str) -> None:
    """`due:<account id>`: the arithmetic of the amount to pay, one line per step."""
    turn.go(None)
    account = await account_of_chat(turn, value)
    if account is None:
        return
    due = await due_of(turn.tx, account)
    on = i18n.day(due.balance_on)
    lines = [by_sign(turn, due.balance, ("due-how-balance-owed", "due-how-balance-overpaid", "due-how-balance-zero"),
                     on=on)]
    for step in due.steps():
        if isinstance(step, Invoice):
            lines.append(turn.t("due-how-invoice", month=month_name(turn, step.period), on=i18n.day(step.issued_on),
                                amount=signed(turn, step.amount)))
        else:
            lines.append(turn.t("due-how-payment", on=i18n.day(step.paid_on), amount=signed(turn, -step.amount)))
    lines.append(by_sign(turn, due.total, ("due-how-to-pay", "due-how-overpaid", "due-how-nothing")))
    if due.counted_on_the_day:
        lines.append(turn.t("due-how-same-day", on=on))
    turn.say("due-how", account=account.number, lines="\n".join(lines))
    turn.with_menu()


# ----- /history


async def show_history(turn: Turn, account: Account) -> None:
    today = turn.app.today()
    since = window_start(today)
    first_month = since.strftime("%Y-%m")
    turn.say("history-header", account=account.number, address=account.address, first=str(since.year), last=str(today.year))

    payments = await turn.tx.payments_since(account.id, since)
    if payments:
        lines = [
            turn.t("history-payment-purpose-line" if p.purpose else "history-payment-line",
                   on=i18n.day(p.paid_on), amount=i18n.money(p.amount), purpose=p.purpose or "")
            for p in payments
        ]
        turn.say("history-payments", lines="\n".join(lines), count=len(payments))
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


account_view("history", "hist", "history-choose-account", show_history)


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
    return ", ".join(turn.zone_label(zone, meter.zones, i18n.kwh(kwh, turn.language))
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


# ----- /invoices


async def show_invoices(turn: Turn, account: Account) -> None:
    invoices = await turn.tx.invoices(account.id, window_start(turn.app.today()).strftime("%Y-%m"))
    if not invoices:
        turn.say("invoices-none", account=account.number)
        turn.with_menu()
        return
    await send_invoice(turn, account, invoices[0], invoices)
    if len(invoices) > 1:
        buttons = [
            turn.button("invoices-month-button", f"invoice:{invoice.period}:{account.id}", month=month_name(turn, invoice.period))
            for invoice in invoices[1:]
        ]
        turn.say("invoices-archive", buttons=[buttons[i:i + 2] for i in range(0, len(buttons), 2)], account=account.number)
    else:
        turn.with_menu()


account_view("invoices", "invlist", "invoices-choose-account", show_invoices)


@register.action("invoice")
async def on_invoice(turn: Turn, value: str) -> None:
    """`invoice:2026-10:<account id>`: one month's invoice, from a button of the archive."""
    turn.go(None)
    period, _, account_id = value.partition(":")
    account = await account_of_chat(turn, account_id)
    if account is None:
        return
    from_period = await turn.tx.invoices(account.id, period)  # this one and the newer ones
    invoice = next((i for i in from_period if i.period == period), None)
    if invoice is None:
        turn.say("invoice-missing", month=month_name(turn, period) if _is_period(period) else period[:7],
                 account=account.number)
    else:
        await send_invoice(turn, account, invoice, from_period)
    turn.with_menu()


def _is_period(text: str) -> bool:
    year, _, month = text.partition("-")
    return len(year) == 4 and year.isdecimal() and month.isdecimal() and 1 <= int(month) <= 12


async def send_invoice(turn: Turn, account: Account, invoice: Invoice, others: list[Invoice]) -> None:
    """The invoice's summary, paid or what is still to pay of it, with its PDF: the utility's own when it sent
    one, else Kabinet's receipt (with a QR code for the unpaid part only). `others`: the account's invoices at
    least as new as this one, which take what is owed first."""
    due = await due_of(turn.tx, account)
    unpaid = due.unpaid(invoice, others)
    content = await asyncio.to_thread(_utility_pdf, invoice.pdf)
    if content is None:
        content = await asyncio.to_thread(receipt_pdf, receipt_page(turn, account, invoice, unpaid))
    lines = [turn.t(
        "invoice-summary", month=month_name(turn, invoice.period), account=account.number,
        amount=i18n.money(invoice.amount), kwh=i18n.kwh(invoice.kwh, turn.language), issued=i18n.day(invoice.issued_on),
        due=i18n.day(invoice.due_on),
    )]
    if invoice.amount > 0:
        if unpaid == 0:
            lines.append(turn.t("invoice-paid"))
        elif unpaid < invoice.amount:
            lines.append(turn.t("invoice-part-paid", amount=i18n.money(unpaid)))
        else:
            lines.append(turn.t("invoice-to-pay", amount=i18n.money(unpaid)))
    if due.total > 0 and due.total != unpaid:  # other invoices or older debt owed too
        lines.append(turn.t("invoice-account-due", amount=i18n.money(due.total)))
    pay = pay_button(turn, account, unpaid, invoice.period)
    turn.replies.append(Reply(
        "\n".join(lines), [[pay]] if pay else [],
        document=Attachment(f"invoice-{account.number}-{invoice.period}.pdf", content, "application/pdf"),
    ))


def _utility_pdf(path: str | None) -> bytes | None:
    if not path:
        return None
    try:
        return read_pdf(path)
    except (NotAnInvoicePdf, OSError) as exc:  # gone, a link, or no PDF: never send what it points to
        log.warning("invoice PDF %s %s; rendering a receipt instead", path, exc)
        return None


def receipt_page(turn: Turn, account: Account, invoice: Invoice, unpaid: Decimal) -> ReceiptPage:
    """The receipt of an invoice of which `unpaid` is still to pay: a QR code for that, or "paid"."""
    month = month_name(turn, invoice.period)
    payee = turn.app.payee
    purpose = turn.app.translator(PURPOSE_LANGUAGE, "receipt-purpose", account=account.number,
                                  month=month_name(turn, invoice.period, PURPOSE_LANGUAGE))
    qr_png = None
    payee_rows = [(turn.t("receipt-payee-missing"), "")]
    if payee is not None:
        payee_rows = [
            (turn.t("receipt-payee-name"), payee.name),
            (turn.t("receipt-payee-iban"), payee.iban),
            (turn.t("receipt-payee-code"), payee.code),
            (turn.t("receipt-purpose-label"), purpose),
        ]
        if unpaid > 0:
            qr_png = payment_qr_png(nbu_payment_link(payee, unpaid, purpose))
    rows = [
        (turn.t("receipt-account"), account.number),
        (turn.t("receipt-consumer"), account.full_name),
        (turn.t("receipt-address"), account.address),
        (turn.t("receipt-period"), month),
        (turn.t("receipt-consumption"), turn.t("receipt-kwh", kwh=i18n.kwh(invoice.kwh, turn.language))),
        (turn.t("receipt-amount"), turn.app.translator.text(turn.language, i18n.money(invoice.amount))),
    ]
    if unpaid > 0:
        rows.append((turn.t("receipt-to-pay"), turn.app.translator.text(turn.language, i18n.money(unpaid))))
    rows += [
        (turn.t("receipt-issued"), i18n.day(invoice.issued_on)),
        (turn.t("receipt-due"), i18n.day(invoice.due_on)),
    ]
    return ReceiptPage(
        title=turn.t("receipt-title", month=month),
        rows=rows,
        payee_title=turn.t("receipt-payee"),
        payee_rows=payee_rows,
        qr_png=qr_png,
        qr_caption=turn.t("receipt-qr-caption"),
        footer=turn.t("receipt-footer"),
        stamp=turn.t("receipt-paid") if invoice.amount > 0 and unpaid == 0 else None,
    )


# ----- /meter


@register.command("meter")
async def cmd_meter(turn: Turn, args: str) -> None:
    turn.go(None)
    accounts = await turn.linked_or_ask()
    if not accounts:
        return
    meters = await turn.tx.meters([a.id for a in accounts])
    if not meters:
        turn.say("meter-none")
        turn.with_menu()
        return
    numbers = {a.id: a.number for a in accounts}
    today = turn.app.today()
    for meter in meters:
        zone_names = ", ".join(turn.t(f"zone-{meter.zones}-{zone}") for zone in range(1, meter.zones + 1))
        parts = [turn.t(
            "meter-card", account=numbers[meter.account_id], meter=meter.serial, type=meter.type,
            digits=meter.digits, zones=meter.zones, names=zone_names, k=i18n.kwh(meter.k_factor, turn.language),
            installed=i18n.day(meter.installed_on),
        )]
        if meter.next_verification_on is not None:
            parts.append(turn.t("meter-verification", on=i18n.day(meter.next_verification_on)))
        else:
            parts.append(turn.t("meter-verification-unknown"))
        last = await turn.tx.last_readings(meter.id, date.max)
        if last:
            shown = zone_values(turn, meter.zones, {zone: str(r.value) for zone, r in last.items()})
            newest = max(last.values(), key=lambda r: r.taken_on)
            parts.append(turn.t("meter-last-reading", values=shown, on=i18n.day(newest.taken_on),
                                source=source_name(turn, newest.source)))
        else:
            parts.append(turn.t("meter-no-readings"))
        parts.extend(turn.verification_warning(meter, today))
        turn.replies.append(Reply("\n".join(parts)))
    turn.with_menu()
