"""The database tables (SQLAlchemy 2, the same for SQLite and PostgreSQL)."""
from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal

from sqlalchemy import (
    JSON, BigInteger, Boolean, Date, DateTime, ForeignKey, Index, Integer, MetaData, Numeric, String, Text,
    UniqueConstraint, text, true,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from core.outages import node_key, place_key

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}



class UtcDateTime(TypeDecorator):
    """An aware timestamp stored as UTC; SQLite hands back naive values, which are UTC by this rule."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


Money = Numeric(14, 2)
Id = BigInteger().with_variant(Integer, "sqlite")  # SQLite autoincrements only INTEGER primary keys


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class AccountRow(Base):
    __tablename__ = "accounts"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    eic: Mapped[str | None] = mapped_column(String(16), unique=True)
    surname: Mapped[str] = mapped_column(String(100))
    full_name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str] = mapped_column(String(300))
    settlement: Mapped[str] = mapped_column(String(100), index=True)
    street: Mapped[str | None] = mapped_column(String(200))
    house: Mapped[str | None] = mapped_column(String(20))
    grid_node: Mapped[str | None] = mapped_column(String(50), index=True)
    # settlement and grid_node as core.outages compares them (place_key, node_key): outages find accounts
    # by index. Written by the import; migration 0004 filled them in.
    place_key: Mapped[str | None] = mapped_column(String(100), index=True)
    node_key: Mapped[str | None] = mapped_column(String(50), index=True)
    consumer_type: Mapped[str] = mapped_column(String(10))
    tariff_plan: Mapped[str] = mapped_column(String(50))
    balance: Mapped[Decimal] = mapped_column(Money)
    balance_on: Mapped[date] = mapped_column(Date)
    contract_number: Mapped[str | None] = mapped_column(String(50))  # the supply contract, when the billing names it
    contract_date: Mapped[date | None] = mapped_column(Date)


def stored_place_key(settlement: str | None) -> str:
    """A settlement's core.outages.place_key as accounts.place_key holds it."""
    return place_key(settlement)[:AccountRow.__table__.c.place_key.type.length]


def stored_node_key(grid_node: str | None) -> str | None:
    """A grid node's core.outages.node_key as accounts.node_key holds it; None for no node."""
    if not grid_node or not grid_node.strip():
        return None
    return node_key(grid_node)[:AccountRow.__table__.c.node_key.type.length]


class MeterRow(Base):
    __tablename__ = "meters"
    __table_args__ = (UniqueConstraint("account_id", "serial"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    serial: Mapped[str] = mapped_column(String(50))
    type: Mapped[str] = mapped_column(String(100))
    digits: Mapped[int] = mapped_column(Integer)
    zones: Mapped[int] = mapped_column(Integer)
    k_factor: Mapped[Decimal] = mapped_column(Numeric(10, 3))
    installed_on: Mapped[date] = mapped_column(Date)
    next_verification_on: Mapped[date | None] = mapped_column(Date)
    # The meter's own tariff plan when it is not the account's (a one-zone meter on a three-zone business account).
    tariff_plan: Mapped[str | None] = mapped_column(String(50))


class ContactRow(Base):
    """One of the utility's contacts (contacts.csv), shown by /contacts in the order imported."""

    __tablename__ = "contacts"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    code: Mapped[str] = mapped_column(String(50), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    label: Mapped[str] = mapped_column(String(100))
    value: Mapped[str] = mapped_column(String(300))
    hours: Mapped[str | None] = mapped_column(String(200))


class PhotoRow(Base):
    """A consumer's meter photo, kept as evidence whatever came of it."""

    __tablename__ = "photos"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    chat_id: Mapped[int | None] = mapped_column(ForeignKey("chats.id", ondelete="SET NULL"), index=True)
    meter_id: Mapped[int | None] = mapped_column(ForeignKey("meters.id", ondelete="SET NULL"))
    path: Mapped[str] = mapped_column(String(500))
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime())
    recognized: Mapped[str | None] = mapped_column(String(20))
    confidence: Mapped[float | None] = mapped_column(Numeric(5, 4))
    note: Mapped[str | None] = mapped_column(String(200))


class ReadingRow(Base):
    __tablename__ = "readings"
    __table_args__ = (
        UniqueConstraint("meter_id", "zone", "taken_on", "source"),
        Index("ix_readings_meter_zone_taken", "meter_id", "zone", "taken_on"),
        Index("ix_readings_submitted_at", "submitted_at"),
    )
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    meter_id: Mapped[int] = mapped_column(ForeignKey("meters.id", ondelete="CASCADE"))
    zone: Mapped[int] = mapped_column(Integer)
    taken_on: Mapped[date] = mapped_column(Date)
    value: Mapped[int] = mapped_column(BigInteger)
    source: Mapped[str] = mapped_column(String(20))
    chat_id: Mapped[int | None] = mapped_column(ForeignKey("chats.id", ondelete="SET NULL"))
    photo_id: Mapped[int | None] = mapped_column(ForeignKey("photos.id", ondelete="SET NULL"))
    submitted_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class ReplacedReadingRow(Base):
    """A consumer's reading that a later one (same meter, zone, day and channel) took the place of: kept, with
    its photo, as evidence of what was sent."""

    __tablename__ = "replaced_readings"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    reading_id: Mapped[int] = mapped_column(ForeignKey("readings.id", ondelete="CASCADE"), index=True)
    value: Mapped[int] = mapped_column(BigInteger)
    chat_id: Mapped[int | None] = mapped_column(ForeignKey("chats.id", ondelete="SET NULL"))
    photo_id: Mapped[int | None] = mapped_column(ForeignKey("photos.id", ondelete="SET NULL"))
    submitted_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    replaced_at: Mapped[datetime] = mapped_column(UtcDateTime())


# As each database's SQLAlchemy writes `not_(PaymentRow.reference_known)`, so that the planner takes the index.
REFERENCE_UNKNOWN_PG, REFERENCE_UNKNOWN_SQLITE = "NOT reference_known", "reference_known = 0"


class PaymentRow(Base):
    __tablename__ = "payments"
    # The reference is in the key: a payment made online and a bank payment of the same day, amount and purpose
    # are two payments (migration 0013).
    __table_args__ = (
        UniqueConstraint("account_id", "paid_on", "amount", "purpose", "reference"),
        # The few payments stored before 0013 that no import has brought again since (see reference_known).
        Index("ix_payments_reference_unknown", "account_id", postgresql_where=text(REFERENCE_UNKNOWN_PG),
              sqlite_where=text(REFERENCE_UNKNOWN_SQLITE)),
    )
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    paid_on: Mapped[date] = mapped_column(Date)
    amount: Mapped[Decimal] = mapped_column(Money)
    # Empty rather than NULL, so the natural key stays unique in both databases.
    purpose: Mapped[str] = mapped_column(String(200), default="")
    # The provider's payment id or our order id of a payment made online (payments.csv `reference`); empty if none.
    reference: Mapped[str] = mapped_column(String(100), default="", server_default="")
    # False for a payment imported before 0013, whose file row's reference was not kept (it is empty here whatever
    # it was): the next import that brings it with its reference fills it in (storage/exchange/importing.py).
    reference_known: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())


class InvoiceRow(Base):
    __tablename__ = "invoices"
    __table_args__ = (UniqueConstraint("account_id", "period"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    period: Mapped[str] = mapped_column(String(7))
    issued_on: Mapped[date] = mapped_column(Date)
    due_on: Mapped[date] = mapped_column(Date)
    amount: Mapped[Decimal] = mapped_column(Money)
    kwh: Mapped[Decimal] = mapped_column(Numeric(14, 3))
    pdf: Mapped[str | None] = mapped_column(String(500))


class TariffRow(Base):
    __tablename__ = "tariffs"
    __table_args__ = (UniqueConstraint("tariff_plan", "zone", "valid_from"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    tariff_plan: Mapped[str] = mapped_column(String(50))
    zone: Mapped[int] = mapped_column(Integer)
    price: Mapped[Decimal] = mapped_column(Numeric(10, 4))
    valid_from: Mapped[date] = mapped_column(Date)


class OutageRow(Base):
    __tablename__ = "outages"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    code: Mapped[str] = mapped_column(String(50), unique=True)
    kind: Mapped[str] = mapped_column(String(10))
    starts_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    ends_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    reason: Mapped[str] = mapped_column(Text)
    settlement: Mapped[str | None] = mapped_column(String(100))
    street: Mapped[str | None] = mapped_column(String(200))
    houses: Mapped[str | None] = mapped_column(Text)
    grid_nodes: Mapped[str | None] = mapped_column(Text)


class ChatRow(Base):
    """A conversation in one messenger: Viber ids are strings, Telegram's integers, so both are text."""

    __tablename__ = "chats"
    __table_args__ = (UniqueConstraint("channel", "external_id"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    channel: Mapped[str] = mapped_column(String(20))
    external_id: Mapped[str] = mapped_column(String(100))
    language: Mapped[str] = mapped_column(String(5))
    consent_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class ChatAccountRow(Base):
    __tablename__ = "chat_accounts"
    chat_id: Mapped[int] = mapped_column(ForeignKey("chats.id", ondelete="CASCADE"), primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    linked_at: Mapped[datetime] = mapped_column(UtcDateTime())


class ChatEmailRow(Base):
    """A chat's confirmed e-mail address (issue 19.3), and which reminder switches also go there by e-mail."""

    __tablename__ = "chat_emails"
    chat_id: Mapped[int] = mapped_column(ForeignKey("chats.id", ondelete="CASCADE"), primary_key=True)
    address: Mapped[str] = mapped_column(String(254))
    confirmed_at: Mapped[datetime] = mapped_column(UtcDateTime())
    notices: Mapped[list] = mapped_column(JSON)  # core.email_address.EMAIL_NOTICES names, e.g. ["invoice"]
    # When the address's server refused it for good (handlers.email.MailboxRefused); nothing is mailed until
    # the consumer gives an address again.
    refused_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class EmailCodeRow(Base):
    """A confirmation code mailed for a new address: only its salted hash. Kept by the chat's identity, as
    link attempts are, so /forget does not reset the codes-per-hour limit; a new code supersedes the last."""

    __tablename__ = "email_codes"
    __table_args__ = (
        Index("ix_email_codes_identity_sent", "channel", "external_id", "sent_at"),
        Index("ix_email_codes_address_sent", "address", "sent_at"),
    )
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    channel: Mapped[str] = mapped_column(String(20))
    external_id: Mapped[str] = mapped_column(String(100))
    address: Mapped[str] = mapped_column(String(254))
    digest: Mapped[str] = mapped_column(String(100))
    sent_at: Mapped[datetime] = mapped_column(UtcDateTime())
    tries: Mapped[int] = mapped_column(Integer, default=0)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())  # confirmed, or superseded by a new code


class PaperInvoiceRow(Base):
    """Whether the utility still posts a paper invoice for an account, as a consumer last chose it (exported)."""

    __tablename__ = "paper_invoices"
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True)
    paper: Mapped[bool] = mapped_column(Boolean)
    chat_id: Mapped[int | None] = mapped_column(ForeignKey("chats.id", ondelete="SET NULL"))
    chosen_at: Mapped[datetime] = mapped_column(UtcDateTime())


class ConversationRow(Base):
    __tablename__ = "conversations"
    chat_id: Mapped[int] = mapped_column(ForeignKey("chats.id", ondelete="CASCADE"), primary_key=True)
    step: Mapped[str] = mapped_column(String(50))
    data: Mapped[dict] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class LinkAttemptRow(Base):
    """A try to link an account, kept by the chat's identity in its messenger rather than by its row, so
    that /forget does not erase it; a failure on an existing account's number names that account."""

    __tablename__ = "link_attempts"
    __table_args__ = (
        Index("ix_link_attempts_identity_at", "channel", "external_id", "attempted_at"),
        Index("ix_link_attempts_account_at", "account_id", "attempted_at"),
    )
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    channel: Mapped[str] = mapped_column(String(20))
    external_id: Mapped[str] = mapped_column(String(100))
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    attempted_at: Mapped[datetime] = mapped_column(UtcDateTime())
    succeeded: Mapped[bool] = mapped_column(Boolean)


class DeliveryRow(Base):
    """Messenger deliveries already handled (Telegram update_id, Viber message_token), to handle each once."""

    __tablename__ = "deliveries"
    channel: Mapped[str] = mapped_column(String(20), primary_key=True)
    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    seen_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)


WAITING_SQL = "status IN ('queued', 'sending')"


class OutboxRow(Base):
    """A reminder or notification planned for a chat; the unique key makes planning twice plan once."""

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_due", "status", "not_before"),
        # The rows still to send, a few among millions sent: the outbox depth of /metrics reads only these.
        Index("ix_outbox_waiting", "kind", "status", postgresql_where=text(WAITING_SQL), sqlite_where=text(WAITING_SQL)),
    )
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    chat_id: Mapped[int] = mapped_column(ForeignKey("chats.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(30))
    subject: Mapped[str] = mapped_column(String(100))
    period: Mapped[str] = mapped_column(String(50))
    text: Mapped[dict | None] = mapped_column(JSON)  # a broadcast's own text by language
    status: Mapped[str] = mapped_column(String(10), default="queued")  # queued, sending, sent, failed, skipped
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    not_before: Mapped[datetime] = mapped_column(UtcDateTime())
    claimed_until: Mapped[datetime | None] = mapped_column(UtcDateTime())
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    outcome: Mapped[str | None] = mapped_column(String(200))
    # None: the chat's messenger; "email": a copy for the chat's confirmed e-mail address, with its own tries.
    via: Mapped[str | None] = mapped_column(String(10))


class OutboxPlanRow(Base):
    """A daily reminder job's run (core.notifications.ReminderPlan): its rule and parameters, and how far its rows
    are expanded into the outbox, in the order of the chats' links (storage/plans.py)."""

    __tablename__ = "outbox_plans"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    key: Mapped[str] = mapped_column(String(100), unique=True)  # a second run of the job finds it
    kind: Mapped[str] = mapped_column(String(30))
    day: Mapped[date] = mapped_column(Date)
    notice_days: Mapped[int] = mapped_column(Integer, default=0)
    after_chat_id: Mapped[int | None] = mapped_column(Id)  # the last chat expanded; None before the first batch
    planned: Mapped[int] = mapped_column(Integer, default=0)  # outbox rows inserted so far
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    expanded_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class ServiceRow(Base):
    """A service of the utility's catalogue (services.csv); kept when withdrawn (offered false), so its orders keep
    their name."""

    __tablename__ = "services"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name_uk: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str | None] = mapped_column(String(200))
    name_ru: Mapped[str | None] = mapped_column(String(200))
    paid: Mapped[bool] = mapped_column(Boolean)
    price: Mapped[Decimal | None] = mapped_column(Money)
    attach_uk: Mapped[str | None] = mapped_column(String(500))
    attach_en: Mapped[str | None] = mapped_column(String(500))
    attach_ru: Mapped[str | None] = mapped_column(String(500))
    steps: Mapped[str] = mapped_column(String(100))  # the optional statuses it goes through, `;`-separated
    offered: Mapped[bool] = mapped_column(Boolean)


class ServiceOrderRow(Base):
    """A consumer's order of a service; it stays with the account when the chat that made it is forgotten."""

    __tablename__ = "service_orders"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    chat_id: Mapped[int | None] = mapped_column(ForeignKey("chats.id", ondelete="SET NULL"), index=True)
    service: Mapped[str] = mapped_column(String(40))
    phone: Mapped[str] = mapped_column(String(10))
    comment: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(30))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())
    amount: Mapped[Decimal | None] = mapped_column(Money)  # what a paid service costs this order (the operator's)


class ServiceOrderFileRow(Base):
    """A file of an order: the contract or offer the operator attached, or one the consumer sent from the chat."""

    __tablename__ = "service_order_files"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("service_orders.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # contract | consumer
    path: Mapped[str] = mapped_column(String(500))
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    mime_type: Mapped[str] = mapped_column(String(100))
    chat_id: Mapped[int | None] = mapped_column(ForeignKey("chats.id", ondelete="SET NULL"))
    received_at: Mapped[datetime] = mapped_column(UtcDateTime())


class ServiceOrderEventRow(Base):
    """Each status an order took, with its time: the order's history, and what the outbox tells the consumer."""

    __tablename__ = "service_order_events"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("service_orders.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(30))
    previous: Mapped[str | None] = mapped_column(String(30))
    comment: Mapped[str | None] = mapped_column(Text)
    by: Mapped[str] = mapped_column(String(20))
    at: Mapped[datetime] = mapped_column(UtcDateTime())


class AppealRow(Base):
    """A consumer's appeal to the call centre, with its status and answer; a technical-support one may come from a
    chat with no account linked (account_id NULL)."""

    __tablename__ = "appeals"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    chat_id: Mapped[int | None] = mapped_column(ForeignKey("chats.id", ondelete="SET NULL"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    text: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20))
    answer: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())
    # A technical-support appeal's copy of the chat's recent turns when it was written (storage.mappers).
    turns: Mapped[list | None] = mapped_column(JSON)


class RecentTurnRow(Base):
    """A chat's last turns (core/recent_turns.py), a ring of slots: a turn overwrites the chat's oldest slot."""

    __tablename__ = "recent_turns"
    chat_id: Mapped[int] = mapped_column(ForeignKey("chats.id", ondelete="CASCADE"), primary_key=True)
    slot: Mapped[int] = mapped_column(Integer, primary_key=True)  # seq modulo the turns kept
    seq: Mapped[int] = mapped_column(Integer)  # the chat's turns counted, so the newest is known
    at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    delivery: Mapped[str | None] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(10))
    said: Mapped[str] = mapped_column(Text)
    answered: Mapped[str] = mapped_column(Text)


class ChatSettingsRow(Base):
    """A chat's /settings (reminder switches, quiet hours) as JSON; no row means the defaults."""

    __tablename__ = "chat_settings"
    chat_id: Mapped[int] = mapped_column(ForeignKey("chats.id", ondelete="CASCADE"), primary_key=True)
    settings: Mapped[dict] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class OnlinePaymentRow(Base):
    """A payment made through a payment provider's page (LiqPay): ordered when the checkout is made, paid when
    the provider's signed callback says so, pending on the account until the billing import brings the same
    payment (reconciled)."""

    __tablename__ = "online_payments"
    __table_args__ = (UniqueConstraint("provider", "payment_id"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    order_id: Mapped[str] = mapped_column(String(64), unique=True)
    provider: Mapped[str] = mapped_column(String(20))
    # RESTRICT: a record of money received never goes with its account
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="RESTRICT"), index=True)
    amount: Mapped[Decimal] = mapped_column(Money)  # asked at checkout; what was paid once paid
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(10))  # ordered, paid, failed, reversed (core.model.OnlinePayment)
    provider_status: Mapped[str | None] = mapped_column(String(30))  # the provider's own word, last heard
    payment_id: Mapped[str | None] = mapped_column(String(40))  # the provider's id of the payment
    error: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    paid_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), index=True)
    reconciled_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    reconciled_ref: Mapped[str | None] = mapped_column(String(100))  # what the billing import matched it with
    # The service order it pays (its number), not the electricity: never pending on the account's balance. No
    # foreign key: a record of money received outlives what it paid for.
    service_order_id: Mapped[int | None] = mapped_column(Id)
