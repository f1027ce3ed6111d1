"""/invoices: the invoices of this year and the last as PDFs, the utility's own or Kabinet's receipt, paid or with
a QR code for what is still unpaid."""
from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from core import i18n
from core.amount_due import due_of
from core.flows.account_choice import account_of_chat, account_view
from core.flows.balance import pay_buttons
from core.flows.history import window_start
from core.flows.registry import Action, Flow
from core.flows.wording import month_name
from core.messages import Reply
from core.model import Account, Invoice
from core.paying import invoice_pdf

if TYPE_CHECKING:
    from core.conversation import Turn

log = logging.getLogger(__name__)


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
    document = await asyncio.to_thread(invoice_pdf, turn.app.translator, turn.language, turn.app.payee, account,
                                       invoice, unpaid)
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
    pay = pay_buttons(turn, account, unpaid, invoice.period)
    turn.replies.append(Reply("\n".join(lines), [pay] if pay else [], document=document))


view_command, account_buttons = account_view("invoices", "invlist", "invoices-choose-account", show_invoices)
FLOW = Flow(commands=(view_command,), actions=(account_buttons, Action("invoice", on_invoice)))
