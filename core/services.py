"""Services a consumer orders and appeals to the call centre: their kinds, statuses and legal changes.

The operator side (the admin API) changes an order's status only through `change_order_status`, and the
consumer's cancellation goes through it too, so every change is checked the same way and recorded as an
event with its time; the outbox picks the events up (ServiceOrders.order_changes_after) to tell the consumer.
"""
from __future__ import annotations

import asyncio
import dataclasses
import logging
import re
from collections.abc import Callable, Sequence
from datetime import datetime
from decimal import Decimal

from core.invoice_files import NotAnInvoicePdf, read_pdf
from core.messages import Attachment
from core.model import CONTRACT, Appeal, OrderChange, Service, ServiceOrder
from core.ports import Appeals, ServiceOrders

log = logging.getLogger(__name__)

# The default catalogue, when the utility has imported no services.csv: every service the cabinets offer (the
# seeds' lists), named by the locales (service-name-CODE); a utility offers all or some (Kabinet.services).
SERVICES = (
    "meter-noise",  # Шум у електролічильнику
    "meter-check",  # позачергова технічна перевірка засобу обліку
    "reconciliation-act",  # акт звіряння взаєморозрахунків
    "charges-statement",  # відомість нарахувань та оплат
    "reconnection",  # повторне підключення електроустановки
    "meter-repair",  # ремонт/заміна лічильника
    "control-reading",  # зняття контрольних показників для перерахунку
    "meter-verification",  # повірка лічильника
    "commission-documents",  # передача документів на комісію (незгода з сумою заборгованості чи нарахувань)
    "multifunction-meter",  # встановлення багатофункціонального лічильника
)
# The services the consumer pays for (the seeds: "якщо послуга платна, заявка отримує статус «Очікує оплати»");
# every other one is free and never awaits payment.
PAID_SERVICES = frozenset({"meter-verification", "multifunction-meter"})

SENT, ACCEPTED, AWAITING_CONFIRMATION, AWAITING_PAYMENT, IN_PROGRESS, DONE, CANCELLED = (
    "sent", "accepted", "awaiting_confirmation", "awaiting_payment", "in_progress", "done", "cancelled",
)
ORDER_STATUSES = (SENT, ACCEPTED, AWAITING_CONFIRMATION, AWAITING_PAYMENT, IN_PROGRESS, DONE, CANCELLED)
FINAL_STATUSES = (DONE, CANCELLED)


def _order_transitions() -> dict[str, frozenset[str]]:
    """Forward along the chain, skipping steps a service does not need (a free one never awaits payment);
    back from "awaiting confirmation" to "accepted" (the seeds' history shows a contract re-examined);
    cancelled from anything before done; done and cancelled are final."""
    chain = ORDER_STATUSES[:ORDER_STATUSES.index(DONE) + 1]
    allowed = {status: set(chain[index + 1:]) | {CANCELLED} for index, status in enumerate(chain[:-1])}
    allowed[AWAITING_CONFIRMATION].add(ACCEPTED)
    allowed[DONE] = set()
    allowed[CANCELLED] = set()
    return {status: frozenset(targets) for status, targets in allowed.items()}


ORDER_TRANSITIONS = _order_transitions()

# While an order may be given its contract: before the consumer is asked to accept it, or while asked.
CONTRACT_STATUSES = (SENT, ACCEPTED, AWAITING_CONFIRMATION)

# The statuses a service may go through or skip (services.csv's `statuses`); the others every order may take.
OPTIONAL_STATUSES = (ACCEPTED, AWAITING_CONFIRMATION, AWAITING_PAYMENT)


def _default_service(code: str) -> Service:
    paid = code in PAID_SERVICES
    steps = {ACCEPTED, AWAITING_CONFIRMATION} | ({AWAITING_PAYMENT} if paid else set())
    return Service(code, paid=paid, steps=frozenset(steps))


DEFAULT_CATALOGUE = tuple(_default_service(code) for code in SERVICES)


async def catalogue(tx: ServiceOrders) -> tuple[Service, ...]:
    """The utility's services as imported (services.csv), withdrawn ones too; the default when none was."""
    return tuple(await tx.service_catalogue()) or DEFAULT_CATALOGUE


def service_of(services: Sequence[Service], code: str) -> Service:
    """The service of an order; one no catalogue knows (any more) takes the default's free course."""
    found = next((service for service in services if service.code == code), None)
    return found or Service(code, steps=frozenset({ACCEPTED, AWAITING_CONFIRMATION}))


def goes_through(service: Service, status: str) -> bool:
    return status not in OPTIONAL_STATUSES or status in service.steps


def service_name(service: Service, language: str, translate: Callable[[str, str], str]) -> str:
    """Its name in `language`: the catalogue's (Ukrainian when the language's is missing), else the locales'
    service-name-CODE (`translate(language, key)`), else its code."""
    name = service.names.get(language) or service.names.get("uk")
    if name:
        return name
    try:
        return translate(language, f"service-name-{service.code}")
    except KeyError:
        return service.code


CONSUMER, OPERATOR = "consumer", "operator"

# "bot": the bot does not work as expected; it reaches the operator with the chat's recent turns attached.
SUPPORT_APPEAL = "bot"
APPEAL_KINDS = ("invoice", "no-power", "meter", SUPPORT_APPEAL, "other")
APPEAL_NEW, APPEAL_IN_PROGRESS, APPEAL_ANSWERED, APPEAL_CLOSED = "new", "in_progress", "answered", "closed"
APPEAL_STATUSES = (APPEAL_NEW, APPEAL_IN_PROGRESS, APPEAL_ANSWERED, APPEAL_CLOSED)
APPEAL_TRANSITIONS = {
    APPEAL_NEW: frozenset({APPEAL_IN_PROGRESS, APPEAL_ANSWERED, APPEAL_CLOSED}),
    APPEAL_IN_PROGRESS: frozenset({APPEAL_ANSWERED, APPEAL_CLOSED}),
    APPEAL_ANSWERED: frozenset({APPEAL_CLOSED}),
    APPEAL_CLOSED: frozenset(),
}

COMMENT_LIMIT = 1000
APPEAL_TEXT_LIMIT = 2000


class IllegalTransition(ValueError):
    """A status change the rules do not allow, e.g. cancelling a done order."""

    def __init__(self, what: str, number: int, current: str, wanted: str, why: str = "") -> None:
        super().__init__(f"{what} {number} cannot go from {current!r} to {wanted!r}" + (f" ({why})" if why else ""))
        self.current = current
        self.wanted = wanted


def normalise_phone(text: str) -> str | None:
    """A Ukrainian phone as `0XXXXXXXXX`: accepts `0XX…`, `+380…`, `380…` (a shared contact), spaces, dashes
    and brackets; None for anything else."""
    compact = re.sub(r"[\s\-().]", "", text)
    if re.fullmatch(r"\+?380\d{9}", compact):
        compact = compact[compact.index("380") + 2:]
    return compact if re.fullmatch(r"0\d{9}", compact) else None


def order_can_go(current: str, wanted: str) -> bool:
    return wanted in ORDER_TRANSITIONS.get(current, frozenset())


def order_amount(service: Service, order: ServiceOrder) -> Decimal | None:
    """What the consumer pays for the order: the amount the operator named for it, else the service's price."""
    if not service.paid:
        return None
    return order.amount if order.amount is not None else service.price


def next_after_confirmation(service: Service) -> str:
    """Where an accepted contract takes the order: to payment for a paid service, else to work."""
    return AWAITING_PAYMENT if service.paid and goes_through(service, AWAITING_PAYMENT) else IN_PROGRESS


async def contract_of(tx: ServiceOrders, order_id: int) -> Attachment | None:
    """The contract or offer the operator attached last, as a document to send; None when there is none (or its
    file is gone: the consumer still reads the status and may ask)."""
    contracts = await tx.order_files(order_id, CONTRACT)
    if not contracts:
        return None
    try:
        content = await asyncio.to_thread(read_pdf, contracts[-1].path)
    except NotAnInvoicePdf as exc:
        log.error("order %d: its contract %s cannot be sent: %s", order_id, contracts[-1].path, exc)
        return None
    return Attachment(f"contract-{order_id}.pdf", content, "application/pdf")


class BadAmount(ValueError):
    """An amount given for a free service, or not a positive sum."""


async def change_order_status(
    tx: ServiceOrders, order_id: int, new_status: str, comment: str | None, at: datetime, by: str = OPERATOR,
    amount: Decimal | None = None,
) -> OrderChange:
    """Move an order to `new_status` and record the change; with `amount`, what its paid service costs it.
    LookupError for an unknown order or status, IllegalTransition for a change the rules forbid, BadAmount for
    an amount a free service cannot have (nothing is changed then). A paid service's contract and payment need
    the amount: the service's price, or the operator's for this order."""
    if new_status not in ORDER_STATUSES:
        raise LookupError(f"unknown order status {new_status!r}; known: {', '.join(ORDER_STATUSES)}")
    order = await tx.service_order(order_id)
    if order is None:
        raise LookupError(f"no service order {order_id}")
    if not order_can_go(order.status, new_status):
        raise IllegalTransition("order", order_id, order.status, new_status)
    service = service_of(await catalogue(tx), order.service)
    if new_status == AWAITING_PAYMENT and not service.paid:
        raise IllegalTransition("order", order_id, order.status, new_status, f"{order.service} is a free service")
    if not goes_through(service, new_status):
        raise IllegalTransition("order", order_id, order.status, new_status,
                                f"{order.service} does not go through {new_status!r}")
    if amount is not None:
        if not service.paid:
            raise BadAmount(f"{order.service} is a free service: it has no amount")
        if amount <= 0 or amount != amount.quantize(Decimal("0.01")):
            raise BadAmount("the amount is not a positive sum with at most 2 decimals")
        await tx.set_order_amount(order_id, amount)
        order = dataclasses.replace(order, amount=amount)
    if service.paid and new_status in (AWAITING_CONFIRMATION, AWAITING_PAYMENT):
        price = order_amount(service, order)
        if price is None:
            raise IllegalTransition("order", order_id, order.status, new_status,
                                    f"{order.service} has no price: name the order's amount")
        if order.amount is None:  # the price the consumer agrees to stays the order's, whatever the catalogue does
            await tx.set_order_amount(order_id, price)
    return await tx.record_order_change(order_id, new_status, (comment or "").strip() or None, at, by)


async def change_appeal_status(
    tx: Appeals, appeal_id: int, new_status: str, answer: str | None, at: datetime,
) -> Appeal:
    """Move an appeal on (new → in progress → answered / closed); "answered" needs the answer's text."""
    if new_status not in APPEAL_STATUSES:
        raise LookupError(f"unknown appeal status {new_status!r}; known: {', '.join(APPEAL_STATUSES)}")
    appeal = await tx.appeal(appeal_id)
    if appeal is None:
        raise LookupError(f"no appeal {appeal_id}")
    if new_status not in APPEAL_TRANSITIONS[appeal.status]:
        raise IllegalTransition("appeal", appeal_id, appeal.status, new_status)
    answer = (answer or "").strip() or None
    if new_status == APPEAL_ANSWERED and answer is None:
        raise ValueError(f"appeal {appeal_id}: an answer needs its text")
    return await tx.update_appeal(appeal_id, new_status, answer or appeal.answer, at)
