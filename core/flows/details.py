"""/details: an account's personal information (the seeds' «Персональна інформація»): EIC, contract, consumer type,
owner, address, tariff plan, meters; from it, the financial information (balance over a month or a year, the seeds'
«Фінансова інформація», also `/balance 2025`) and the payment history of a month or a year."""
from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

from core import i18n
from core.accounts import normalize_surname
from core.flows.account_choice import account_of_chat, account_view, period_name, typed_period
from core.flows.history import show_payments
from core.flows.registry import Action, Flow, Step
from core.flows.wording import paid_day, paid_on
from core.messages import Reply
from core.model import Account
from core.periods import Period, history_start, period_balance

if TYPE_CHECKING:
    from core.conversation import Turn

_WORD = re.compile(r"[^\W\d_][^\W_'’ʼ-]*(?:['’ʼ-][^\W_]+)*")


def masked_name(full_name: str, surname: str) -> str:
    """The owner's name as other chats of the account see it: the surname (which they typed to link it) in full,
    every other word cut to its first letter, "Шевченко Т. Г."."""
    key = normalize_surname(surname)
    return _WORD.sub(lambda word: word[0] if normalize_surname(word[0]) == key else word[0][0] + ".", full_name)


async def show_details(turn: Turn, account: Account) -> None:
    lines = [turn.t("details-header", account=account.number)]
    lines.append(turn.t("details-eic", eic=account.eic) if account.eic else turn.t("details-eic-unknown"))
    number, signed_on = account.contract_number, account.contract_date
    if number and signed_on:
        lines.append(turn.t("details-contract", number=number, on=i18n.day(signed_on)))
    elif number:
        lines.append(turn.t("details-contract-number", number=number))
    elif signed_on:
        lines.append(turn.t("details-contract-date", on=i18n.day(signed_on)))
    else:
        lines.append(turn.t("details-contract-unknown"))
    lines.append(turn.t("details-consumer-type", kind=account.consumer_type))
    # The full name only to the chat that linked the account first, as an order's phone only to the chat that placed it.
    if await turn.tx.first_linked_chat(account.id) == turn.chat.id:
        lines.append(turn.t("details-owner", name=account.full_name))
    else:
        lines.append(turn.t("details-owner-masked", name=masked_name(account.full_name, account.surname)))
    lines.append(turn.t("details-address", address=account.address))
    lines.append(turn.t("details-tariff", plan=account.tariff_plan))
    meters = await turn.tx.meters([account.id])
    if meters:
        meter_lines = [
            turn.t("details-meter-line", meter=m.serial, type=m.type, digits=m.digits, zones=m.zones,
                   on=i18n.day(m.next_verification_on)) if m.next_verification_on is not None
            else turn.t("details-meter-line-no-verification", meter=m.serial, type=m.type, digits=m.digits,
                        zones=m.zones)
            for m in meters
        ]
        lines.append(turn.t("details-meters", lines="\n".join(meter_lines)))
    else:
        lines.append(turn.t("details-no-meters"))
    buttons = [[turn.button("details-finances-button", f"fin:{account.id}"),
                turn.button("details-payments-button", f"pays:{account.id}")]]
    turn.replies.append(Reply("\n".join(lines), buttons + turn.menu()))


async def show_finances(turn: Turn, account: Account, period: Period) -> None:
    """The balance at the start and the end of the period, the invoices and payments between; only where the
    billing's history reaches (core/periods.py)."""
    today = turn.app.today()
    name = period_name(turn, period)
    if period.first > today:
        turn.say("period-not-begun", period=name)
        return
    invoices = await turn.tx.invoices(account.id)
    payments = await turn.tx.payments_since(account.id, min(period.first, account.balance_on))
    statement = period_balance(account, invoices, payments, period, today)
    if statement is None:
        turn.say("finances-no-data", period=name, account=account.number,
                 on=i18n.day(history_start(account, invoices)))
        return
    lines = [turn.t("finances-header", account=account.number, period=name)]
    if statement.first > period.first:
        lines.append(turn.t("finances-from", on=i18n.day(statement.first)))
    lines.append(_by_sign(turn, "finances-opening", statement.opening, statement.first))
    lines.append(turn.t("finances-charged", amount=i18n.money(statement.charged)))
    lines += [turn.t("finances-invoice-line", month=turn.app.translator.text(turn.language, i18n.month(i.period)),
                     on=i18n.day(i.issued_on), amount=i18n.money(i.amount)) for i in statement.invoices]
    lines.append(turn.t("finances-paid", amount=i18n.money(statement.paid)))
    lines += [turn.t("finances-payment-line", on=i18n.day(p.paid_on), amount=i18n.money(p.amount))
              for p in statement.payments]
    lines.append(_by_sign(turn, "finances-closing", statement.closing, statement.last))
    # Paid online and not in the billing yet: not in its balance, but named, as /balance names them.
    for payment in await turn.tx.pending_payments(account.id):
        if statement.first <= paid_day(turn, payment) <= statement.last:
            lines.append(turn.t("due-pending-payment", amount=i18n.money(payment.amount), on=paid_on(turn, payment)))
    turn.replies.append(Reply("\n".join(lines)))


def _by_sign(turn: Turn, key: str, amount: Decimal, on: date) -> str:
    kind = "owed" if amount > 0 else "overpaid" if amount < 0 else "zero"
    return turn.t(key, kind=kind, amount=i18n.money(abs(amount)), on=i18n.day(on))


async def ask_period(turn: Turn, value: str, view: str) -> None:
    turn.go(None)
    account = await account_of_chat(turn, value)
    if account is None:
        return
    turn.go("period", view=view, account=account.id)
    turn.say(f"period-ask-{view}", account=account.number)


async def on_finances(turn: Turn, value: str) -> None:
    """`fin:<account id>`, a button of /details: which month or year?"""
    await ask_period(turn, value, "finances")


async def on_payments(turn: Turn, value: str) -> None:
    """`pays:<account id>`, a button of /details: which month or year?"""
    await ask_period(turn, value, "payments")


async def step_period(turn: Turn, text: str | None, action: str | None) -> None:
    data = dict(turn.state.data) if turn.state else {}
    period = typed_period(turn, text or "")
    if period is None:
        turn.say("period-bad", text=(text or "").strip()[:40])
        return
    turn.go(None)
    account = await account_of_chat(turn, str(data.get("account", "")))
    if account is None:
        return
    if data.get("view") == "payments":
        await show_payments(turn, account, period)
    else:
        await show_finances(turn, account, period)
    turn.with_menu()


details_command, details_buttons = account_view("details", "details", "details-choose-account", show_details)
FLOW = Flow(
    commands=(details_command,),
    steps=(Step("period", step_period),),
    actions=(details_buttons, Action("fin", on_finances), Action("pays", on_payments)),
)
