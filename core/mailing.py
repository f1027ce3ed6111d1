"""Notices by e-mail (issue 19.3): which kinds a chat may also take at its confirmed address, and the e-mail made
of a notice: its subject, its text with the Pay links written out, and for an invoice the invoice's PDF.

A notice's e-mail is a row of its own in the outbox (`via` EMAIL), planned when the chat's row is first handled
and sent by the dispatcher through the Mailer with its own pace and tries, so the chat's delivery never waits
for the mail server nor fails with it."""
from __future__ import annotations

import asyncio
from datetime import datetime
from typing import TYPE_CHECKING

from core import i18n, paying
from core.amount_due import due_of
from core.email_address import ChatEmail
from core.messages import Attachment, Email, Reply
from core.model import Payee
from core.notifications import Kind, OutboxMessage
from core.ports import NoticeSources

if TYPE_CHECKING:
    from core.i18n import Translator

EMAIL = "email"  # an outbox row's `via` for the copy that goes to the chat's e-mail address

# The /settings e-mail switch (core.email_address.EMAIL_NOTICES) each kind of notice goes by; others are never mailed.
EMAIL_SWITCH = {
    Kind.INVOICE: "invoice",
    Kind.DEBT: "debt",
    Kind.READING_WINDOW: "reading",
    Kind.READING_LAST_DAY: "reading",
    Kind.VERIFICATION: "verification",
    Kind.OUTAGE: "outages",
    Kind.OUTAGE_END: "outages",
    Kind.ORDER: "orders",
}


def mailed(address: ChatEmail | None, kind: Kind) -> bool:
    """Whether a notice of `kind` also goes to the chat's address (confirmed, not refused, its switch on)."""
    return address is not None and kind in EMAIL_SWITCH and address.wants(EMAIL_SWITCH[kind])


def email_of(to: str, subject: str, replies: list[Reply], footer: str = "", reference: str | None = None) -> Email:
    """Core's replies as one e-mail: their texts as paragraphs, a link button as its label and address (the
    bank's payment page), their documents and pictures attached; other buttons answer only in the chat."""
    paragraphs, attachments = [], []
    for reply in replies:
        lines = [reply.text] if reply.text else []
        lines += [f"{button.label}: {button.url}" for button in reply.all_buttons() if button.url]
        if lines:
            paragraphs.append("\n".join(lines))
        attachments += [file for file in (reply.document, reply.image) if file is not None]
    if footer:
        paragraphs.append(footer)
    return Email(to, subject, "\n\n".join(paragraphs), tuple(attachments), reference)


async def notice_email(tx: NoticeSources, translator: Translator, item: OutboxMessage, address: ChatEmail,
                       replies: list[Reply], payee: Payee | None, now: datetime) -> Email | None:
    """The e-mail of a notice the chat was sent as `replies`; an invoice's is its own letter with the PDF and the
    Pay links for what is still unpaid of it. None: the invoice is gone."""
    language = item.language
    kind = Kind(item.kind)

    def t(key: str, **args: object) -> str:
        return translator(language, key, **args)

    footer = t("email-footer")
    reference = f"kabinet-outbox-{item.id}"  # the same Message-ID when a send is retried: a mailbox keeps one
    if kind is Kind.INVOICE:
        accounts = await tx.find_accounts([item.subject])
        invoice = await tx.invoice(accounts[0].id, item.period) if accounts else None
        if invoice is None:
            return None
        account = accounts[0]
        unpaid = (await due_of(tx, account)).unpaid(invoice, await tx.invoices(account.id, invoice.period))
        document: Attachment = await asyncio.to_thread(paying.invoice_pdf, translator, language, payee, account,
                                                       invoice, unpaid)
        month = translator.text(language, i18n.month(invoice.period))
        body = t("email-invoice-body", month=month, account=account.number, amount=i18n.money(invoice.amount),
                 kwh=i18n.kwh(invoice.kwh, language), due=i18n.day(invoice.due_on))
        pay = paying.pay_buttons(translator, language, payee, account, unpaid, now, invoice.period)
        return email_of(address.address, t("email-invoice-subject", month=month, account=account.number),
                        [Reply(body, [pay] if pay else [], document=document)], footer, reference)
    subject = t(f"email-subject-{EMAIL_SWITCH[kind]}", subject=item.subject)
    return email_of(address.address, subject, replies, footer, reference)
