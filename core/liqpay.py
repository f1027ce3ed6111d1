"""LiqPay's public checkout (API version 3) and its server-to-server callback, without I/O.

Both directions carry the same pair of form fields: `data`, the base64 of a JSON object, and `signature`,
base64(sha1(private_key + data + private_key)). The checkout page is opened with the pair (a form POST or a
link's query string); LiqPay POSTs the pair of the payment's outcome to the checkout's `server_url`.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
from datetime import UTC, datetime
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from enum import Enum
from typing import Any
from urllib.parse import urlencode

CHECKOUT_URL = "https://www.liqpay.ua/api/3/checkout"
VERSION = 3
CURRENCY = "UAH"
SANDBOX_KEY_PREFIX = "sandbox_"  # LiqPay's test keys; their payments end in status "sandbox"
ORDER_PREFIX = "kb-"
MAX_DESCRIPTION = 250  # characters LiqPay shows on its page; a longer one is cut there, so we cut it here

# LiqPay's documented statuses (API v3, "Callback"/"Статуси платежу"). Money taken: success; wait_accept (debited,
# the shop is not yet verified by LiqPay). Final without money: failure, error. Money returned: reversed. Every
# other one is a step on the way (verification, waiting) and changes nothing here.
PAID_STATUSES = frozenset({"success", "wait_accept"})
FAILED_STATUSES = frozenset({"failure", "error"})
REVERSED_STATUSES = frozenset({"reversed"})
WAITING_STATUSES = frozenset({
    "3ds_verify", "captcha_verify", "cvv_verify", "ivr_verify", "otp_verify", "password_verify", "phone_verify",
    "pin_verify", "receiver_verify", "sender_verify", "senderapp_verify", "wait_qr", "wait_sender", "p24_verify",
    "mp_verify", "cash_wait", "hold_wait", "invoice_wait", "prepared", "processing", "wait_card",
    "wait_compensation", "wait_lc", "wait_reserve", "wait_secure", "subscribed", "unsubscribed",
})
SANDBOX_STATUS = "sandbox"
KNOWN_STATUSES = PAID_STATUSES | FAILED_STATUSES | REVERSED_STATUSES | WAITING_STATUSES | {SANDBOX_STATUS}


class Outcome(str, Enum):
    """What a callback means for our record of the order."""

    PAID = "paid"
    FAILED = "failed"
    REVERSED = "reversed"
    WAITING = "waiting"


class BadCallback(ValueError):
    """A callback we do not take; the message names the problem and never quotes the body."""


class ForgedCallback(BadCallback):
    """A callback whose signature is not ours: anyone may POST to the route, only LiqPay knows the key."""


@dataclass(frozen=True)
class Checkout:
    """The pair of fields that opens LiqPay's payment page for one order."""

    url: str
    order_id: str
    data: str
    signature: str

    @property
    def link(self) -> str:
        """The page as a link (LiqPay takes the pair in the query string too): what a URL button opens."""
        return f"{self.url}?{urlencode({'data': self.data, 'signature': self.signature})}"

    @property
    def form(self) -> dict[str, str]:
        return {"data": self.data, "signature": self.signature}


@dataclass(frozen=True)
class Callback:
    """A verified callback: the payment's outcome as LiqPay reports it."""

    order_id: str
    status: str
    outcome: Outcome
    amount: Decimal
    currency: str
    payment_id: str | None
    description: str
    error: str | None  # LiqPay's err_code (and err_description) of a failed payment
    # When LiqPay took the money (its end_date, else create_date): a callback retried after midnight still
    # names the day the billing will book the payment on.
    paid_at: datetime | None = None


def _moment(fields: dict[str, Any]) -> datetime | None:
    """LiqPay's end_date (else create_date), milliseconds since the epoch; None when neither is a plausible one."""
    for name in ("end_date", "create_date"):
        value = fields.get(name)
        if isinstance(value, int) and not isinstance(value, bool) and 10**12 <= value < 10**13:
            return datetime.fromtimestamp(value / 1000, UTC)
    return None


def sign(private_key: str, data: str) -> str:
    """LiqPay's signature of a `data` field: base64(sha1(private_key + data + private_key))."""
    digest = hashlib.sha1((private_key + data + private_key).encode()).digest()
    return base64.b64encode(digest).decode()


def encode(fields: dict[str, Any]) -> str:
    return base64.b64encode(json.dumps(fields, ensure_ascii=False).encode()).decode()


def new_order_id() -> str:
    """An order id nobody can guess or read anything from (128 random bits); LiqPay allows 255 characters."""
    return ORDER_PREFIX + secrets.token_hex(16)


@dataclass(frozen=True)
class LiqPay:
    """The merchant's keys and where LiqPay should send the callback."""

    public_key: str
    private_key: str = field(repr=False)  # never in a log line
    server_url: str | None = None  # None: the callback URL set in the shop's LiqPay settings
    checkout_url: str = CHECKOUT_URL
    result_url: str | None = None  # where LiqPay's page sends the consumer when done (e.g. the bot's t.me link)

    @property
    def sandbox(self) -> bool:
        return self.public_key.startswith(SANDBOX_KEY_PREFIX)

    def checkout(self, order_id: str, amount: Decimal, description: str, *, language: str | None = None,
                 result_url: str | None = None) -> Checkout:
        """The checkout of `amount` UAH for one order (see new_order_id; the caller records it first)."""
        amount = Decimal(amount).quantize(Decimal("0.01"))
        if amount <= 0:
            raise ValueError("a payment's amount must be positive")
        fields: dict[str, Any] = {
            "version": VERSION, "public_key": self.public_key, "action": "pay",
            # A JSON number, as LiqPay's examples send it; two decimals survive a float exactly for any bill.
            "amount": float(amount), "currency": CURRENCY, "description": description[:MAX_DESCRIPTION],
            "order_id": order_id,
        }
        if language in ("uk", "en"):  # LiqPay's page speaks these (and no longer Russian)
            fields["language"] = language
        if result_url or self.result_url:
            fields["result_url"] = result_url or self.result_url
        if self.server_url:
            fields["server_url"] = self.server_url
        data = encode(fields)
        return Checkout(self.checkout_url, order_id, data, sign(self.private_key, data))

    def verified(self, data: str | None, signature: str | None) -> Callback:
        """The callback of the two form fields; ForgedCallback when the signature is not LiqPay's for our key,
        BadCallback naming what is missing or malformed."""
        if not data:
            raise BadCallback("no data field")
        if not signature:
            raise BadCallback("no signature field")
        expected = sign(self.private_key, data).encode()
        if not hmac.compare_digest(expected, signature.encode("utf-8", "replace")):
            raise ForgedCallback("the signature does not match")
        return self.parsed(data)

    def parsed(self, data: str) -> Callback:
        """The fields of a signed `data`, checked: our key, an order id, a known status, a UAH amount."""
        try:
            raw = base64.b64decode(data, validate=True)
        except (binascii.Error, ValueError):
            raise BadCallback("data is not base64") from None
        try:
            fields = json.loads(raw, parse_float=Decimal)
        except (UnicodeDecodeError, ValueError, RecursionError):
            raise BadCallback("data is not JSON") from None
        if not isinstance(fields, dict):
            raise BadCallback("data is not a JSON object")
        if fields.get("public_key") != self.public_key:
            raise BadCallback("public_key is not this shop's")
        order_id = _text(fields, "order_id")
        status = _text(fields, "status")
        if status not in KNOWN_STATUSES:
            raise BadCallback(f"status {status[:40]!r} is not one of LiqPay's")
        currency = _text(fields, "currency")
        if currency != CURRENCY:
            raise BadCallback(f"currency {currency[:10]!r} is not {CURRENCY}")
        amount = _amount(fields.get("amount"))
        payment_id = fields.get("payment_id")
        if payment_id is not None and not (isinstance(payment_id, (int, str)) and not isinstance(payment_id, bool)
                                           and 0 < len(str(payment_id)) <= 40):
            raise BadCallback("payment_id is not an id")
        outcome = self.outcome(status)
        if outcome is Outcome.PAID and payment_id is None:
            raise BadCallback("a paid callback has no payment_id")
        error = " ".join(str(fields[name]) for name in ("err_code", "err_description") if fields.get(name))
        return Callback(order_id, status, outcome, amount, currency, None if payment_id is None else str(payment_id),
                        str(fields.get("description") or ""), error[:200] or None, _moment(fields))

    def outcome(self, status: str) -> Outcome:
        """What a status means here. A sandbox payment is money only to a shop running on sandbox keys (a test
        deployment); a live shop never asks for one, so there it is refused."""
        if status in PAID_STATUSES:
            return Outcome.PAID
        if status == SANDBOX_STATUS:
            if not self.sandbox:
                raise BadCallback("a sandbox payment to a live shop")
            return Outcome.PAID
        if status in FAILED_STATUSES:
            return Outcome.FAILED
        if status in REVERSED_STATUSES:
            return Outcome.REVERSED
        return Outcome.WAITING


def _text(fields: dict[str, Any], name: str) -> str:
    value = fields.get(name)
    if not isinstance(value, str) or not value:
        raise BadCallback(f"{name} is missing")
    if len(value) > 255:
        raise BadCallback(f"{name} is longer than 255 characters")
    return value


def _amount(value: object) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (int, Decimal, str)):
        raise BadCallback("amount is missing")
    try:
        amount = Decimal(value)
    except InvalidOperation:
        raise BadCallback("amount is not a number") from None
    if not amount.is_finite() or amount <= 0 or amount >= Decimal("1e12"):
        raise BadCallback("amount is not a positive sum")
    if amount != amount.quantize(Decimal("0.01")):
        raise BadCallback("amount has more than two decimals")
    return amount.quantize(Decimal("0.01"))
