"""/balance: what to pay now for each linked account, with a Pay button, and how that amount is counted."""
from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

from core import i18n, paying
from core.amount_due import due_of, owed_now, unpaid_part
from core.flows.account_choice import account_and_period, account_of_chat
from core.flows.accounts import ask_to_link, linked_or_ask
from core.flows.details import show_finances
from core.flows.registry import Action, Command, Flow
from core.flows.wording import month_name, paid_on, verification_warning, zone_label
from core.messages import Button, Reply
from core.model import Account, AccountSummary, Invoice, OnlinePayment

if TYPE_CHECKING:
    from core.conversation import Turn


def signed(turn: Turn, amount: Decimal) -> str:
    """+712,80 грн or −UAH 300.00: a step of the arithmetic with its sign (a true minus sign)."""
    return ("+" if amount >= 0 else "\u2212") + turn.app.translator.text(turn.language, i18n.money(abs(amount)))


def by_sign(turn: Turn, amount: Decimal, keys: tuple[str, str, str], **args: object) -> str:
    """The text of keys (owed, overpaid, zero) the amount's sign picks, the amount without its sign."""
    owed, overpaid, zero = keys
    key = owed if amount > 0 else overpaid if amount < 0 else zero
    return turn.t(key, amount=i18n.money(abs(amount)), **args)


async def cmd_balance(turn: Turn, args: str) -> None:
    turn.go(None)
    if args.strip():
        turn.accounts = await linked_or_ask(turn)
        if not turn.accounts:
            return
        chosen = account_and_period(turn, args)
        if chosen is None:
            turn.with_menu()
            return
        account, period = chosen
        if period is not None:  # `/balance 2025`: the financial information of a month or a year
            for each in [account] if account is not None else turn.accounts:
                await show_finances(turn, each, period)
            turn.with_menu()
            return
    today = turn.app.today()
    summaries = await turn.tx.account_summaries(turn.chat.id, today)
    if not summaries:
        ask_to_link(turn)
        return
    for summary in summaries:
        owed = owed_now(summary.account.balance, summary.invoiced_since, summary.paid_since)  # pending ones in it
        pending = await pending_payments(turn, summary.account)
        parts = balance_lines(turn, summary, owed, pending, today)
        row = [turn.button("due-how-button", f"due:{summary.account.id}")]
        pay = pay_buttons(turn, summary.account, owed)
        turn.replies.append(Reply("\n".join(parts), [pay, row] if pay else [row]))
    turn.replies[-1].buttons += turn.menu()  # the last answer keeps the main menu under its own button


async def pending_payments(turn: Turn, account: Account) -> list[OnlinePayment]:
    """The account's online payments not yet in the billing, to name them. Only where the utility takes cards, so
    that elsewhere /balance reads nothing past the turn's opening statement (the summary's paid_since counts
    them all the same, should LiqPay have been turned off)."""
    if turn.app.payee is None or turn.app.payee.card is None:
        return []
    return await turn.tx.pending_payments(account.id)


def pay_buttons(turn: Turn, account: Account, amount: Decimal, month: str | None = None, *,
                service_order: int | None = None) -> list[Button]:
    """core.paying's Pay buttons, in the chat's language."""
    return paying.pay_buttons(turn.app.translator, turn.language, turn.app.payee, account, amount, turn.app.clock(),
                              month, service_order=service_order)


def balance_lines(turn: Turn, summary: AccountSummary, owed: Decimal, pending: list[OnlinePayment],
                  today: date) -> list[str]:
    """One account's /balance (`owed`: its amount to pay now), from its summary (the turn's opening statement has
    read it) and its pending online payments."""
    account = summary.account
    parts = [turn.t("due-header", account=account.number, address=account.address)]
    parts.append(by_sign(turn, owed, ("due-to-pay", "due-overpaid", "due-nothing")))
    parts.extend(turn.t("due-pending-payment", amount=i18n.money(p.amount), on=paid_on(turn, p)) for p in pending)
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
            zone_label(turn, zone, zone_count, i18n.decimal(price, turn.language)) for zone, price in sorted(prices.items())
        )
        parts.append(turn.t("balance-tariff", plan=account.tariff_plan, prices=price_text))
    for meter in summary.meters:
        parts.extend(verification_warning(turn, meter, today))
    return parts


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
        elif isinstance(step, OnlinePayment):
            lines.append(turn.t("due-how-pending", on=paid_on(turn, step), amount=signed(turn, -step.amount)))
        else:
            lines.append(turn.t("due-how-payment", on=i18n.day(step.paid_on), amount=signed(turn, -step.amount)))
    lines.append(by_sign(turn, due.total, ("due-how-to-pay", "due-how-overpaid", "due-how-nothing")))
    if due.counted_on_the_day:
        lines.append(turn.t("due-how-same-day", on=on))
    turn.say("due-how", account=account.number, lines="\n".join(lines))
    turn.with_menu()



FLOW = Flow(
    commands=(Command("balance", cmd_balance, summaries=True),),
    actions=(Action("due", on_due_explained),),
)
