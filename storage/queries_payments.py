"""Online payments (a provider's page, LiqPay): ordered at checkout, paid by the provider's signed callback, pending
on the account until the billing import brings the same payment. Every change of status is one conditional UPDATE,
so a replayed or concurrent callback changes a row at most once."""
from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, tzinfo
from decimal import Decimal

from sqlalchemy import ColumnElement, not_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.model import OnlinePayment
from core.notifications import Kind
from core.reconciliation import BroughtPayment, reconciliations
from storage.dialect import chunks, insert_of
from storage.models import AccountRow, ChatAccountRow, ChatRow, OnlinePaymentRow, PaymentRow
from storage.outbox import plan_notices

ORDERED, PAID, FAILED, REVERSED = "ordered", "paid", "failed", "reversed"


async def order_payment(session: AsyncSession, order_id: str, account_id: int, amount: Decimal, now: datetime, *,
                        provider: str = "liqpay", currency: str = "UAH") -> None:
    """The order a checkout opens; its callback finds the account here, never in what the provider sends."""
    session.add(OnlinePaymentRow(order_id=order_id, provider=provider, account_id=account_id, amount=amount,
                                 currency=currency, status=ORDERED, created_at=now))
    await session.flush()


async def opened_order(session: AsyncSession, order_id: str, account_id: int, amount: Decimal, now: datetime, *,
                       provider: str = "liqpay", currency: str = "UAH",
                       service_order: int | None = None) -> OnlinePayment | None:
    """The order a pay link names, made the first time the link is opened (a second opening, even at the same
    moment, finds the first's); None when the account is no longer there. With `service_order`, it pays that
    order of a service, not the electricity."""
    if await session.get(AccountRow, account_id) is None:
        return None
    await session.execute(
        insert_of(session)(OnlinePaymentRow)
        .values(order_id=order_id, provider=provider, account_id=account_id, amount=amount, currency=currency,
                status=ORDERED, created_at=now, service_order_id=service_order)
        .on_conflict_do_nothing(index_elements=["order_id"])
    )
    return await online_payment(session, order_id)


async def online_payment(session: AsyncSession, order_id: str) -> OnlinePayment | None:
    rows = await session.execute(_selected().where(OnlinePaymentRow.order_id == order_id))
    row = rows.first()
    return _payment(row) if row else None


async def record_paid(session: AsyncSession, order_id: str, payment_id: str | None, amount: Decimal, provider_status: str,
                      now: datetime) -> bool:
    """The order paid (first time only: an order ordered, or failed and paid on a second try); False when it
    already was, or is not ours."""
    return await _changed(session, order_id, (ORDERED, FAILED), status=PAID, payment_id=payment_id, amount=amount,
                          provider_status=provider_status, paid_at=now, error=None)


async def record_failed(session: AsyncSession, order_id: str, provider_status: str, error: str | None) -> bool:
    """A try that took no money; a paid order stays paid (a late failure of another try says nothing of it)."""
    return await _changed(session, order_id, (ORDERED,), status=FAILED, provider_status=provider_status, error=error)


async def record_reversed(session: AsyncSession, order_id: str, provider_status: str) -> bool:
    """The provider returned the money of a paid order: no longer pending, and exported as reversed."""
    return await _changed(session, order_id, (PAID,), status=REVERSED, provider_status=provider_status)


async def _changed(session: AsyncSession, order_id: str, before: tuple[str, ...], **values) -> bool:
    result = await session.execute(
        update(OnlinePaymentRow)
        .where(OnlinePaymentRow.order_id == order_id, OnlinePaymentRow.status.in_(before))
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


async def queue_paid_notice(session: AsyncSession, payment: OnlinePayment, now: datetime) -> int:
    """"Payment received" to every active chat linked to the account, once per order (the outbox key)."""
    chats = await session.scalars(
        select(ChatAccountRow.chat_id)
        .join(ChatRow, ChatRow.id == ChatAccountRow.chat_id)
        .where(ChatAccountRow.account_id == payment.account_id, ChatRow.active.is_(True))
        .order_by(ChatAccountRow.chat_id)
    )
    notices = [(chat_id, payment.account, payment.order_id) for chat_id in chats]
    text = {"amount": str(payment.amount)}
    if payment.service_order is not None:
        text["service_order"] = str(payment.service_order)
    return await plan_notices(session, Kind.PAYMENT, notices, now, text=text)


async def pending_payments(session: AsyncSession, account_id: int) -> list[OnlinePayment]:
    """The account's paid payments the billing has not brought yet (what /balance and /history add), oldest
    first."""
    rows = await session.execute(
        _selected()
        .where(OnlinePaymentRow.account_id == account_id, OnlinePaymentRow.status == PAID,
               OnlinePaymentRow.reconciled_at.is_(None), OnlinePaymentRow.service_order_id.is_(None))
        .order_by(OnlinePaymentRow.paid_at, OnlinePaymentRow.id)
    )
    return [_payment(row) for row in rows]


async def payments_for_export(session: AsyncSession, since: datetime | None = None) -> list[OnlinePayment]:
    """Paid and reversed payments (paid since `since`, when given), in the order they were paid: what the utility
    takes into its billing."""
    rows = await session.execute(_exported(since).order_by(OnlinePaymentRow.paid_at, OnlinePaymentRow.id))
    return [_payment(row) for row in rows]


async def exported_page(session: AsyncSession, since: datetime | None, after: int | None,
                        limit: int) -> list[tuple[int, dict[str, str]]]:
    """The export's rows by id (the admin API's pages): (id, row of EXPORT_COLUMNS)."""
    query = _exported(since).add_columns(OnlinePaymentRow.id).order_by(OnlinePaymentRow.id).limit(limit)
    if after is not None:
        query = query.where(OnlinePaymentRow.id > after)
    return [(id_, _exported_row(_payment((payment, number)))) for payment, number, id_ in await session.execute(query)]


def _exported(since: datetime | None):
    query = _selected().where(OnlinePaymentRow.status.in_((PAID, REVERSED)))
    return query if since is None else query.where(OnlinePaymentRow.paid_at >= since)


# service_order: the number of the service order it paid (empty: a payment for the electricity)
EXPORT_COLUMNS = ("order_id", "payment_id", "account", "amount", "currency", "paid_at", "status", "service_order")


async def exported_payments(session: AsyncSession, since: datetime | None = None) -> list[dict[str, str]]:
    """`kabinet export payments`: each paid or reversed payment as a row of EXPORT_COLUMNS."""
    return [_exported_row(p) for p in await payments_for_export(session, since)]


def _exported_row(p: OnlinePayment) -> dict[str, str]:
    return {
        "order_id": p.order_id, "payment_id": p.payment_id or "", "account": p.account, "amount": f"{p.amount:.2f}",
        "currency": p.currency, "paid_at": p.paid_at.isoformat() if p.paid_at else "", "status": p.status,
        "service_order": "" if p.service_order is None else str(p.service_order),
    }


async def mark_reconciled(session: AsyncSession, provider: str, payment_id: str, reference: str,
                          now: datetime) -> bool:
    """The billing brought the provider's payment: it is on the account now, no longer pending. False when no
    paid, unreconciled payment has that id (unknown, reversed, or reconciled before)."""
    result = await session.execute(
        update(OnlinePaymentRow)
        .where(OnlinePaymentRow.provider == provider, OnlinePaymentRow.payment_id == payment_id,
               OnlinePaymentRow.status == PAID, OnlinePaymentRow.reconciled_at.is_(None))
        .values(reconciled_at=now, reconciled_ref=reference)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


async def pending_of(session: AsyncSession, account_ids: Collection[int]) -> list[OnlinePayment]:
    """The pending payments of any of the accounts (the billing import's, before it reconciles them)."""
    found: list[OnlinePayment] = []
    for chunk in chunks(sorted(account_ids)):
        rows = await session.execute(_selected().where(
            OnlinePaymentRow.account_id.in_(chunk), OnlinePaymentRow.status == PAID,
            OnlinePaymentRow.reconciled_at.is_(None), OnlinePaymentRow.service_order_id.is_(None)))
        found.extend(_payment(row) for row in rows)
    return found


async def billing_payments(session: AsyncSession, account_ids: Collection[int],
                           *where: ColumnElement[bool]) -> dict[tuple, int]:
    """The billing's payments of the accounts (those `where` admits, if given), by natural key (account_id, paid_on,
    amount, purpose, reference), to their id."""
    found: dict[tuple, int] = {}
    for chunk in chunks(sorted(account_ids)):
        rows = await session.execute(select(PaymentRow.account_id, PaymentRow.paid_on, PaymentRow.amount,
                                            PaymentRow.purpose, PaymentRow.reference, PaymentRow.id)
                                     .where(PaymentRow.account_id.in_(chunk), *where))
        found.update(((account_id, paid_on, Decimal(amount), purpose, reference), id_)
                     for account_id, paid_on, amount, purpose, reference, id_ in rows)
    return found


def billing_row(payment_id: int) -> str:
    """What an online payment's reconciled_ref says of the billing payment that settled it."""
    return f"payments.csv #{payment_id}"


async def references_unknown(session: AsyncSession, account_ids: Collection[int]) -> dict[tuple, int]:
    """The accounts' payments stored before migration 0013 and not brought by an import since (their reference is
    not known), by (account_id, paid_on, amount, purpose), to their id."""
    found = await billing_payments(session, account_ids, not_(PaymentRow.reference_known))
    return {key[:4]: id_ for key, id_ in found.items()}


async def settled_by(session: AsyncSession, payment_ids: Collection[int]) -> dict[int, set[str]]:
    """The references (order id and payment id) of the online payments each billing payment settled, by its id."""
    named = {billing_row(id_): id_ for id_ in payment_ids}
    found: dict[int, set[str]] = {}
    for chunk in chunks(sorted(named)):
        rows = await session.execute(
            select(OnlinePaymentRow.reconciled_ref, OnlinePaymentRow.order_id, OnlinePaymentRow.payment_id)
            .where(OnlinePaymentRow.reconciled_ref.in_(chunk)))
        for row, order_id, payment_id in rows:
            found.setdefault(named[row], set()).update(key for key in (order_id, payment_id) if key)
    return found


async def fill_references(session: AsyncSession, references: dict[int, str]) -> None:
    """Billing payments whose reference is known now, by id: it is theirs from now on."""
    if references:
        await session.execute(update(PaymentRow), [
            {"id": id_, "reference": reference, "reference_known": True} for id_, reference in references.items()])


async def reconcile(session: AsyncSession, brought: list[BroughtPayment], pending: list[OnlinePayment],
                    timezone: tzinfo, now: datetime) -> int:
    """Mark reconciled the pending payments the billing's payments settle (core/reconciliation.py), in the
    caller's transaction; how many were. A billing payment that settled one before settles no other."""
    references = sorted({p.reference for p in brought if p.reference})
    ours: dict[str, str] = {}
    for chunk in chunks(references):
        rows = await session.execute(
            select(OnlinePaymentRow.order_id, OnlinePaymentRow.payment_id)
            .where(or_(OnlinePaymentRow.order_id.in_(chunk), OnlinePaymentRow.payment_id.in_(chunk))))
        for order_id, payment_id in rows:
            ours.update({key: order_id for key in (order_id, payment_id) if key in chunk})
    settled: set[str] = set()
    for chunk in chunks(sorted(p.row for p in brought)):
        settled.update(await session.scalars(select(OnlinePaymentRow.reconciled_ref)
                                             .where(OnlinePaymentRow.reconciled_ref.in_(chunk))))
    count = 0
    for payment, online in reconciliations([p for p in brought if p.row not in settled], pending, ours, timezone):
        result = await session.execute(
            update(OnlinePaymentRow)
            .where(OnlinePaymentRow.order_id == online.order_id, OnlinePaymentRow.status == PAID,
                   OnlinePaymentRow.reconciled_at.is_(None))
            .values(reconciled_at=now, reconciled_ref=payment.row)
            .execution_options(synchronize_session=False)
        )
        count += result.rowcount
    return count


def _selected():
    return select(OnlinePaymentRow, AccountRow.number).join(AccountRow, AccountRow.id == OnlinePaymentRow.account_id)


def _payment(row) -> OnlinePayment:
    payment, number = row
    return OnlinePayment(
        payment.order_id, payment.provider, payment.account_id, number, Decimal(payment.amount), payment.currency,
        payment.status, payment.payment_id, payment.created_at, payment.paid_at, payment.reconciled_at,
        payment.reconciled_ref, payment.service_order_id,
    )
