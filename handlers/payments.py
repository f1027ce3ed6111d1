"""POST /payments/liqpay: LiqPay's server-to-server callback, signed with the shop's private key.

A forged callback (403) and a malformed one (400) change nothing; a replayed one finds its order already in
that state and changes nothing either (200, so LiqPay stops sending it). A payment is recorded and its notice
queued in one transaction: both or neither.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from urllib.parse import parse_qs

from aiohttp import web

from core.liqpay import BadCallback, Callback, ForgedCallback, LiqPay, Outcome
from handlers.webhook import read_body
from storage import queries_payments as payments
from storage.database import Database

log = logging.getLogger(__name__)

PATH = "/payments/liqpay"
# LiqPay's callback is two form fields: a base64 JSON of some thirty fields and a 28-character signature.
BODY_LIMIT = 64 * 1024
FIELDS = ("data", "signature")


class LiqPayCallback:
    """What the route needs: the shop's keys, the database and the clock."""

    def __init__(self, liqpay: LiqPay, database: Database, clock: Callable[[], datetime]) -> None:
        self.liqpay = liqpay
        self.database = database
        self.clock = clock

    async def record(self, callback: Callback) -> web.Response:
        """The callback's outcome on its order, once."""
        now = self.clock()
        async with self.database.session() as session:
            payment = await payments.online_payment(session, callback.order_id)
            if payment is None:
                log.error("liqpay callback for unknown order %s (status %s, payment %s, %s UAH)",
                          callback.order_id, callback.status, callback.payment_id, callback.amount)
                return web.Response(status=404, text="unknown order_id")
            if callback.outcome is Outcome.PAID:
                if await payments.record_paid(session, callback.order_id, callback.payment_id, callback.amount,
                                              callback.status, now):
                    if callback.amount != payment.amount:
                        log.warning("liqpay order %s: %s UAH paid, %s asked", callback.order_id, callback.amount,
                                    payment.amount)
                    paid = await payments.online_payment(session, callback.order_id)
                    assert paid is not None  # recorded just above, in this transaction
                    await payments.queue_paid_notice(session, paid, now)
                    log.info("liqpay order %s paid: %s UAH, payment %s", callback.order_id, callback.amount,
                             callback.payment_id)
            elif callback.outcome is Outcome.FAILED:
                if await payments.record_failed(session, callback.order_id, callback.status, callback.error):
                    log.info("liqpay order %s failed: %s %s", callback.order_id, callback.status, callback.error or "")
            elif callback.outcome is Outcome.REVERSED:
                if await payments.record_reversed(session, callback.order_id, callback.status):
                    log.warning("liqpay order %s reversed: payment %s", callback.order_id, callback.payment_id)
        return web.Response(text="ok")


PAYMENTS = web.AppKey("liqpay_callback", LiqPayCallback)


async def liqpay_callback(request: web.Request) -> web.Response:
    route = request.app[PAYMENTS]
    form = form_fields(await read_body(request, BODY_LIMIT))
    if isinstance(form, str):
        return web.Response(status=400, text=form)
    try:
        callback = route.liqpay.verified(form.get("data"), form.get("signature"))
    except ForgedCallback as exc:
        log.warning("liqpay callback refused from %s: %s", request.remote or "-", exc)
        return web.Response(status=403, text=str(exc))
    except BadCallback as exc:
        log.warning("liqpay callback refused from %s: %s", request.remote or "-", exc)
        return web.Response(status=400, text=str(exc))
    return await route.record(callback)


def form_fields(body: bytes) -> dict[str, str] | str:
    """The callback's form fields, or why the body is not that form."""
    try:
        text = body.decode("ascii")  # base64 and a urlencoded form are ASCII
    except UnicodeDecodeError:
        return "the body is not a urlencoded form"
    try:
        parsed = parse_qs(text, keep_blank_values=True, max_num_fields=20)
    except ValueError:
        return "the body has too many fields"
    for name in FIELDS:
        if len(parsed.get(name, ())) > 1:
            return f"the {name} field is given twice"
    return {name: values[0] for name, values in parsed.items() if name in FIELDS}


def mount(app: web.Application, liqpay: LiqPay, database: Database, clock: Callable[[], datetime]) -> None:
    """Add POST /payments/liqpay to the web app (bot/server.py does, when both LiqPay keys are set)."""
    app[PAYMENTS] = LiqPayCallback(liqpay, database, clock)
    app.router.add_post(PATH, liqpay_callback)
