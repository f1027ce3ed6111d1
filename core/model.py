"""The domain as core sees it: plain data, filled by storage."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from core.pay_links import PayLinks


@dataclass
class Chat:
    id: int
    channel: str
    external_id: str
    language: str
    consent_at: datetime | None = None
    active: bool = True


@dataclass
class ConversationState:
    """Which step a chat is in and what it has told us so far; persisted between messages."""

    step: str
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Account:
    id: int
    number: str
    eic: str | None
    surname: str
    full_name: str
    address: str
    settlement: str
    consumer_type: str
    tariff_plan: str
    balance: Decimal
    balance_on: date
    street: str | None = None
    house: str | None = None
    grid_node: str | None = None
    contract_number: str | None = None
    contract_date: date | None = None


@dataclass(frozen=True)
class Meter:
    id: int
    account_id: int
    serial: str
    type: str
    digits: int
    zones: int
    k_factor: Decimal
    installed_on: date
    next_verification_on: date | None = None
    tariff_plan: str | None = None  # its own plan, when not the account's


@dataclass(frozen=True)
class MeterReading:
    zone: int
    value: int
    taken_on: date
    source: str


@dataclass(frozen=True)
class Submission:
    """A consumer's reading of one meter on one day as stored: its row per zone, and what it replaced."""

    ids: list[int]
    replaced: dict[int, int] = field(default_factory=dict)  # zone -> value of the earlier submission
    replaced_at: datetime | None = None  # when that earlier submission was sent


@dataclass(frozen=True)
class Payment:
    paid_on: date
    amount: Decimal
    purpose: str | None = None


@dataclass(frozen=True)
class OnlinePayment:
    """A payment on a payment provider's page. `status`: ordered (the page was opened), paid, failed, reversed;
    a paid one is pending on the account until the billing import brings it (reconciled_at)."""

    order_id: str
    provider: str
    account_id: int
    account: str  # the account's number
    amount: Decimal
    currency: str
    status: str
    payment_id: str | None
    created_at: datetime
    paid_at: datetime | None = None
    reconciled_at: datetime | None = None
    reconciled_ref: str | None = None
    service_order: int | None = None  # the service order it pays for, not the electricity

    @property
    def pending(self) -> bool:
        return self.status == "paid" and self.reconciled_at is None and self.service_order is None


@dataclass(frozen=True)
class Invoice:
    period: str
    issued_on: date
    due_on: date
    amount: Decimal
    kwh: Decimal
    pdf: str | None = None


@dataclass(frozen=True)
class LinkedAccount:
    """A chat's linked account as a reading on a day needs it: the meters (in id order), their last readings
    before the day and the tariff prices on it."""

    account: Account
    meters: tuple[Meter, ...]
    prices: dict[int, Decimal]  # zone -> price
    last_readings: dict[int, dict[int, MeterReading]]  # meter id -> zone -> reading
    meter_prices: dict[int, dict[int, Decimal]] = field(default_factory=dict)  # meter id -> its plan's prices

    def prices_of(self, meter: Meter) -> dict[int, Decimal]:
        """The meter's zone prices: its own plan's, or the account's."""
        return self.meter_prices.get(meter.id, self.prices)

    def plan_of(self, meter: Meter) -> str:
        return meter.tariff_plan or self.account.tariff_plan


@dataclass(frozen=True)
class AccountSummary:
    """What /balance tells of one linked account on a day."""

    account: Account
    meters: tuple[Meter, ...]
    prices: dict[int, Decimal]  # zone -> price
    last_payment: Payment | None
    last_invoice: Invoice | None
    invoiced_since: Decimal = Decimal(0)  # invoices issued after the account's balance_on, summed
    paid_since: Decimal = Decimal(0)  # payments made after it and online payments still pending, summed


@dataclass(frozen=True)
class Payee:
    """The utility's payment details, printed on receipts and encoded in their payment QR code; `card`: the links
    that open its card payment page (LiqPay), when it takes cards."""

    name: str
    iban: str
    code: str  # ЄДРПОУ
    card: PayLinks | None = None


@dataclass(frozen=True)
class Outage:
    """A planned or emergency outage as the utility sent it; `ends_at` None: the end is not known yet."""

    id: int
    code: str
    kind: str  # planned | emergency
    starts_at: datetime
    ends_at: datetime | None
    reason: str
    settlement: str | None = None
    street: str | None = None
    houses: str | None = None  # "1-15;17;19А"
    grid_nodes: str | None = None  # "TP-101;TP-102"


@dataclass(frozen=True)
class Service:
    """A service of the utility's catalogue (services.csv, or core.services.DEFAULT_CATALOGUE when none was
    imported). Names and what to attach are by language; a default service's come from the locales instead."""

    code: str
    names: dict[str, str] = field(default_factory=dict)  # uk, en, ru
    paid: bool = False
    price: Decimal | None = None  # a paid service's fixed price; None: the operator names it for each order
    attach: dict[str, str] = field(default_factory=dict)  # what the consumer must attach, by language; {}: nothing
    steps: frozenset[str] = frozenset()  # the optional statuses it goes through (core.services.OPTIONAL_STATUSES)
    offered: bool = True  # False: withdrawn; its orders keep its name


@dataclass(frozen=True)
class ServiceOrder:
    """A consumer's order of a service; its number is its id."""

    id: int
    account_id: int
    chat_id: int | None
    service: str
    phone: str
    comment: str | None
    status: str
    created_at: datetime
    updated_at: datetime
    amount: Decimal | None = None  # what a paid service costs this order, when the operator named it


CONTRACT, CONSUMER_FILE = "contract", "consumer"  # OrderFile.kind


@dataclass(frozen=True)
class OrderFile:
    """A file of an order: the contract or offer the operator attached, or one the consumer sent from the chat."""

    id: int
    order_id: int
    kind: str  # CONTRACT | CONSUMER_FILE
    path: str
    size: int
    mime_type: str
    received_at: datetime


@dataclass(frozen=True)
class OrderChange:
    """One status of an order with its time: the history the consumer sees and what the outbox picks up."""

    id: int
    order_id: int
    status: str
    previous: str | None
    comment: str | None
    at: datetime
    by: str  # consumer | operator
    account_id: int
    chat_id: int | None
    service: str


@dataclass(frozen=True)
class Appeal:
    """A consumer's written appeal to the call centre, with its status and the answer."""

    id: int
    account_id: int | None  # None: a technical-support appeal from a chat with no account linked
    chat_id: int | None
    kind: str
    text: str
    status: str
    answer: str | None
    created_at: datetime
    updated_at: datetime
    # The chat's recent turns as they were when it was written (a "the bot does not work" appeal), oldest first.
    turns: tuple[RecentTurn, ...] = ()


@dataclass(frozen=True)
class RecentTurn:
    """One turn of a chat as it is kept for a technical-support appeal: what came in (a secret hidden, a photo
    named, never its bytes) and the texts the bot answered."""

    at: datetime
    delivery: str | None  # the messenger's id of the update (Telegram update_id, Viber message_token); None: console
    kind: str  # text, button, photo, contact, other
    said: str
    answered: str


@dataclass(frozen=True)
class ChatSettings:
    """A chat's /settings: the reminder switches turned off and the quiet hours (local time, None: none)."""

    switched_off: frozenset[str] = frozenset()
    quiet_from: time | None = time(22, 0)
    quiet_to: time | None = time(8, 0)

    def wants(self, switch: str) -> bool:
        return switch not in self.switched_off


CONTACT_KINDS = ("call-centre", "emergency", "email", "website", "office")


@dataclass(frozen=True)
class Contact:
    """How to reach the utility (contacts.csv): a phone, the emergency line, an e-mail, a website, an office."""

    code: str
    kind: str  # one of CONTACT_KINDS
    label: str  # e.g. "Кол-центр", "ЦОК Харків"
    value: str  # the phone, e-mail, URL or address
    hours: str | None = None  # opening or working hours, as the utility writes them
