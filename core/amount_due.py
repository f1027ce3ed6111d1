"""What an account has to pay now, and how much of each invoice is still unpaid: pure arithmetic, no I/O.

The utility sends a balance as of a day (positive: owed). That balance already counts the day's own invoices
and payments (a balance "as of" a day is its closing one); what came later is added here: invoices issued
after the day, payments made after it. Payments settle the oldest invoices first, so what is still owed
falls on the newest invoices: each takes the unpaid rest up to its own amount, newest first.

A payment made online (LiqPay) is taken off at once, while it is pending: the billing has not brought it yet,
and the consumer must not be asked to pay it twice. Once the billing brings it, it is reconciled and counted
there instead.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Iterable

from core.model import Account, Invoice, OnlinePayment, Payment
from core.ports import BillingViews


@dataclass(frozen=True)
class AmountDue:
    """The balance as of its day, the invoices and payments after it, and what that makes now."""

    balance: Decimal
    balance_on: date
    invoices: tuple[Invoice, ...]  # issued after balance_on, oldest first
    payments: tuple[Payment, ...]  # made after balance_on, oldest first
    counted_on_the_day: bool  # some invoice or payment of balance_on itself, already in the balance
    pending: tuple[OnlinePayment, ...] = ()  # paid online, not in the billing yet, oldest first

    @property
    def total(self) -> Decimal:
        """Positive: to pay now; negative: overpaid."""
        return owed_now(self.balance, sum((i.amount for i in self.invoices), Decimal(0)),
                        sum((p.amount for p in self.payments), Decimal(0)), pending_sum(self.pending))

    def steps(self) -> list[Invoice | Payment | OnlinePayment]:
        """The invoices and payments after the balance's day in the order they happened (a day's invoice first),
        then the pending online payments: whatever their day, the billing has not counted them."""
        dated: list[tuple[date, int, Invoice | Payment]] = [(i.issued_on, 0, i) for i in self.invoices]
        dated += [(p.paid_on, 1, p) for p in self.payments]
        return [item for _, _, item in sorted(dated, key=lambda entry: (entry[0], entry[1]))] + list(self.pending)

    def unpaid(self, invoice: Invoice, newer: Iterable[Invoice]) -> Decimal:
        return unpaid_part(self.total, invoice, newer)


def owed_now(balance: Decimal, invoiced_since: Decimal, paid_since: Decimal, pending: Decimal = Decimal(0)) -> Decimal:
    """The balance as of its day plus the invoices issued after it, minus the payments made after it and the
    online payments still pending."""
    return balance + invoiced_since - paid_since - pending


def pending_sum(pending: Iterable[OnlinePayment]) -> Decimal:
    return sum((p.amount for p in pending), Decimal(0))


def unpaid_part(owed: Decimal, invoice: Invoice, newer: Iterable[Invoice]) -> Decimal:
    """What is still to pay of `invoice` when `owed` is owed now: that less what the newer invoices (of `newer`,
    later periods) take, never more than the invoice's own amount, never below zero."""
    rest = owed - sum((max(other.amount, Decimal(0)) for other in newer if other.period > invoice.period),
                      Decimal(0))
    return max(Decimal(0), min(invoice.amount, rest))


def amount_due(account: Account, invoices: Iterable[Invoice], payments: Iterable[Payment],
               pending: Iterable[OnlinePayment] = ()) -> AmountDue:
    """The account's amount due from its invoices and payments of its balance's day and later (older ones are
    ignored: the balance has them) and its pending online payments."""
    invoices, payments = list(invoices), list(payments)
    on = account.balance_on
    return AmountDue(
        balance=account.balance,
        balance_on=on,
        invoices=tuple(sorted((i for i in invoices if i.issued_on > on), key=lambda i: (i.issued_on, i.period))),
        payments=tuple(sorted((p for p in payments if p.paid_on > on), key=lambda p: p.paid_on)),
        counted_on_the_day=any(i.issued_on == on for i in invoices) or any(p.paid_on == on for p in payments),
        pending=tuple(pending),
    )


async def due_of(tx: BillingViews, account: Account) -> AmountDue:
    """The account's amount due now, from its invoices and payments of its balance's day on and its pending online
    payments."""
    since = account.balance_on
    return amount_due(account, await tx.invoices_issued_since(account.id, since), await tx.payments_since(account.id, since),
                      await tx.pending_payments(account.id))
