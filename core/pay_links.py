"""Our short signed link behind a "Pay by card" button, without I/O.

A button carries a link to GET /payments/liqpay/pay with the account, the amount, the page's language, the day
the link expires and a fresh order id, signed with a key derived from the shop's LiqPay private key. Only a
link that is opened records an order (a /balance shown a thousand times records nothing), and it records the
one the link names: opened twice, it is the same order, and once paid it cannot be paid again by mistake.
Nobody can change the account or the amount of a link without the key.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from urllib.parse import urlencode

from core.liqpay import ORDER_PREFIX

LINK_LIFE = timedelta(days=7)  # a button in an old message stops working; /balance makes a new one
LANGUAGES = ("uk", "en", "ru")
_FIELDS = ("order", "account", "amount", "language", "expires")
_SERVICE_ORDER = "service_order"
_SIGNATURE_BYTES = 16  # 128 bits: as hard to guess as the order id


class BadPayLink(ValueError):
    """A link we did not make, or one cut short: the message names the problem."""


class ForgedPayLink(BadPayLink):
    """A link whose signature is not ours (an account or amount changed)."""


class ExpiredPayLink(BadPayLink):
    """A link of ours past its day; carries the language it was made in, to say so in it."""

    def __init__(self, language: str) -> None:
        super().__init__("the link has expired")
        self.language = language


@dataclass(frozen=True)
class PayOrder:
    """What a genuine link asks: pay `amount` UAH to `account_id` on the page in `language`, as order `order_id`."""

    order_id: str
    account_id: int
    amount: Decimal
    language: str
    service_order: int | None = None  # the order of a service it pays, not the electricity


@dataclass(frozen=True)
class PayLinks:
    """Links to `url` (the public address of GET /payments/liqpay/pay), signed with `key`."""

    url: str
    key: bytes = field(repr=False)

    @classmethod
    def for_shop(cls, url: str, private_key: str) -> PayLinks:
        """Links keyed by the shop's LiqPay private key (a key of their own, derived: a link's signature says
        nothing of LiqPay's)."""
        return cls(url, hmac.new(private_key.encode(), b"kabinet pay link", hashlib.sha256).digest())

    def link(self, account_id: int, amount: Decimal, language: str, now: datetime,
             service_order: int | None = None) -> str:
        """A new link (a new order id each time) to pay `amount` to the account; with `service_order`, for that
        order of a service."""
        fields = {
            "order": secrets.token_hex(16), "account": str(account_id), "amount": f"{amount:.2f}",
            "language": language if language in LANGUAGES else LANGUAGES[0],
            "expires": str(int((now + LINK_LIFE).timestamp())),
        }
        if service_order is not None:
            fields[_SERVICE_ORDER] = str(service_order)
        return f"{self.url}?{urlencode({**fields, 'signature': self._signature(fields)})}"

    def opened(self, query: Mapping[str, str], now: datetime) -> PayOrder:
        """The order a link's query asks for; BadPayLink (ForgedPayLink, ExpiredPayLink) when it is not ours or
        not any more."""
        fields = {}
        for name in (*_FIELDS, "signature"):
            value = query.get(name)
            if not value or len(value) > 64 or "\n" in value:  # the signed message is the fields by line
                raise BadPayLink(f"{name} is missing")
            fields[name] = value
        service_order = query.get(_SERVICE_ORDER)
        if service_order is not None:
            if not (service_order.isascii() and service_order.isdecimal()) or len(service_order) > 18:
                raise BadPayLink(f"{_SERVICE_ORDER} is not an order's number")
            fields[_SERVICE_ORDER] = service_order
        signature = fields.pop("signature")
        if not hmac.compare_digest(self._signature(fields).encode(), signature.encode("utf-8", "replace")):
            raise ForgedPayLink("the signature does not match")
        # Signed by us, so well formed; checked all the same, a key may leak.
        try:
            account_id, expires = int(fields["account"]), int(fields["expires"])
            amount = Decimal(fields["amount"])
        except (ValueError, InvalidOperation):
            raise BadPayLink("the link is malformed") from None
        language = fields["language"] if fields["language"] in LANGUAGES else LANGUAGES[0]
        if not amount.is_finite() or amount <= 0:
            raise BadPayLink("the amount is not a positive sum")
        if now.timestamp() >= expires:
            raise ExpiredPayLink(language)
        return PayOrder(ORDER_PREFIX + fields["order"], account_id, amount.quantize(Decimal("0.01")), language,
                        None if service_order is None else int(service_order))

    def _signature(self, fields: Mapping[str, str]) -> str:
        # A link for a service order signs its number too (a link without one signs what it always did).
        names = (*_FIELDS, _SERVICE_ORDER) if _SERVICE_ORDER in fields else _FIELDS
        message = "\n".join(fields[name] for name in names).encode()
        digest = hmac.new(self.key, message, hashlib.sha256).digest()[:_SIGNATURE_BYTES]
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")
