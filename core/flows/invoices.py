"""/invoices: the invoices of this year and the last as PDFs, the utility's own or Kabinet's receipt, paid or with
a QR code for what is still unpaid."""
from __future__ import annotations

import asyncio
import logging
from decimal import Decimal
from typing import TYPE_CHECKING

from core import i18n
from core.amount_due import due_of
from core.flows.account_choice import account_of_chat, account_view
from core.flows.balance import PURPOSE_LANGUAGE, pay_buttons
from core.flows.history import window_start
from core.flows.registry import Action, Flow
from core.flows.wording import month_name
from core.invoice_files import NotAnInvoicePdf, read_pdf
from core.messages import Attachment, Reply
from core.model import Account, Invoice
from core.receipts import ReceiptPage, nbu_payment_link, payment_qr_png, receipt_pdf

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
    pay = pay_buttons(turn, account, unpaid, invoice.period)
    turn.replies.append(Reply(
        "\n".join(lines), [pay] if pay else [],
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



view_command, account_buttons = account_view("invoices", "invlist", "invoices-choose-account", show_invoices)
FLOW = Flow(commands=(view_command,), actions=(account_buttons, Action("invoice", on_invoice)))
