"""Which pending online payment a payment brought by the billing import is, without I/O.

A payment made online is pending (taken off the amount due at once) until the billing brings it; from then the
billing's payment counts it, so the online one must stop being pending in the same import, or it is counted
twice. The billing's payment says which one it is by its reference (the provider's payment id or our order id).
Without one, a payment the import adds of the same account and amount, made on the online payment's day (in
the utility's time zone) or later, is taken for the oldest such pending payment. Each billing payment settles at
most one online payment, and each online payment is settled once.

A reference that names one of our online payments decides: if that is not a pending payment of the same account
(another account's, or one reconciled before), nothing is reconciled, rather than guessing by the amount. A
reference that names none of ours (say, the bank's own document number) is as good as none.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, tzinfo
from decimal import Decimal

from core.model import OnlinePayment


@dataclass(frozen=True)
class BroughtPayment:
    """A payment in the billing import. `row` names it for good (kept as the online payment's reconciled_ref);
    `new`: this import added it, so it was not in the account's history before."""

    row: str
    account_id: int
    paid_on: date
    amount: Decimal
    reference: str | None
    new: bool


def reconciliations(brought: Iterable[BroughtPayment], pending: Iterable[OnlinePayment],
                    ours: Mapping[str, str], timezone: tzinfo) -> list[tuple[BroughtPayment, OnlinePayment]]:
    """Each billing payment with the pending online payment it settles. `ours`: the references that name one of
    our online payments (by payment id or order id), to that payment's order id."""
    waiting = {payment.order_id: payment for payment in pending if payment.pending and payment.paid_at is not None}
    named: list[BroughtPayment] = []
    unnamed: list[BroughtPayment] = []
    for payment in brought:
        (named if payment.reference is not None and payment.reference in ours else unnamed).append(payment)
    found: list[tuple[BroughtPayment, OnlinePayment]] = []
    for payment in named:
        online = waiting.get(ours[payment.reference or ""])
        if online is not None and online.account_id == payment.account_id:
            found.append((payment, waiting.pop(online.order_id)))
    for payment in sorted((p for p in unnamed if p.new), key=lambda p: (p.paid_on, p.row)):
        candidates = [online for online in waiting.values()
                      if online.account_id == payment.account_id and online.amount == payment.amount
                      and paid_day(online, timezone) <= payment.paid_on]
        if candidates:
            oldest = min(candidates, key=lambda online: (online.paid_at or online.created_at, online.order_id))
            found.append((payment, waiting.pop(oldest.order_id)))
    return found


def paid_day(payment: OnlinePayment, timezone: tzinfo) -> date:
    """The day the consumer paid, in the utility's time zone (the billing's days are)."""
    assert payment.paid_at is not None
    return payment.paid_at.astimezone(timezone).date()
