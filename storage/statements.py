"""The statements of every consumer turn, built once at import.

Building a statement and computing its cache key cost more CPU than PostgreSQL spends running it, and
the ORM's handling of entity rows as much again: these run on the transaction's Core connection, with
table columns (and on PostgreSQL past SQLAlchemy, see storage/fast_path.py). The rest of the queries are
not hot and stay plain, beside the methods that run them.
"""
from __future__ import annotations

from sqlalchemy import Integer, and_, bindparam, delete, func, literal, literal_column, select, true, update

from core.readings import MAX_ZONES
from storage.dialect import insert_for, per_dialect
from storage.models import (
    AccountRow, ChatAccountRow, ChatRow, ConversationRow, DeliveryRow, InvoiceRow, MeterRow, PaymentRow, ReadingRow,
    RecentTurnRow, ReplacedReadingRow, TariffRow,
)
from storage.queries_billing import sums_since_balance


def _upsert(table, index: list[str], updated: tuple[str, ...]):
    """INSERT … ON CONFLICT (index) DO UPDATE SET each updated column to the inserted value, per dialect."""
    def build(dialect: str):
        statement = insert_for(dialect)(table)
        return statement.on_conflict_do_update(
            index_elements=index, set_={name: statement.excluded[name] for name in updated})
    return per_dialect(build)


CHATS, CONVERSATIONS, ACCOUNTS, METERS, READINGS = (
    ChatRow.__table__, ConversationRow.__table__, AccountRow.__table__, MeterRow.__table__, ReadingRow.__table__
)
LINKS, PAYMENTS, INVOICES, TARIFFS = (
    ChatAccountRow.__table__, PaymentRow.__table__, InvoiceRow.__table__, TariffRow.__table__
)
FIRST_DELIVERY = per_dialect(lambda dialect: insert_for(dialect)(DeliveryRow.__table__).on_conflict_do_nothing(
    index_elements=["channel", "key"]))
CHAT_AND_STATE = (
    select(CHATS.c.id, CHATS.c.channel, CHATS.c.external_id, CHATS.c.language, CHATS.c.consent_at,
           CHATS.c.active, CONVERSATIONS.c.step, CONVERSATIONS.c.data)
    .outerjoin(CONVERSATIONS, CONVERSATIONS.c.chat_id == CHATS.c.id)
    .where(CHATS.c.channel == bindparam("channel"), CHATS.c.external_id == bindparam("external_id"))
    # FOR NO KEY UPDATE: the chat's other turns wait, a row naming the chat (a reading another turn replaces,
    # kept with its chat) does not; with FOR UPDATE its foreign key's check waited, and could deadlock.
    .with_for_update(of=CHATS, key_share=True)
)
NEW_CHAT = per_dialect(lambda dialect: insert_for(dialect)(CHATS).on_conflict_do_nothing(
    index_elements=["channel", "external_id"]))
SAVE_CHAT = (update(CHATS).where(CHATS.c.id == bindparam("chat_id"))
             .values(language=bindparam("language"), consent_at=bindparam("consent_at"), active=bindparam("active")))
SAVE_STATE = _upsert(CONVERSATIONS, ["chat_id"], ("step", "data", "updated_at"))
CLEAR_STATE = delete(CONVERSATIONS).where(CONVERSATIONS.c.chat_id == bindparam("chat_id"))
LINKED_ACCOUNTS = (
    select(ACCOUNTS)
    .join(ChatAccountRow.__table__, ChatAccountRow.account_id == ACCOUNTS.c.id)
    .where(ChatAccountRow.chat_id == bindparam("chat_id"))
    .order_by(ChatAccountRow.linked_at, ACCOUNTS.c.id)
)
METERS_OF = (select(METERS).where(METERS.c.account_id.in_(bindparam("account_ids", expanding=True)))
             .order_by(METERS.c.account_id, METERS.c.id))
_LATEST = (
    select(READINGS.c.zone, func.max(READINGS.c.taken_on).label("taken_on"))
    .where(READINGS.c.meter_id == bindparam("meter_id"), READINGS.c.taken_on < bindparam("before"))
    .group_by(READINGS.c.zone)
    .subquery()
)
LAST_READINGS = (
    select(READINGS.c.zone, READINGS.c.value, READINGS.c.taken_on, READINGS.c.source)
    .join(_LATEST, and_(READINGS.c.zone == _LATEST.c.zone, READINGS.c.taken_on == _LATEST.c.taken_on))
    .where(READINGS.c.meter_id == bindparam("meter_id"))
    .order_by(READINGS.c.id)
)
_READING_KEY = ["meter_id", "zone", "taken_on", "source"]
# A consumer's reading: a new row, or none when the key has one already (a second submission of the day).
NEW_READING = per_dialect(lambda dialect: insert_for(dialect)(READINGS).on_conflict_do_nothing(
    index_elements=_READING_KEY).returning(READINGS.c.id))


def _reading_of_key(prefix: str = ""):
    """The reading of a key, locked; its parameters named `prefix` + column."""
    return (
        select(READINGS.c.id, READINGS.c.value, READINGS.c.chat_id, READINGS.c.photo_id, READINGS.c.submitted_at)
        .where(*(READINGS.c[name] == bindparam(prefix + name) for name in _READING_KEY))
        .with_for_update()
    )


# A second submission of the key: the first is locked, kept as replaced (with its photo), then overwritten.
READING_OF_KEY = _reading_of_key()
KEEP_REPLACED = ReplacedReadingRow.__table__.insert()
# PostgreSQL: READING_OF_KEY, KEEP_REPLACED and REPLACE_READING (below) in one statement, a round trip instead of
# three, after NEW_READING found the key taken: the earlier reading locked, kept as replaced and overwritten, and
# read back as READING_OF_KEY reads it. (A statement of its own, so it sees the row NEW_READING found committed.)
_SUBMITTED = {name: bindparam(name, type_=READINGS.c[name].type)
              for name in ("value", "chat_id", "submitted_at", "photo_id")}
# (The key's parameters are named apart from the columns: the UPDATE would set a column named by a parameter.)
_EARLIER = _reading_of_key("key_").cte("earlier")
_KEPT_EARLIER = (
    ReplacedReadingRow.__table__.insert()
    .from_select(["reading_id", "value", "chat_id", "photo_id", "submitted_at", "replaced_at"],
                 select(_EARLIER.c.id, _EARLIER.c.value, _EARLIER.c.chat_id, _EARLIER.c.photo_id,
                        _EARLIER.c.submitted_at, _SUBMITTED["submitted_at"]))
    .cte("kept")
)
_OVERWRITTEN = update(READINGS).where(READINGS.c.id == _EARLIER.c.id).values(_SUBMITTED).cte("overwritten")
REPLACE_KEEPING_EARLIER = (select(_EARLIER.c.id, _EARLIER.c.value, _EARLIER.c.chat_id, _EARLIER.c.photo_id,
                                  _EARLIER.c.submitted_at).add_cte(_KEPT_EARLIER).add_cte(_OVERWRITTEN))

# A turn kept among the chat's last `keep` (core/recent_turns.py) in one statement: the chat's next number,
# modulo `keep`, names the slot it takes, overwriting the oldest turn there. The chat is locked for its turn,
# so two turns of one chat never count the same number.
TURNS = RecentTurnRow.__table__
_TURN_VALUES = ("at", "delivery", "kind", "said", "answered")
_NEXT_SEQ = (select((func.coalesce(func.max(TURNS.c.seq), 0) + 1).label("seq"))
             .where(TURNS.c.chat_id == bindparam("chat_id")).subquery("next"))


def _keep_turn(dialect: str):
    values = select(bindparam("chat_id", type_=TURNS.c.chat_id.type),
                    (_NEXT_SEQ.c.seq % bindparam("keep", type_=Integer)).label("slot"), _NEXT_SEQ.c.seq,
                    *[bindparam(name, type_=TURNS.c[name].type) for name in _TURN_VALUES])
    # SQLite reads ON CONFLICT after INSERT … SELECT as a join's ON unless the SELECT has a WHERE.
    statement = insert_for(dialect)(TURNS).from_select(["chat_id", "slot", "seq", *_TURN_VALUES],
                                                       values.where(true()))
    return statement.on_conflict_do_update(index_elements=["chat_id", "slot"],
                                           set_={name: statement.excluded[name] for name in ("seq", *_TURN_VALUES)})


KEEP_TURN = per_dialect(_keep_turn)
# PostgreSQL: a turn that moves the chat to a step (or out of one) saves it and keeps the turn in one statement,
# the step's write a CTE of the kept turn's: a round trip fewer than SAVE_STATE or CLEAR_STATE and KEEP_TURN.
# (SQLite writes nothing in a WITH: it runs the two, with no network between.)
_STATE_VALUES = {name: bindparam(name, type_=CONVERSATIONS.c[name].type) for name in ("chat_id", "step", "data",
                                                                                      "updated_at")}
SAVE_STATE_AND_KEEP_TURN = KEEP_TURN["postgresql"].add_cte(SAVE_STATE["postgresql"].values(_STATE_VALUES).cte("state"))
CLEAR_STATE_AND_KEEP_TURN = KEEP_TURN["postgresql"].add_cte(CLEAR_STATE.cte("state"))
RECENT_TURNS = (
    select(TURNS.c.at, TURNS.c.delivery, TURNS.c.kind, TURNS.c.said, TURNS.c.answered, TURNS.c.seq)
    .where(TURNS.c.chat_id == bindparam("chat_id"), TURNS.c.at >= bindparam("since"))
    .order_by(TURNS.c.seq.desc()).limit(bindparam("limit"))
)
REPLACE_READING = update(READINGS).where(READINGS.c.id == bindparam("reading_id"))

# The views of a turn in one statement each (on PostgreSQL read with the opening statement, OPEN_TURN): the
# chat's accounts, a row per meter (one with empty meter columns for an account without), with each zone's
# price (a tariff and a meter have at most MAX_ZONES zones: the import takes no others); for the reading
# flows each zone's reading as LAST_READINGS would give it, for /balance the last payment and invoice and the
# sums of the invoices and payments after the balance's day.
METER_COLUMNS = [column.label(f"meter_{column.name}") for column in METERS.c]


def _price_columns(plan, prefix: str) -> list:
    """Each zone's price of the `plan` column's tariff plan: of the prices valid on the day, the latest."""
    return [
        select(TARIFFS.c.price)
        .where(TARIFFS.c.tariff_plan == plan, TARIFFS.c.zone == zone, TARIFFS.c.valid_from <= bindparam("on"))
        .order_by(TARIFFS.c.valid_from.desc()).limit(1).correlate(plan.table).scalar_subquery()
        .label(f"{prefix}price_{zone}")
        for zone in range(1, MAX_ZONES + 1)
    ]


PRICE_COLUMNS = _price_columns(ACCOUNTS.c.tariff_plan, "")
# A meter's own plan's (read only for a meter that has one: LinkedAccount.prices_of falls back to the account's).
METER_PRICE_COLUMNS = _price_columns(METERS.c.tariff_plan, "meter_")
_ACCOUNT_ROWS = (  # of every chat: _of_chat picks one
    select(*ACCOUNTS.c, *PRICE_COLUMNS, *METER_COLUMNS, *METER_PRICE_COLUMNS)
    .select_from(ACCOUNTS.join(LINKS, LINKS.c.account_id == ACCOUNTS.c.id)
                 .outerjoin(METERS, METERS.c.account_id == ACCOUNTS.c.id))
)


def _of_chat(statement):
    """The rows of one chat's accounts (`chat_id`), in the order it linked them."""
    return statement.where(LINKS.c.chat_id == bindparam("chat_id")).order_by(LINKS.c.linked_at, ACCOUNTS.c.id,
                                                                             METERS.c.id)


def _with_last_readings(statement, lateral: bool):
    """Each zone's last reading before `on` (the latest day; of one day's readings the one stored last).

    On PostgreSQL a LATERAL join, read from the meter's readings index; SQLite has no LATERAL: there the
    reading whose id a scalar subquery finds. (PostgreSQL given the second form hashed the whole readings
    table on each execution where it thought the table small.)"""
    for zone in range(1, MAX_ZONES + 1):
        last = (
            select(READINGS.c.id, READINGS.c.value, READINGS.c.taken_on, READINGS.c.source)
            .where(READINGS.c.meter_id == METERS.c.id, READINGS.c.zone == zone, READINGS.c.taken_on < bindparam("on"))
            .order_by(READINGS.c.taken_on.desc(), READINGS.c.id.desc()).limit(1)
        )
        if lateral:
            reading = last.lateral(f"reading_{zone}")
            statement = statement.outerjoin(reading, true())
        else:
            reading = READINGS.alias(f"reading_{zone}")
            statement = statement.outerjoin(
                reading, reading.c.id == last.with_only_columns(READINGS.c.id).correlate(METERS).scalar_subquery())
        statement = statement.add_columns(*[reading.c[name].label(f"reading_{zone}_{name}")
                                            for name in ("value", "taken_on", "source")])
    return statement


_LAST_PAYMENT = (  # the latest day; of one day's payments the one stored last
    select(PAYMENTS.c.id, PAYMENTS.c.paid_on, PAYMENTS.c.amount, PAYMENTS.c.purpose)
    .where(PAYMENTS.c.account_id == ACCOUNTS.c.id).order_by(PAYMENTS.c.paid_on.desc(), PAYMENTS.c.id.desc()).limit(1)
)
_LAST_INVOICE = (
    select(*INVOICES.c).where(INVOICES.c.account_id == ACCOUNTS.c.id).order_by(INVOICES.c.period.desc()).limit(1)
)

_SUMS_SINCE_BALANCE = [sum_.label(name) for sum_, name in zip(sums_since_balance(), ("invoiced_since", "paid_since"))]


def _with_last_payment_and_invoice(statement, lateral: bool):
    """The account's last payment and last invoice, the way _with_last_readings joins readings, and the sums of
    its invoices and payments after its balance's day."""
    if lateral:
        payment, invoice = _LAST_PAYMENT.lateral("last_payment"), _LAST_INVOICE.lateral("last_invoice")
        statement = statement.outerjoin(payment, true()).outerjoin(invoice, true())
    else:
        payment, invoice = PAYMENTS, INVOICES
        statement = (
            statement
            .outerjoin(PAYMENTS, PAYMENTS.c.id == _LAST_PAYMENT.with_only_columns(PAYMENTS.c.id)
                       .correlate(ACCOUNTS).scalar_subquery())
            .outerjoin(INVOICES, INVOICES.c.id == _LAST_INVOICE.with_only_columns(INVOICES.c.id)
                       .correlate(ACCOUNTS).scalar_subquery())
        )
    return statement.add_columns(
        *[payment.c[name].label(f"payment_{name}") for name in ("paid_on", "amount", "purpose")],
        *[invoice.c[name].label(f"invoice_{name}")
          for name in ("period", "issued_on", "due_on", "amount", "kwh", "pdf")],
        *_SUMS_SINCE_BALANCE,
    )


LINKED_METERS = per_dialect(lambda dialect: _of_chat(_with_last_readings(_ACCOUNT_ROWS, dialect == "postgresql")))
ACCOUNT_SUMMARIES = per_dialect(
    lambda dialect: _of_chat(_with_last_payment_and_invoice(_ACCOUNT_ROWS, dialect == "postgresql")))

# PostgreSQL: a turn's first statement records its delivery key and reads its chat (locked), its step and
# the view of its accounts LINKED_METERS or ACCOUNT_SUMMARIES reads: one round trip instead of three. The chat is locked before the key is written (the join reads `chat` before the select list counts
# `fresh`), and every turn on PostgreSQL opens with this statement, so two copies of one update wait for
# each other on the chat, and the second finds the key taken: no lock-order deadlock. A chat's first event
# finds no chat and takes no lock; its copy then waits on the key.
_TURN_CHAT = CHAT_AND_STATE.cte("chat")
_FRESH_DELIVERY = (
    insert_for("postgresql")(DeliveryRow.__table__)
    .from_select(["channel", "key", "seen_at"], select(*[
        bindparam(name, type_=DeliveryRow.__table__.c[name].type) for name in ("channel", "key", "seen_at")]))
    .on_conflict_do_nothing(index_elements=["channel", "key"])
    .returning(literal_column("1"))
    .cte("fresh")
)
def _open_turn(view):
    """OPEN_TURN with the accounts view `view` makes of the chat's account rows."""
    accounts = (  # of the chat by a value, not a join: joined, the planner may build it for every chat
        view(_ACCOUNT_ROWS)
        .add_columns(LINKS.c.linked_at.label("link_linked_at"))
        .where(LINKS.c.chat_id == select(_TURN_CHAT.c.id).scalar_subquery())
        .subquery("accounts_view")
    )
    return (
        select(select(func.count()).select_from(_FRESH_DELIVERY).scalar_subquery().label("fresh"),
               *[column.label(f"chat_{column.name}") for column in _TURN_CHAT.c],
               *[column for column in accounts.c if not column.name.startswith("link_")])
        .select_from(select(literal(1).label("one")).subquery("one")
                     .outerjoin(_TURN_CHAT, true())
                     .outerjoin(accounts, true()))
        .order_by(accounts.c.link_linked_at, accounts.c.id, accounts.c.meter_id)
    )


# Opened with the view the turn will read (a turn reads one: /balance the summaries, the reading flows the
# meters; the other is read by a statement of its own if asked for): computing both cost PostgreSQL a sixth more.
OPEN_TURN = {"meters": _open_turn(lambda rows: _with_last_readings(rows, True)),
             "summaries": _open_turn(lambda rows: _with_last_payment_and_invoice(rows, True))}
