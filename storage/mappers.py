"""Rows become core's plain data here: ORM rows, and the labelled rows of the built-once views
(storage/statements.py), whether SQLAlchemy or the asyncpg fast path read them."""
from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from core.model import (
    Account, AccountSummary, Appeal, Chat, ConversationState, Invoice, LinkedAccount, Meter, MeterReading,
    OrderChange, OrderFile, Outage, Payment, RecentTurn, Service, ServiceOrder,
)
from core.readings import MAX_ZONES
from storage.models import (
    AccountRow, AppealRow, ChatRow, OutageRow, ServiceOrderEventRow, ServiceOrderFileRow, ServiceOrderRow, ServiceRow,
)


def to_account(row: AccountRow) -> Account:
    """An AccountRow, or a row with the accounts columns by their names."""
    return Account(
        id=row.id, number=row.number, eic=row.eic, surname=row.surname, full_name=row.full_name,
        address=row.address, settlement=row.settlement, consumer_type=row.consumer_type,
        tariff_plan=row.tariff_plan, balance=Decimal(row.balance), balance_on=row.balance_on,
        street=row.street, house=row.house, grid_node=row.grid_node, contract_number=row.contract_number,
        contract_date=row.contract_date,
    )


def to_meter(row, prefix: str = "") -> Meter:
    """A MeterRow, or a row with the meters columns labelled `prefix` + name (statements.METER_COLUMNS)."""
    def value(name: str):
        return getattr(row, prefix + name)
    return Meter(
        id=value("id"), account_id=value("account_id"), serial=value("serial"), type=value("type"),
        digits=value("digits"), zones=value("zones"), k_factor=Decimal(value("k_factor")),
        installed_on=value("installed_on"), next_verification_on=value("next_verification_on"),
        tariff_plan=value("tariff_plan"),
    )


def to_chat(row: ChatRow) -> Chat:
    return Chat(row.id, row.channel, row.external_id, row.language, row.consent_at, row.active)


def to_chat_and_state(row, prefix: str = "") -> tuple[Chat, ConversationState | None]:
    """A CHAT_AND_STATE row (or an OPEN_TURN row, its columns labelled "chat_"): the chat and its step."""
    def value(name: str):
        return getattr(row, prefix + name)
    chat = Chat(value("id"), value("channel"), value("external_id"), value("language"), value("consent_at"),
                value("active"))
    step = value("step")
    return chat, (ConversationState(step, dict(value("data") or {})) if step is not None else None)


def to_invoice(row, prefix: str = "") -> Invoice:
    """An InvoiceRow, or a row with the invoices columns labelled `prefix` + name."""
    def value(name: str):
        return getattr(row, prefix + name)
    return Invoice(value("period"), value("issued_on"), value("due_on"), Decimal(value("amount")),
                   Decimal(value("kwh")), value("pdf"))


def to_payment(row, prefix: str = "") -> Payment:
    """A PaymentRow, or a row with the payments columns labelled `prefix` + name."""
    def value(name: str):
        return getattr(row, prefix + name)
    return Payment(value("paid_on"), Decimal(value("amount")), value("purpose") or None)


def to_outage(row: OutageRow) -> Outage:
    return Outage(
        id=row.id, code=row.code, kind=row.kind, starts_at=row.starts_at, ends_at=row.ends_at, reason=row.reason,
        settlement=row.settlement, street=row.street, houses=row.houses, grid_nodes=row.grid_nodes,
    )


def to_order(row: ServiceOrderRow) -> ServiceOrder:
    return ServiceOrder(
        id=row.id, account_id=row.account_id, chat_id=row.chat_id, service=row.service, phone=row.phone,
        comment=row.comment, status=row.status, created_at=row.created_at, updated_at=row.updated_at,
        amount=None if row.amount is None else Decimal(row.amount),
    )


def to_order_file(row: ServiceOrderFileRow) -> OrderFile:
    return OrderFile(row.id, row.order_id, row.kind, row.path, row.size, row.mime_type, row.received_at)


def to_change(event: ServiceOrderEventRow, order: ServiceOrderRow) -> OrderChange:
    return OrderChange(
        id=event.id, order_id=event.order_id, status=event.status, previous=event.previous, comment=event.comment,
        at=event.at, by=event.by, account_id=order.account_id, chat_id=order.chat_id, service=order.service,
    )


def to_appeal(row: AppealRow) -> Appeal:
    return Appeal(
        id=row.id, account_id=row.account_id, chat_id=row.chat_id, kind=row.kind, text=row.text,
        status=row.status, answer=row.answer, created_at=row.created_at, updated_at=row.updated_at,
        turns=turns_from_json(row.turns),
    )


def turns_to_json(turns: tuple[RecentTurn, ...]) -> list[dict]:
    """An appeal's attached turns as its JSON column keeps them."""
    return [{"at": turn.at.astimezone(UTC).isoformat(), "delivery": turn.delivery, "kind": turn.kind,
             "said": turn.said, "answered": turn.answered} for turn in turns]


def turns_from_json(data: list[dict] | None) -> tuple[RecentTurn, ...]:
    return tuple(RecentTurn(datetime.fromisoformat(item["at"]), item["delivery"], item["kind"], item["said"],
                            item["answered"]) for item in data or ())


# ----- the accounts views of a turn (LINKED_METERS, ACCOUNT_SUMMARIES, OPEN_TURN): a row per meter

def to_linked_accounts(rows) -> list[LinkedAccount]:
    return [
        LinkedAccount(account, tuple(meter for meter, _ in meters), _prices(row),
                      {meter.id: _last_readings(meter_row) for meter, meter_row in meters},
                      {meter.id: _prices(meter_row, "meter_") for meter, meter_row in meters if meter.tariff_plan})
        for account, meters, row in _by_account(rows)
    ]


def to_account_summaries(rows) -> list[AccountSummary]:
    summaries = []
    for account, meters, row in _by_account(rows):
        payment = to_payment(row, "payment_") if row.payment_paid_on is not None else None
        invoice = to_invoice(row, "invoice_") if row.invoice_period is not None else None
        summaries.append(AccountSummary(account, tuple(meter for meter, _ in meters), _prices(row), payment,
                                        invoice, _money(row.invoiced_since), _money(row.paid_since)))
    return summaries


def _by_account(rows) -> list[tuple[Account, list[tuple[Meter, object]], object]]:
    """The view's rows (a row per meter) grouped: each account, its meters (with their rows) and its first row."""
    grouped: list[tuple[Account, list[tuple[Meter, object]], object]] = []
    for row in rows:
        if not grouped or grouped[-1][0].id != row.id:
            grouped.append((to_account(row), [], row))
        if row.meter_id is not None:
            grouped[-1][1].append((to_meter(row, "meter_"), row))
    return grouped


def _money(value) -> Decimal:
    """A sum of amounts as UAH: SQLite sums them as floats."""
    return Decimal(str(value)).quantize(Decimal("0.01"))


# The views' labels of each zone's columns, named once rather than on every row.
_PRICES = {prefix: [(zone, f"{prefix}price_{zone}") for zone in range(1, MAX_ZONES + 1)] for prefix in ("", "meter_")}
_READINGS = [(zone, *(f"reading_{zone}_{name}" for name in ("value", "taken_on", "source")))
             for zone in range(1, MAX_ZONES + 1)]


def _prices(row, prefix: str = "") -> dict[int, Decimal]:
    return {zone: Decimal(price) for zone, name in _PRICES[prefix] if (price := getattr(row, name)) is not None}


def _last_readings(row) -> dict[int, MeterReading]:
    found = {}
    for zone, value, taken_on, source in _READINGS:
        if (on := getattr(row, taken_on)) is not None:
            found[zone] = MeterReading(zone, getattr(row, value), on, getattr(row, source))
    return found


def to_service(row: ServiceRow) -> Service:
    def by_language(prefix: str) -> dict[str, str]:
        return {language: value for language in ("uk", "en", "ru") if (value := getattr(row, f"{prefix}_{language}"))}

    return Service(
        code=row.code, names=by_language("name"), paid=row.paid,
        price=None if row.price is None else Decimal(row.price), attach=by_language("attach"),
        steps=frozenset(step for step in row.steps.split(";") if step), offered=row.offered,
    )
