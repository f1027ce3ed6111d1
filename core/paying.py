"""What a consumer pays with, in an answer to a turn and in a notice from the outbox alike: the Pay buttons and an
invoice's PDF (the utility's own, or Kabinet's receipt with a payment QR code for what is still unpaid)."""
from __future__ import annotations

import logging
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from core import i18n
from core.invoice_files import NotAnInvoicePdf, read_pdf
from core.messages import Attachment, Button
from core.model import Account, Invoice, Payee
from core.receipts import ReceiptPage, nbu_payment_link, payment_qr_png, receipt_pdf

if TYPE_CHECKING:
    from core.i18n import Translator

log = logging.getLogger(__name__)

PURPOSE_LANGUAGE = "uk"  # a payment's purpose is read by the bank and the utility, whatever the chat's language


def pay_buttons(translator: Translator, language: str, payee: Payee | None, account: Account, amount: Decimal,
                now: datetime, month: str | None = None, *, service_order: int | None = None) -> list[Button]:
    """Links that pay `amount`: the NBU payment page (the bank app opens it on a phone) and, when the utility
    takes cards, its card payment page; none when nothing is owed or the payment details are not configured.
    With `service_order`, they pay that order of a service (its purpose), not the electricity."""
    if payee is None or amount <= 0:
        return []
    if service_order is not None:
        purpose = translator(PURPOSE_LANGUAGE, "order-payment-purpose", order=str(service_order),
                             account=account.number)
    elif month is None:
        purpose = translator(PURPOSE_LANGUAGE, "payment-purpose", account=account.number)
    else:
        purpose = translator(PURPOSE_LANGUAGE, "receipt-purpose", account=account.number,
                             month=translator.text(PURPOSE_LANGUAGE, i18n.month(month)))
    buttons = [Button(translator(language, "pay-button", amount=i18n.money(amount)), "",
                      url=nbu_payment_link(payee, amount, purpose))]
    if payee.card is not None:
        # A link to our server, which records the order only when it is opened (core/pay_links.py).
        buttons.append(Button(translator(language, "pay-card-button"), "",
                              url=payee.card.link(account.id, amount, language, now, service_order)))
    return buttons


def invoice_pdf(translator: Translator, language: str, payee: Payee | None, account: Account, invoice: Invoice,
                unpaid: Decimal) -> Attachment:
    """The invoice as a PDF: the utility's own when it sent one, else Kabinet's receipt. Blocking (it reads a file
    or draws one): run it in a thread."""
    content = _utility_pdf(invoice.pdf)
    if content is None:
        content = receipt_pdf(receipt_page(translator, language, payee, account, invoice, unpaid))
    return Attachment(f"invoice-{account.number}-{invoice.period}.pdf", content, "application/pdf")


def _utility_pdf(path: str | None) -> bytes | None:
    if not path:
        return None
    try:
        return read_pdf(path)
    except (NotAnInvoicePdf, OSError) as exc:  # gone, a link, or no PDF: never send what it points to
        log.warning("invoice PDF %s %s; rendering a receipt instead", path, exc)
        return None


def receipt_page(translator: Translator, language: str, payee: Payee | None, account: Account, invoice: Invoice,
                 unpaid: Decimal) -> ReceiptPage:
    """The receipt of an invoice of which `unpaid` is still to pay: a QR code for that, or "paid"."""

    def t(key: str, **args: object) -> str:
        return translator(language, key, **args)

    month = translator.text(language, i18n.month(invoice.period))
    purpose = translator(PURPOSE_LANGUAGE, "receipt-purpose", account=account.number,
                         month=translator.text(PURPOSE_LANGUAGE, i18n.month(invoice.period)))
    qr_png = None
    payee_rows = [(t("receipt-payee-missing"), "")]
    if payee is not None:
        payee_rows = [
            (t("receipt-payee-name"), payee.name),
            (t("receipt-payee-iban"), payee.iban),
            (t("receipt-payee-code"), payee.code),
            (t("receipt-purpose-label"), purpose),
        ]
        if unpaid > 0:
            qr_png = payment_qr_png(nbu_payment_link(payee, unpaid, purpose))
    rows = [
        (t("receipt-account"), account.number),
        (t("receipt-consumer"), account.full_name),
        (t("receipt-address"), account.address),
        (t("receipt-period"), month),
        (t("receipt-consumption"), t("receipt-kwh", kwh=i18n.kwh(invoice.kwh, language))),
        (t("receipt-amount"), translator.text(language, i18n.money(invoice.amount))),
    ]
    if unpaid > 0:
        rows.append((t("receipt-to-pay"), translator.text(language, i18n.money(unpaid))))
    rows += [
        (t("receipt-issued"), i18n.day(invoice.issued_on)),
        (t("receipt-due"), i18n.day(invoice.due_on)),
    ]
    return ReceiptPage(
        title=t("receipt-title", month=month),
        rows=rows,
        payee_title=t("receipt-payee"),
        payee_rows=payee_rows,
        qr_png=qr_png,
        qr_caption=t("receipt-qr-caption"),
        footer=t("receipt-footer"),
        stamp=t("receipt-paid") if invoice.amount > 0 and unpaid == 0 else None,
    )
