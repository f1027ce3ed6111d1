"""Reminders and notifications: what may be sent to whom, and how a messenger's refusal is understood.

Planning only inserts rows into the outbox (a unique key per chat, kind, subject and period, so planning
twice plans once); the dispatcher renders each row when it is due, with the data as it is then, and
delivers it through the chat's channel.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from decimal import Decimal
from enum import Enum
from typing import TYPE_CHECKING, Any, Protocol

from core.amount_due import due_of
from core.messages import Button, Reply
from core.model import ChatSettings, Payee
from core.ports import Appeals, NoticeSources, ServiceOrders
from core.services import (
    AWAITING_CONFIRMATION, AWAITING_PAYMENT, catalogue, contract_of, service_name, service_of,
)

if TYPE_CHECKING:
    from core.i18n import Translate, Translator
    from core.readings import ReadingWindow


QUIET_HOURS = "quiet hours"  # the outcome of a queued message held until the chat's quiet hours end
OUTAGE_UPDATE = "update-"  # the period of an outage notice that tells of new times or reason, not of the outage


class Kind(str, Enum):
    READING_WINDOW = "reading-window"
    READING_LAST_DAY = "reading-last-day"
    INVOICE = "invoice"
    DEBT = "debt"
    VERIFICATION = "verification"
    OUTAGE = "outage"
    OUTAGE_END = "outage-end"
    ORDER = "order"
    BROADCAST = "broadcast"
    APPEAL = "appeal"
    REPLY = "reply"  # an answer to the consumer the messenger did not take at the time
    ACCOUNT_LINKED = "account-linked"  # another chat linked an account this chat has
    PAYMENT = "payment"  # a payment on the provider's page reached us (its amount is in the row's text)


# Which of the chat's reminder switches (/settings) governs each kind; None: always sent.
SWITCH = {
    Kind.READING_WINDOW: "reading",
    Kind.READING_LAST_DAY: "reading",
    Kind.INVOICE: "invoice",
    Kind.DEBT: "invoice",
    Kind.VERIFICATION: "verification",
    Kind.OUTAGE: "outages",
    Kind.OUTAGE_END: "outages",
    Kind.ORDER: "orders",
    Kind.BROADCAST: None,
    Kind.APPEAL: None,  # the call centre's answer to the consumer's own question, not a reminder
    Kind.REPLY: None,
    Kind.ACCOUNT_LINKED: None,  # the owner's one warning of a takeover
    Kind.PAYMENT: None,  # the receipt of the consumer's own payment, not a reminder
}


@dataclass(frozen=True)
class Notice:
    """One message planned for one chat."""

    chat_id: int
    kind: Kind
    subject: str
    period: str

    @property
    def key(self) -> str:
        return outbox_key(self.chat_id, self.kind, self.subject, self.period)


@dataclass(frozen=True)
class OutboxMessage:
    """One row of the outbox as the dispatcher delivers it, with its chat's address and language."""

    id: int
    chat_id: int
    channel: str
    external_id: str
    language: str
    active: bool
    kind: str
    subject: str
    period: str
    attempts: int
    text: dict[str, Any] | None  # JSON: the packed replies, a broadcast's text per language, a payment's amount
    via: str | None = None  # None: the chat's messenger; core.mailing.EMAIL: the chat's e-mail address


def outbox_key(chat_id: int, kind: Kind | str, subject: str, period: str) -> str:
    return f"{chat_id}:{Kind(kind).value}:{subject}:{period}"


def wants(settings: ChatSettings, kind: Kind) -> bool:
    """Whether the chat's reminder switches let this kind through."""
    switch = SWITCH[kind]
    return switch is None or settings.wants(switch)


def quiet_until(settings: ChatSettings, local: datetime) -> datetime | None:
    """The local time the chat's quiet hours end, when `local` falls inside them; None otherwise."""
    start, end = settings.quiet_from, settings.quiet_to
    if start is None or end is None or start == end:
        return None
    now = local.timetz().replace(tzinfo=None)
    inside = (start <= now < end) if start < end else (now >= start or now < end)
    if not inside:
        return None
    ends = local.replace(hour=end.hour, minute=end.minute, second=0, microsecond=0)
    return ends if ends > local else ends + timedelta(days=1)


def linked_from(channel: str, at: datetime) -> str:
    """An account-linked notice's period: the channel of the chat that linked the account, and when (UTC)."""
    return f"{channel}@{at.astimezone(UTC):%Y-%m-%dT%H:%M:%SZ}"


# ----- the dates each rule keys on


def window_opening_tomorrow(window: ReadingWindow, today: date) -> date | None:
    """The opening day when the reading window opens tomorrow (the day-before reminder)."""
    tomorrow = today + timedelta(days=1)
    if window.always or not window.is_open(tomorrow) or window.is_open(today):
        return None
    return tomorrow


def window_last_day(window: ReadingWindow, today: date) -> date | None:
    """The window's opening day, when today is its last day (the reminder to those who have not submitted)."""
    if window.always or not window.is_open(today) or window.closing(today) != today:
        return None
    opening = today
    while window.is_open(opening - timedelta(days=1)):
        opening -= timedelta(days=1)
    return opening


VERIFICATION_NOTICE_DAYS = 90


# ----- a daily job's run, planned as one row and expanded into the outbox as it is sent

PLAN_BATCH = 5000  # chats' links expanded into outbox rows in one short transaction


@dataclass(frozen=True)
class ReminderPlan:
    """One run of a daily reminder job: its rule and the day it keys on (the window's opening for the reading
    reminders, the first day of the invoices still news, today for debts and verifications). The job records it
    once, by its key, and its rows are inserted batch by batch as the dispatcher sends them: a million chats are
    not written at once, and a second run of the job finds the plan and plans nothing."""

    kind: Kind
    day: date
    notice_days: int = 0  # verifications: how far ahead a due date is news
    run: str = ""  # what tells apart two runs the same day that each plan anew (an import's moment)

    @property
    def key(self) -> str:
        return ":".join(part for part in (self.kind.value, self.day.isoformat(), self.run) if part)


@dataclass(frozen=True)
class Expansion:
    """What expanding a plan did: the outbox rows it inserted, and whether every chat is now planned."""

    planned: int
    finished: bool


# ----- delivery


class DeliveryError(Exception):
    """A messenger did not take the message."""


class RetryAfter(DeliveryError):
    """Too many requests: the messenger asks to wait (Telegram 429 retry_after, Viber status 12)."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"retry after {seconds} s")
        self.seconds = seconds


class ChatUnreachable(DeliveryError):
    """The user blocked the bot or unsubscribed: nothing more is sent until they write again."""


class TransientFailure(DeliveryError):
    """A network error, a timeout or a 5xx: tried again later with backoff."""


class MailboxRefused(DeliveryError):
    """The recipient's mail server refused the address for good (a 5xx to RCPT: no such mailbox, mail refused).
    Retrying would not help; nothing more should be mailed there until the consumer gives an address again."""


class Sender(Protocol):
    """Delivers replies to one chat of one messenger, raising a DeliveryError subclass when it cannot."""

    async def deliver(self, external_id: str, replies: list[Reply]) -> None: ...


# ----- rendering, when a row is due: with the data as it is then; None means "no longer relevant"


def packed_replies(replies: list[Reply]) -> dict[str, Any]:
    """Replies as an outbox row keeps them (JSON): texts and buttons. A picture or a document is not kept;
    its caption is, so the consumer still hears what the answer said."""
    return {"replies": [
        {"text": reply.text, "buttons": [[[button.label, button.action] for button in row] for row in reply.buttons]}
        for reply in replies if reply.text or reply.buttons
    ]}


def unpacked_replies(packed: dict[str, Any] | None) -> list[Reply]:
    return [
        Reply(item.get("text", ""), [[Button(label, action) for label, action in row] for row in item.get("buttons", [])])
        for item in (packed or {}).get("replies", [])
    ]


async def render(tx: NoticeSources, translator: Translator, item: OutboxMessage, today: date, window: ReadingWindow,
                 timezone: tzinfo | None = None, payee: Payee | None = None,
                 now: datetime | None = None) -> list[Reply] | None:
    """The replies for one outbox row (`item` has kind, subject, period, language, text); `payee`: the utility's
    payment details, for the Pay buttons of a debt."""
    from core import i18n, paying

    language = item.language
    kind = Kind(item.kind)

    def t(key: str, **args: object) -> str:
        return translator(language, key, **args)

    if kind is Kind.REPLY:
        return unpacked_replies(item.text) or None
    if kind is Kind.BROADCAST:
        texts = item.text or {}
        body = texts.get(language) or texts.get("uk") or next(iter(texts.values()), "")
        return [Reply(body)] if body else None
    if kind in (Kind.READING_WINDOW, Kind.READING_LAST_DAY):
        opening = date.fromisoformat(item.period)
        if kind is Kind.READING_WINDOW:
            return [Reply(t("notice-reading-window", account=item.subject, opens=i18n.day(opening),
                            closes=i18n.day(window.closing(opening))))]
        return [Reply(t("notice-reading-last-day", account=item.subject, closes=i18n.day(today)))]
    if kind in (Kind.INVOICE, Kind.DEBT):
        accounts = await tx.find_accounts([item.subject])
        if not accounts:
            return None
        account = accounts[0]
        invoice = await tx.invoice(account.id, item.period)
        if invoice is None:
            return None
        if kind is Kind.DEBT:
            owed = (await due_of(tx, account)).total  # what /balance calls "to pay now", not the balance as of its day
            if owed <= 0:
                return None  # paid since it was planned
            pay = paying.pay_buttons(translator, language, payee, account, owed, now or datetime.now(UTC))
            return [Reply(t("notice-debt", account=account.number, amount=i18n.money(owed),
                            due=i18n.day(invoice.due_on)), [pay] if pay else [])]
        return [Reply(t("notice-invoice", account=account.number, period=i18n.month(invoice.period),
                        amount=i18n.money(invoice.amount), kwh=i18n.kwh(invoice.kwh, language),
                        due=i18n.day(invoice.due_on)))]
    if kind is Kind.VERIFICATION:
        meter = await tx.meter(int(item.subject))
        if meter is None or meter.next_verification_on is None:
            return None
        due = meter.next_verification_on
        key = "notice-verification-expired" if due < today else "notice-verification-soon"
        order = Button(t("notice-verification-order"), "svcorder:meter-verification")  # core/flows/services.py
        return [Reply(t(key, meter=meter.serial, on=i18n.day(due), days=(due - today).days), buttons=[[order]])]
    if kind in (Kind.OUTAGE, Kind.OUTAGE_END):
        return await render_outage(tx, t, item, kind, timezone)
    if kind is Kind.ORDER:
        return await render_order(tx, t, item)
    if kind is Kind.APPEAL:
        return await render_appeal(tx, t, item)
    if kind is Kind.PAYMENT:
        amount = (item.text or {}).get("amount")
        if amount is None:
            return None
        service_order = (item.text or {}).get("service_order")
        if service_order is not None:
            return [Reply(t("notice-order-payment-received", order=service_order, amount=i18n.money(Decimal(amount))))]
        return [Reply(t("notice-payment-received", account=item.subject, amount=i18n.money(Decimal(amount))))]
    if kind is Kind.ACCOUNT_LINKED:
        channel, _, at = item.period.partition("@")
        moment = datetime.fromisoformat(at).astimezone(timezone) if timezone else datetime.fromisoformat(at)
        return [Reply(t("notice-account-linked", account=item.subject, channel=channel,
                        at=i18n.day(moment) + moment.strftime(" %H:%M")))]
    return None


async def render_outage(tx: NoticeSources, t: Translate, item: OutboxMessage, kind: Kind,
                        timezone: tzinfo | None) -> list[Reply] | None:
    from core import i18n

    outage = await tx.outage(item.subject)
    if outage is None:
        return None

    def local(moment: datetime) -> str:
        moment = moment.astimezone(timezone) if timezone else moment
        return i18n.day(moment) + moment.strftime(" %H:%M")

    if kind is Kind.OUTAGE_END:
        return [Reply(t("notice-outage-end", reason=outage.reason))]
    if item.period.startswith(OUTAGE_UPDATE):
        key = "notice-outage-changed-planned" if outage.kind == "planned" else "notice-outage-changed-emergency"
    else:
        key = "notice-outage-planned" if outage.kind == "planned" else "notice-outage-emergency"
    from core.contacts import emergency_line

    ends = local(outage.ends_at) if outage.ends_at else t("notice-outage-end-unknown")
    text = t(key, starts=local(outage.starts_at), ends=ends, reason=outage.reason)
    emergency = emergency_line(t, await tx.contacts())
    return [Reply(f"{text}\n{emergency}" if emergency else text)]


# The statuses that ask something of the consumer; the notice says what (core.services' names)
ORDER_NEXT_STEPS = {"awaiting_confirmation": "notice-order-confirm", "awaiting_payment": "notice-order-pay"}
CONTRACT_NOTICE = "contract-"  # an order notice's period: the contract attached (its file id follows)


async def render_order(tx: ServiceOrders, t: Translate, item: OutboxMessage) -> list[Reply] | None:
    """`Заявка №N «service»: status`, the operator's comment, and what to do next when it is the consumer's turn:
    at "awaiting confirmation" the contract with Accept / Decline, at "awaiting payment" a button to the order's
    payment."""
    if item.period.startswith(CONTRACT_NOTICE):
        return await render_contract(tx, t, item)
    change = await tx.order_event(int(item.period))
    if change is None:
        return None
    service = service_of(await catalogue(tx), change.service)
    name = service_name(service, item.language, lambda _, key: t(key))
    lines = [t("notice-order", order=item.subject, service=name, status=t(f"order-status-{change.status}"))]
    if change.comment:
        lines.append(t("order-comment", comment=change.comment))
    if change.status in ORDER_NEXT_STEPS:
        lines.append(t(ORDER_NEXT_STEPS[change.status]))
    if change.status == AWAITING_CONFIRMATION:
        return [Reply("\n".join(lines), [confirmation_buttons(t, change.order_id)],
                      document=await contract_of(tx, change.order_id))]
    if change.status == AWAITING_PAYMENT:
        return [Reply("\n".join(lines), [[Button(t("notice-order-pay-button"), f"order:{change.order_id}")]])]
    return [Reply("\n".join(lines))]


async def render_contract(tx: ServiceOrders, t: Translate, item: OutboxMessage) -> list[Reply] | None:
    """A contract attached while the order awaits confirmation; None once it no longer does."""
    order = await tx.service_order(int(item.subject))
    document = await contract_of(tx, int(item.subject))
    if order is None or order.status != AWAITING_CONFIRMATION or document is None:
        return None
    name = service_name(service_of(await catalogue(tx), order.service), item.language, lambda _, key: t(key))
    return [Reply(t("notice-order-contract", order=item.subject, service=name),
                  [confirmation_buttons(t, order.id)], document=document)]


def confirmation_buttons(t: Translate, order_id: int) -> list[Button]:
    """Accept the contract (the order moves on) or decline the service (the order is cancelled)."""
    return [Button(t("order-accept"), f"orderaccept:{order_id}"), Button(t("order-decline"), f"orderdecline:{order_id}")]


async def render_appeal(tx: Appeals, t: Translate, item: OutboxMessage) -> list[Reply] | None:
    """An appeal's status as it was changed (the period); the answer as it is now."""
    appeal = await tx.appeal(int(item.subject))
    if appeal is None:
        return None
    return [Reply(t("notice-appeal", appeal=appeal.id, status=t(f"appeal-status-{item.period}"),
                    answer=appeal.answer or ""))]
