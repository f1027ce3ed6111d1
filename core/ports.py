"""What core (and the scheduler) need from storage, as protocols; storage/ implements them with SQLAlchemy.

A consumer's unit of work is `Transaction`, the union of the roles below; a module that uses one or two of
them annotates those, so what it may call is what it declares (tests/test_ports.py holds every call to it).
"""
from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Protocol

from core.email_address import ChatEmail, PendingCode
from core.messages import Email
from core.model import (
    Account, AccountSummary, Appeal, Chat, ChatSettings, Contact, ConversationState, Invoice, LinkedAccount, Meter,
    MeterReading, OrderChange, OrderFile, Outage, Payment, RecentTurn, Service, ServiceOrder, Submission,
)
from core.model import OnlinePayment  # pending_payments (issue 19.1)

if TYPE_CHECKING:  # core.notifications imports this module for its annotations
    from core.notifications import Expansion, Kind, OutboxMessage, ReminderPlan


class Chats(Protocol):
    """Chats and the step each is in."""

    async def chat(self, channel: str, external_id: str, language: str) -> Chat:
        """The chat, created on first contact, locked against a concurrent event of the same chat."""

    async def chat_and_state(self, channel: str, external_id: str,
                             language: str) -> tuple[Chat, ConversationState | None]:
        """The chat as `chat` gives it, and the step it is in (None between flows)."""

    async def chat_by_id(self, chat_id: int) -> Chat | None: ...

    async def save_chat(self, chat: Chat) -> None: ...

    async def first_delivery(self, channel: str, key: str, at: datetime) -> bool:
        """Record a delivery key; False when it was recorded before (the event is a repeat)."""

    async def open_turn(self, channel: str, external_id: str, language: str, delivery_key: str | None,
                        at: datetime, on: date, summaries: bool = False) -> tuple[Chat, ConversationState | None] | None:
        """What an event's turn starts with: its delivery key recorded (when it has one) and the chat and
        step as `chat_and_state` gives them; None when the key was recorded before (a repeat). `on` is the
        day the turn's accounts view will be asked for: `linked_meters`, or with `summaries` `account_summaries`
        (a store may read it now)."""

    async def forget_chat(self, chat_id: int) -> None:
        """Erase the chat, its links and state; its readings, photos and orders stay, no longer tied to it, and
        its link attempts stay too (they are kept by channel and external id, not by the chat)."""

    async def save_state(self, chat_id: int, state: ConversationState | None) -> None: ...


class Accounts(Protocol):
    """Personal accounts and the chats linked to them, with the attempts that limit linking."""

    async def linked_accounts(self, chat_id: int) -> list[Account]: ...

    async def find_accounts(self, numbers: list[str]) -> list[Account]:
        """Accounts whose number or EIC code is one of `numbers`."""

    async def link(self, chat_id: int, account_id: int, at: datetime) -> bool:
        """Link; False when it was linked already."""

    async def unlink(self, chat_id: int, account_id: int) -> bool: ...

    async def failed_link_attempts(self, channel: str, external_id: str, since: datetime) -> list[datetime]:
        """When the chat with this id in its messenger failed to link an account since `since`."""

    async def failed_links_to(self, account_id: int, since: datetime) -> int:
        """Failed attempts since `since`, from any chat, on the account's number."""

    async def record_link_attempt(self, channel: str, external_id: str, account_ids: list[int], at: datetime,
                                  succeeded: bool) -> None:
        """One attempt of the chat; a row for each account whose number it named (one without, for none)."""

    async def clear_link_failures(self, account_id: int) -> int:
        """The operator lifts the account's lock: its failed attempts stop counting (the chats' own stay)."""

    async def chats_linked_to(self, account_id: int) -> list[int]:
        """The chats the account is linked to."""

    async def first_linked_chat(self, account_id: int) -> int | None:
        """The chat linked to the account the longest (of two linked at once, the older chat), or None."""


class Readings(Protocol):
    """Meters and their readings."""

    async def meters(self, account_ids: list[int]) -> list[Meter]: ...

    async def meter(self, meter_id: int) -> Meter | None: ...

    async def linked_meters(self, chat_id: int, on: date) -> list[LinkedAccount]:
        """The chat's linked accounts in the order `linked_accounts` gives them, each with its meters, their
        readings before `on` (as `last_readings`) and its tariff's price of each zone on `on` (the one valid
        from the latest day)."""

    async def last_readings(self, meter_id: int, before: date) -> dict[int, MeterReading]:
        """The latest reading of each zone taken before `before`."""

    async def add_readings(
        self,
        meter_id: int,
        taken_on: date,
        values: list[int],
        source: str,
        chat_id: int,
        submitted_at: datetime,
        photo_id: int | None,
    ) -> Submission:
        """Store one value per zone; a second submission of the same day and source replaces the first, which
        is kept (with its photo) as replaced."""


class Photos(Protocol):
    """The meter photos consumers sent, kept as evidence."""

    async def add_photo(
        self, chat_id: int, path: str, sha256: str, received_at: datetime, size: int
    ) -> int: ...

    async def photo_path(self, photo_id: int) -> str | None: ...

    async def update_photo(
        self, photo_id: int, *, meter_id: int | None = None, recognized: str | None = None,
        confidence: float | None = None, note: str | None = None,
    ) -> None: ...

    async def photo_store_used(self, chat_id: int) -> int:
        """The bytes of kept photos counted against the fullest account linked to the chat (the photo quota):
        an account counts the photos of every chat linked to it."""


class BillingViews(Protocol):
    """What the utility's billing says of an account (storage/queries_billing.py)."""

    async def account_summaries(self, chat_id: int, on: date) -> list[AccountSummary]:
        """The chat's linked accounts as `linked_meters` gives them, each with its meters, its prices on `on`,
        its last payment (the latest day's; of one day's, the one stored last), its latest period's invoice and the
        sums of its invoices issued and payments made after its balance's day."""

    async def payments_since(self, account_id: int, since: date) -> list[Payment]:
        """Payments on or after `since`, oldest first."""

    async def invoice(self, account_id: int, period: str) -> Invoice | None:
        """The account's invoice of the period (`YYYY-MM`)."""

    async def invoices(self, account_id: int, since_period: str = "") -> list[Invoice]:
        """Invoices of periods (`YYYY-MM`) from `since_period` on, newest first."""

    async def invoices_issued_since(self, account_id: int, since: date) -> list[Invoice]:
        """Invoices issued on or after `since`, oldest first."""

    async def pending_payments(self, account_id: int) -> list[OnlinePayment]: ...  # storage/queries_payments.py

    async def readings_since(self, meter_id: int, since: date) -> list[MeterReading]:
        """Every reading taken on or after `since`, oldest first; of one day's, the one stored last is last."""


class Outages(Protocol):
    """Outages and the chats they touch (storage/queries_services.py)."""

    async def current_outages(self, at: datetime) -> list[Outage]:
        """Outages not over at `at` (no end yet, or an end after it), earliest start first."""

    async def outages_ended_between(self, since: datetime, until: datetime) -> list[Outage]:
        """Outages whose end is after `since` and not after `until`."""

    async def outage(self, code: str) -> Outage | None: ...

    async def chats_touched_by(self, outage: Outage) -> list[int]:
        """Chats with a linked account the outage touches (core.outages.outage_touches), each once."""


class Contacts(Protocol):
    async def contacts(self) -> list[Contact]:
        """The utility's contacts, in the order of its contacts.csv."""


class ServiceOrders(Protocol):
    """The utility's services, orders of them and their statuses."""

    async def service_catalogue(self) -> list[Service]:
        """The services imported from services.csv (withdrawn ones too), in the order first imported; [] when
        none was (core.services.catalogue then takes the default)."""

    async def add_service_order(
        self, account_id: int, chat_id: int | None, service: str, phone: str, comment: str | None, at: datetime,
    ) -> ServiceOrder:
        """A new order in status "sent", its first event recorded (by the consumer)."""

    async def service_order(self, order_id: int) -> ServiceOrder | None:
        """The order, locked against a concurrent status change."""

    async def service_orders(self, account_ids: list[int], limit: int = 10) -> list[ServiceOrder]:
        """The accounts' latest orders, newest first."""

    async def order_history(self, order_id: int) -> list[OrderChange]:
        """The order's statuses, oldest first."""

    async def record_order_change(
        self, order_id: int, status: str, comment: str | None, at: datetime, by: str,
    ) -> OrderChange:
        """Set the status and record the event; core.services.change_order_status checks it first."""

    async def order_changes_after(self, event_id: int, limit: int = 500) -> list[OrderChange]:
        """Order events with an id above `event_id`, in id order: how the outbox picks up what to tell."""

    async def order_event(self, event_id: int) -> OrderChange | None: ...

    async def set_order_amount(self, order_id: int, amount: Decimal) -> None:
        """What the paid service costs this order (the operator names it)."""

    async def add_order_file(self, order_id: int, kind: str, path: str, sha256: str, size: int, mime_type: str,
                             chat_id: int | None, at: datetime) -> OrderFile: ...

    async def order_files(self, order_id: int, kind: str | None = None) -> list[OrderFile]:
        """The order's files (of one kind), oldest first."""


class Appeals(Protocol):
    """Appeals to the call centre and its answers."""

    async def add_appeal(self, account_id: int | None, chat_id: int | None, kind: str, text: str, at: datetime,
                         turns: tuple[RecentTurn, ...] = ()) -> Appeal:
        """A new appeal; `turns`: the chat's recent turns attached to it (a technical-support appeal); no account:
        from a chat with none linked."""

    async def appeal(self, appeal_id: int) -> Appeal | None:
        """The appeal, locked against a concurrent change."""

    async def appeals(self, account_ids: list[int], chat_id: int, limit: int = 10) -> list[Appeal]:
        """The accounts' latest appeals and the chat's own without an account, newest first."""

    async def appeals_without_account(self, chat_id: int, since: datetime) -> list[datetime]:
        """When the chat wrote each appeal without an account since `since`, oldest first."""

    async def update_appeal(self, appeal_id: int, status: str, answer: str | None, at: datetime) -> Appeal: ...


class RecentTurns(Protocol):
    """The last turns of each chat, kept a few days for a technical-support appeal (core/recent_turns.py)."""

    async def keep_turn(self, chat_id: int, turn: RecentTurn, keep: int) -> None:
        """Keep the turn with the chat's last `keep` turns; the oldest beyond them is overwritten (one statement)."""

    async def save_state_and_keep_turn(self, chat_id: int, state: ConversationState | None, turn: RecentTurn,
                                       keep: int) -> None:
        """save_state and keep_turn, a turn's last two writes, in one round trip where the database can."""

    async def recent_turns(self, chat_id: int, since: datetime, limit: int) -> list[RecentTurn]:
        """The chat's last `limit` turns taken at or after `since`, oldest first."""


class ChatPreferences(Protocol):
    """Each chat's /settings: reminder switches and quiet hours."""

    async def chat_settings(self, chat_id: int) -> ChatSettings:
        """The chat's settings; the defaults when it never changed them."""

    async def save_chat_settings(self, chat_id: int, settings: ChatSettings, at: datetime) -> None:
        """Keep the settings, and release the chat's messages held for quiet hours (the new ones may not hold them)."""

    async def chats_settings(self, chat_ids: list[int]) -> dict[int, ChatSettings]:
        """Settings of many chats at once (the reminder planner); defaults for chats without a row."""


class Emails(Protocol):
    """A chat's e-mail address, the codes that confirm a new one, and the paper invoice choice per account
    (storage/queries_email.py)."""

    async def chat_email(self, chat_id: int) -> ChatEmail | None: ...

    async def confirm_email(self, chat_id: int, address: str, at: datetime) -> ChatEmail:
        """The chat's address is now `address` (it replaces an earlier one)."""

    async def remove_email(self, chat_id: int) -> str | None:
        """Forget the chat's address; returns it (None: there was none)."""

    async def forget_chat_email(self, chat_id: int) -> None:
        """/forget: the address goes; the accounts' paper invoice choices stay, no longer tied to the chat."""

    async def save_email_code(self, channel: str, external_id: str, address: str, digest: str, at: datetime) -> None:
        """The code about to be mailed (its salted hash); an earlier one still open is closed."""

    async def pending_email_code(self, channel: str, external_id: str) -> PendingCode | None: ...

    async def spend_email_code_tries(self, channel: str, external_id: str, tries: int) -> None:
        """The open code has now had `tries` wrong tries."""

    async def close_email_code(self, channel: str, external_id: str, at: datetime) -> None: ...

    async def email_codes_sent_by(self, channel: str, external_id: str, since: datetime) -> list[datetime]:
        """When codes were mailed for this chat since `since`, to any address."""

    async def email_codes_sent_to(self, address: str, since: datetime) -> list[datetime]:
        """When codes were mailed to this address since `since`, from any chat."""

    async def set_email_notices(self, chat_id: int, notices: frozenset[str]) -> None:
        """The kinds of notices (core.email_address.EMAIL_NOTICES) the chat also takes by e-mail."""

    async def refuse_email(self, chat_id: int, address: str, at: datetime) -> None:
        """The address's server refused it for good: nothing more is mailed there (a newer address is untouched)."""

    async def choose_paper_invoice(self, account_id: int, paper: bool, chat_id: int | None, at: datetime) -> None: ...

    async def paper_invoice(self, account_id: int) -> bool | None:
        """The account's last choice; None: nobody chose."""


class NoticePlanning(Protocol):
    async def plan_notices(self, kind: Kind, notices: list[tuple[int, str, str]], at: datetime) -> int:
        """Notices given as (chat id, subject, period) into the outbox, each once (core.notifications)."""


class Outbox(NoticePlanning, Protocol):
    """What is still to be sent to a chat, and whether it can be."""

    async def queue_reply(self, channel: str, external_id: str, packed: dict[str, Any], now: datetime,
                          not_before: datetime) -> None:
        """Keep replies (core.notifications.packed_replies) in the outbox for the chat."""

    async def set_reachable(self, channel: str, external_id: str, reachable: bool) -> None:
        """A chat that blocked the bot (or unsubscribed) is not sent anything until it writes again."""


class Transaction(Chats, Accounts, Readings, Photos, BillingViews, Outages, Contacts, ServiceOrders, Appeals,
                  RecentTurns, ChatPreferences, Emails, Outbox, Protocol):
    """One unit of work: everything one consumer event reads and writes, committed together."""


class Store(Protocol):
    def transaction(self) -> AbstractAsyncContextManager[Transaction]: ...


class Mailer(Protocol):
    """Sends e-mail (handlers.email.EmailSender over SMTP)."""

    async def send(self, email: Email) -> None:
        """Raises core.notifications.DeliveryError: TransientFailure (try later) or a refusal for good."""


class ChatFiles(Protocol):
    """Files a channel keeps for a chat (Viber's media shelf): removed when the chat is forgotten."""

    def forget(self, channel: str, external_id: str) -> None: ...


class PhotoArchive(Protocol):
    """Keeps the bytes of a consumer's photo as evidence; returns where."""

    def save(self, content: bytes, received_at: datetime) -> tuple[str, str]:
        """Write the photo; returns (path, sha256)."""

    def load(self, path: str) -> bytes:
        """The photo's bytes; empty when it is gone."""


# ----- the scheduler's side: planning reminders, delivering the outbox, leading, pruning


class NoticeSources(Accounts, BillingViews, Readings, Outages, Contacts, ServiceOrders, Appeals, Protocol):
    """What a due notice is rendered from (core.notifications.render): the data as it is when it is sent."""


class OutageNotices(Outages, NoticePlanning, Protocol):
    """What the outage-notice rule (core.outages.plan_outage_notices) reads and plans."""

    async def chats_told_of_outage(self, code: str) -> set[int]:
        """Chats that already have the outage's first notice planned or sent."""


class ReminderPlanning(OutageNotices, ServiceOrders, Protocol):
    """One reminder job's unit of work: a daily job's plan and its first batches, the event jobs' notices; each
    notice once."""

    async def open_plan(self, plan: ReminderPlan, at: datetime) -> int | None:
        """Record a daily job's run; its id, or None when a plan of its key was recorded before (nothing to plan)."""

    async def expand_plan(self, plan_id: int, at: datetime, batch: int) -> Expansion:
        """Plan the outbox rows of the plan's next `batch` chats' links, as the data is now."""

    async def last_order_change_notified(self) -> int:
        """The id of the last order change planned as a notice (0 for none)."""

    async def planned_since(self, since: datetime, limit: int) -> list[OutboxMessage]:
        """Outbox rows created at or after `since`, in id order (what a dry run shows)."""


class Delivery(NoticeSources, ChatPreferences, Emails, Outbox, Protocol):
    """One outbox message's unit of work: the chat's settings, the notice's data, and what became of it."""

    async def queue_email_copy(self, message_id: int, at: datetime) -> None:
        """A copy of the message for the chat's e-mail address (core.mailing), its own row; once however often asked."""

    async def record_delivery(self, message_id: int, status: str, *, now: datetime, outcome: str | None = None,
                              not_before: datetime | None = None, attempts_add: int = 0) -> None:
        """The message's new status (queued again, sent, skipped, failed) and why."""


class Leadership(Protocol):
    """Which one of the processes sharing a database runs the reminder scheduler."""

    @property
    def held(self) -> bool: ...

    async def try_take(self) -> bool:
        """Take the lead, or keep it; False while another process holds it."""

    async def release(self) -> None: ...


class OutboxStore(Protocol):
    """The outbox and its upkeep, as the scheduler's planner, dispatcher and retention job use them."""

    def planning(self, *, dry_run: bool = False) -> AbstractAsyncContextManager[ReminderPlanning]:
        """A job's unit of work: committed at the end, or, for a dry run, rolled back."""

    def delivery(self) -> AbstractAsyncContextManager[Delivery]: ...

    async def claim(self, now: datetime, limit: int, lease: timedelta) -> list[OutboxMessage]:
        """Take up to `limit` due messages (and those whose claimer died) for this dispatcher alone."""

    async def record(self, message_id: int, status: str, *, now: datetime, outcome: str | None = None,
                     not_before: datetime | None = None, attempts_add: int = 0) -> None:
        """As Delivery.record_delivery, in a transaction of its own."""

    async def expand_plans(self, now: datetime, batch: int, ahead: int) -> int:
        """Plan the next batches of the unfinished plans whose kind has fewer than `ahead` messages waiting, each in
        a short transaction of its own, never one batch twice; the rows planned."""

    def leadership(self) -> Leadership: ...

    async def prune_outbox(self, before: datetime, batch: int) -> int:
        """Sent and skipped messages planned before `before`, but not the newest one a daily planner checks."""

    async def prune_deliveries(self, before: datetime, batch: int) -> int:
        """Messenger deliveries seen before `before`."""

    async def prune_link_attempts(self, before: datetime, batch: int) -> int:
        """Link attempts older than every limit that counts them."""

    async def prune_photos(self, before: datetime, batch: int) -> int:
        """Photos received before `before`, rows and files."""

    async def prune_recent_turns(self, before: datetime, batch: int) -> int:
        """Chats' recent turns taken before `before`."""

    async def prune_plans(self, before: datetime, batch: int) -> int:
        """Daily jobs' plans finished before `before`."""
