"""Queries of the billing views (balance, history, invoices, meter): payments, invoices and readings over time."""
from __future__ import annotations

from datetime import date

from sqlalchemy import and_, func, select, true

from core.model import Invoice, MeterReading, OnlinePayment, Payment
from storage.mappers import to_invoice, to_payment
from storage.models import AccountRow, InvoiceRow, OnlinePaymentRow, PaymentRow, ReadingRow


def _counted_since_balance(accounts):
    """The rows each sum of sums_since_balance counts for an account of `accounts`: (table, condition), the
    invoices first, then the payments and the pending online payments."""
    invoices, payments = InvoiceRow.__table__.alias("later_invoices"), PaymentRow.__table__.alias("later_payments")
    online = OnlinePaymentRow.__table__.alias("pending_online")
    return (
        (invoices, invoices.c.issued_on > accounts.c.balance_on),
        (payments, payments.c.paid_on > accounts.c.balance_on),
        # queries_payments.pending_payments, summed: a service order's payment is never on the electricity balance
        (online, and_(online.c.status == "paid", online.c.reconciled_at.is_(None), online.c.service_order_id.is_(None))),
    )


def sums_since_balance():
    """What /balance and the debt reminders add to an account's balance (core.amount_due): the sums of the
    invoices issued and the payments made after its day (the balance counts its own day), the latter with the
    online payments still pending (paid, not yet brought by the billing, whatever their day), as two scalar
    subqueries correlated to the accounts table. Aliases, so that a statement that joins the invoices or
    payments tables itself (SQLite's form of the turn's view) does not correlate to those."""
    accounts = AccountRow.__table__
    invoiced, paid, pending = (
        select(func.coalesce(func.sum(table.c.amount), 0))
        .where(table.c.account_id == accounts.c.id, counted)
        .correlate(accounts).scalar_subquery()
        for table, counted in _counted_since_balance(accounts)
    )
    return invoiced, paid + pending


def sums_since_balance_of_all(statement, accounts=None):
    """`statement` (which selects from the accounts table) outer joined to sums_since_balance of every account at
    once, and those two sums: three grouped subqueries rather than three lookups per account, for a reminder job
    that reads a million accounts. `accounts`, a select of account ids, limits the sums to those (a batch)."""
    owner = AccountRow.__table__.alias("owner")
    sums = []
    for table, counted in _counted_since_balance(owner):
        grouped = (
            select(table.c.account_id, func.sum(table.c.amount).label("amount"))
            .join(owner, owner.c.id == table.c.account_id).where(counted)
            .where(owner.c.id.in_(accounts) if accounts is not None else true())
            .group_by(table.c.account_id).subquery(f"{table.name}_since")
        )
        statement = statement.outerjoin(grouped, grouped.c.account_id == AccountRow.id)
        sums.append(func.coalesce(grouped.c.amount, 0))
    invoiced, paid, pending = sums
    return statement, invoiced, paid + pending


class BillingQueries:
    """Mixed into SqlTransaction; `self.session` is its AsyncSession."""

    async def payments_since(self, account_id: int, since: date) -> list[Payment]:
        rows = await self.session.scalars(
            select(PaymentRow).where(PaymentRow.account_id == account_id, PaymentRow.paid_on >= since)
            .order_by(PaymentRow.paid_on, PaymentRow.id)
        )
        return [to_payment(row) for row in rows]

    async def invoices(self, account_id: int, since_period: str = "") -> list[Invoice]:
        rows = await self.session.scalars(
            select(InvoiceRow).where(InvoiceRow.account_id == account_id, InvoiceRow.period >= since_period)
            .order_by(InvoiceRow.period.desc())
        )
        return [to_invoice(row) for row in rows]

    async def invoices_issued_since(self, account_id: int, since: date) -> list[Invoice]:
        rows = await self.session.scalars(
            select(InvoiceRow).where(InvoiceRow.account_id == account_id, InvoiceRow.issued_on >= since)
            .order_by(InvoiceRow.issued_on, InvoiceRow.period)
        )
        return [to_invoice(row) for row in rows]

    async def pending_payments(self, account_id: int) -> list[OnlinePayment]:
        # Not at the top: queries_payments plans its notice through storage.outbox, which imports this module.
        from storage.queries_payments import pending_payments

        return await pending_payments(self.session, account_id)

    async def readings_since(self, meter_id: int, since: date) -> list[MeterReading]:
        rows = await self.session.scalars(
            select(ReadingRow).where(ReadingRow.meter_id == meter_id, ReadingRow.taken_on >= since)
            .order_by(ReadingRow.taken_on, ReadingRow.id)
        )
        return [MeterReading(row.zone, row.value, row.taken_on, row.source) for row in rows]
