"""The admin API: the utility's staff and systems feed Kabinet, move orders and appeals along, publish
outages, announce, and take back what consumers sent, without touching its database.

Every call needs `Authorization: Bearer KABINET_ADMIN_TOKEN` (compared in constant time); a token in the
query string is refused, since URLs end up in logs. With the token unset every /admin/ path answers 503.
Each change is logged at WARNING with who made it (the X-Operator header and the token's fingerprint);
account numbers in the log are masked. An address that fails authentication 10 times in a minute is answered
429 until the oldest of those failures is a minute old, even with the right token.
"""
from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import re
import shutil
import uuid
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from math import ceil
from pathlib import Path
from typing import Callable
from zoneinfo import ZoneInfo

from aiohttp import web
from pydantic import BaseModel, ValidationError

from bot import admin_import
from bot.admin_schema import (
    Appeal, AppealChangeBody, AppealChanged, AppealChat, AppealTurn, AppealsQuery, Broadcast, BroadcastBody, Error,
    Imported, LinkFailuresCleared, OnlinePayment, Order, OrderFile, PaperInvoice, PaperInvoicesQuery, PaymentsQuery,
    OrderChangeBody, OrderChanged, OrderEvent, OrdersQuery, Outage, OutageBody, OutageChangeBody, OutageSaved, Page,
    PageQuery, Problem, Reading, ReadingsQuery, ReplacedSubmission, Route, Stats, openapi,
)
from core import metrics
from core.notifications import Kind
from core.outages import plan_outage_notices
from core.readings import ReadingWindow
from core.invoice_files import PDF_MAGIC
from core.model import CONTRACT
from core.notifications import CONTRACT_NOTICE
from core.services import (
    AWAITING_CONFIRMATION, CONTRACT_STATUSES, OPERATOR, BadAmount, IllegalTransition, change_appeal_status,
    change_order_status,
)
from scheduler.jobs import Planner, plan_after_import
from storage import outbox, queries_admin, queries_payments
from storage.database import Database
from storage.exchange import ImportRefused, import_folder
from storage.exchange.export import paper_invoice_rows
from storage.mappers import turns_from_json
from storage.photos import FilePhotoArchive
from storage.queries_services import to_outage
from storage.repositories import SqlTransaction
from storage.scheduling import SqlOutbox, SqlOutboxTransaction

log = logging.getLogger(__name__)

JSON_LIMIT = 64 * 1024
MAX_CONTRACT_BYTES = 10 * 1024 * 1024
ORDER_FILES = "order-files"  # under the data directory: contracts, kept like photos (named by their content)
TOKEN_NAMES = re.compile(r"token|key|secret|auth|bearer|password", re.IGNORECASE)
AUTH_FAILURES_ALLOWED = 10  # a minute, per client address
AUTH_FAILURE_PERIOD = timedelta(minutes=1)
MAX_ADDRESSES = 10_000  # addresses remembered before those with no recent failure are forgotten


class AuthFailures:
    """Each client address's latest failed authentications in this process: guessing the token is slow."""

    def __init__(self) -> None:
        self.recent: dict[str, deque[datetime]] = {}
        self.pruned_at: datetime | None = None

    def retry_after(self, address: str, now: datetime) -> int | None:
        """Seconds until the address may try again, or None when it may now."""
        failures = self.recent.get(address)
        if failures is None or len(failures) < AUTH_FAILURES_ALLOWED:
            return None
        wait = (failures[0] + AUTH_FAILURE_PERIOD - now).total_seconds()
        return ceil(wait) if wait > 0 else None

    def record(self, address: str, now: datetime) -> None:
        full = address not in self.recent and len(self.recent) >= MAX_ADDRESSES
        # At most once a period: when every address is recent, pruning again at each new one finds nothing.
        if full and (self.pruned_at is None or now - self.pruned_at >= AUTH_FAILURE_PERIOD):
            self.recent = {a: f for a, f in self.recent.items() if f[-1] > now - AUTH_FAILURE_PERIOD}
            self.pruned_at = now
        self.recent.setdefault(address, deque(maxlen=AUTH_FAILURES_ALLOWED)).append(now)


@dataclass
class Admin:
    database: Database
    token: bytes | None
    data_dir: Path
    window: ReadingWindow
    timezone: ZoneInfo
    clock: Callable[[], datetime]
    auth_failures: AuthFailures = field(default_factory=AuthFailures)

    @property
    def planner(self) -> Planner:
        return Planner(SqlOutbox(self.database), self.window, self.timezone, self.clock)

    @property
    def fingerprint(self) -> str:
        return hashlib.sha256(self.token or b"").hexdigest()[:8]


ADMIN = web.AppKey("admin", Admin)


class Refusal(Exception):
    """An answer other than success, with what the operator needs to fix it."""

    def __init__(self, status: int, error: str, problems: list[dict] | None = None,
                 retry_after: int | None = None) -> None:
        super().__init__(error)
        self.status = status
        self.error = error
        self.problems = problems or []
        self.retry_after = retry_after

    def response(self) -> web.Response:
        answer = _error(self.status, self.error, self.problems)
        if self.retry_after is not None:
            answer.headers["Retry-After"] = str(self.retry_after)
        return answer


def mask(account: str) -> str:
    """An account number fit for a log: 010000012345 → 0100****2345."""
    if len(account) >= 10:
        return f"{account[:4]}****{account[-4:]}"
    return "*" * max(len(account) - 2, 0) + account[-2:]


def _json(answer: BaseModel, status: int) -> web.Response:
    return web.json_response(answer.model_dump(mode="json"), status=status, dumps=_readable)


def _readable(data) -> str:
    return json.dumps(data, ensure_ascii=False)


def _error(status: int, error: str, problems: list[dict] | None = None) -> web.Response:
    return _json(Error(error=error, problems=[Problem(**p) for p in problems or []]), status)


def _validation_problems(exc: ValidationError) -> list[dict]:
    problems = []
    for error in exc.errors(include_url=False):
        field = ".".join(str(part) for part in error["loc"]) or None
        reason = error["msg"].removeprefix("Value error, ")
        problems.append({"field": field, "reason": reason})
    return problems


def _refusal_from(exc: ValidationError, what: str) -> Refusal:
    problems = _validation_problems(exc)
    first = problems[0]
    named = f"{first['field']}: " if first["field"] else ""
    return Refusal(400, f"bad {what}: {named}{first['reason']}", problems)


# ----- the gate every admin request passes


def _authorise(admin: Admin, request: web.Request) -> str:
    """Who is calling, or Refusal(401), 429 after too many failures, or 503 when the API is off; nothing
    else happens before this."""
    if admin.token is None:
        raise Refusal(503, "the admin API is off: set KABINET_ADMIN_TOKEN")
    # The peer's address: behind a proxy, the proxy's (see README, "Security").
    address, now = request.remote or "-", admin.clock()
    wait = admin.auth_failures.retry_after(address, now)
    if wait is not None:
        metrics.count("admin_auth_failures", outcome="blocked")
        raise Refusal(429, f"too many failed authentications from {address}: try again in {wait} s",
                      retry_after=wait)
    try:
        _check_token(admin.token, request)
    except Refusal:
        admin.auth_failures.record(address, now)
        metrics.count("admin_auth_failures", outcome="refused")
        raise
    operator = request.headers.get("X-Operator", "")
    named = operator if re.fullmatch(r"[\w .@-]{1,64}", operator) else "-"
    return f"{named} (token {admin.fingerprint})"


def _check_token(token: bytes, request: web.Request) -> None:
    """Refusal(401) unless the token came as a bearer header, and only there."""
    for name, value in request.query.items():
        if TOKEN_NAMES.search(name) or hmac.compare_digest(value.encode(), token):
            raise Refusal(401, "a token in the query string is refused: send it as Authorization: Bearer TOKEN")
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), token):
        raise Refusal(401, "send Authorization: Bearer KABINET_ADMIN_TOKEN")


async def _json_body(request: web.Request, model: type[BaseModel]) -> BaseModel:
    raw = await _read_limited(request, JSON_LIMIT, "the body", empty=True)
    try:
        body = model.model_validate_json(raw or b"null")
    except ValidationError as exc:
        raise _refusal_from(exc, "body") from None
    for name, value in _strings(body.model_dump()):
        if "\x00" in value:  # PostgreSQL text cannot hold it
            raise Refusal(400, f"bad body: {name}: a NUL character", [{"field": name, "reason": "a NUL character"}])
    return body


async def _read_limited(request: web.Request, limit: int, what: str, *, empty: bool = False) -> bytes:
    """The request's body, refused (413) past `limit` bytes before more is read, and (400) empty unless `empty`."""
    if request.content_length is not None and request.content_length > limit:
        raise Refusal(413, f"{what} is larger than {limit} bytes")
    raw = bytearray()
    async for chunk in request.content.iter_chunked(16 * 1024):
        raw += chunk
        if len(raw) > limit:
            raise Refusal(413, f"{what} is larger than {limit} bytes")
    if not raw and not empty:
        raise Refusal(400, f"bad body: {what} is empty", [{"field": "(body)", "reason": "empty"}])
    return bytes(raw)


def _strings(value, path: str = ""):
    """(dotted field name, text) of every string in a parsed body."""
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, inner in value.items():
            yield from _strings(inner, f"{path}.{key}" if path else key)


def _query(request: web.Request, model: type[BaseModel]) -> BaseModel:
    repeated = sorted({name for name in request.query if len(request.query.getall(name)) > 1})
    if repeated:
        raise Refusal(400, f"bad query: {repeated[0]}: given more than once",
                      [{"field": name, "reason": "given more than once"} for name in repeated])
    try:
        return model.model_validate(dict(request.query))
    except ValidationError as exc:
        raise _refusal_from(exc, "query") from None


def _endpoint(route: Route):
    async def handle(request: web.Request) -> web.StreamResponse:
        admin = request.app[ADMIN]
        status, who = 500, "nobody"
        try:
            who = _authorise(admin, request)
            arguments: dict = {}
            for name, integer in route.path_parameters:
                value = request.match_info[name]
                if "\x00" in value:
                    raise Refusal(404, f"no such {name}")
                arguments[name] = int(value) if integer else value
            if route.query is not None:
                arguments["query"] = _query(request, route.query)
            elif request.query:
                name = next(iter(request.query))
                raise Refusal(400, f"bad query: {name}: this call takes no query parameters",
                              [{"field": name, "reason": "unknown parameter"}])
            if isinstance(route.body, type):
                arguments["body"] = await _json_body(request, route.body)
            answer = await route.handler(admin, request, who, **arguments)
            if isinstance(answer, BaseModel):
                answer = _json(answer, route.status)
            status = answer.status
            return answer
        except Refusal as refusal:
            status = refusal.status
            return refusal.response()
        except Exception:
            log.exception("admin %s failed", route.name)
            return _error(500, "an error of ours: it is logged, nothing was changed")
        finally:
            metrics.count("admin", route=route.name, status=str(status))
            log.info("admin %s %s: %s by %s", request.method, route.name, status, who)

    return handle


def _audit(who: str, what: str, *args) -> None:
    log.warning("admin by %s: " + what, who, *args)


# ----- payments made online


async def list_payments(admin: Admin, request, who: str, query: PaymentsQuery) -> Page[OnlinePayment]:
    # from the day's start where the utility is, as `kabinet export payments --since` counts it
    since = None if query.since is None else datetime.combine(query.since, time(0), admin.timezone)
    async with admin.database.session() as session:
        rows = await queries_payments.exported_page(session, since, query.cursor, query.limit)
    items = [OnlinePayment.model_validate({"id": id_, **row, "service_order": row["service_order"] or None})
             for id_, row in rows]
    return _page(OnlinePayment, items, rows[-1][0] if rows else None, query)


# ----- paper invoices


async def list_paper_invoices(admin: Admin, request, who: str, query: PaperInvoicesQuery) -> Page[PaperInvoice]:
    # from the day's start where the utility is, as `kabinet export paper-invoices --since` counts it
    since = None if query.since is None else datetime.combine(query.since, time(0), admin.timezone)
    async with admin.database.session() as session:
        rows = await SqlTransaction(session).paper_invoice_page(since, query.cursor, query.limit)
    items = [PaperInvoice.model_validate({"id": id_, **row})
             for (id_, _), row in zip(rows, paper_invoice_rows(choice for _, choice in rows))]
    return _page(PaperInvoice, items, rows[-1][0] if rows else None, query)


# ----- readings


async def list_readings(admin: Admin, request, who: str, query: ReadingsQuery) -> Page[Reading]:
    async with admin.database.session() as session:
        rows = await queries_admin.readings_page(session, query.since, query.cursor, query.limit)
        replaced = await queries_admin.replaced_of(session, [row[0].id for row in rows])
    items = [Reading(
        id=reading.id, account=number, eic=eic, meter=serial, zone=reading.zone, taken_on=reading.taken_on,
        value=reading.value, source=reading.source, submitted_at=reading.submitted_at,
        photo=f"/admin/readings/{reading.id}/photo" if has_photo else None,
        replaced=[ReplacedSubmission(
            value=earlier.value, submitted_at=earlier.submitted_at, replaced_at=earlier.replaced_at,
            photo=f"/admin/readings/{reading.id}/replaced/{earlier.id}/photo" if earlier_photo else None,
        ) for earlier, earlier_photo in replaced[reading.id]],
    ) for reading, serial, number, eic, has_photo in rows]
    return _page(Reading, items, rows[-1][0].id if rows else None, query)


def _page(model: type[BaseModel], items: list, last_id: int | None, query: PageQuery) -> Page:
    """A full page points on to the next; a short one is the last."""
    page = Page[model]  # type: ignore[valid-type]  # the page's model class, parametrised at run time
    return page(items=items, next_cursor=last_id if len(items) == query.limit else None)


async def reading_photo(admin: Admin, request, who: str, id: int) -> web.StreamResponse:
    async with admin.database.session() as session:
        path = await queries_admin.reading_photo(session, id)
    if path is None or not Path(path).is_file():
        raise Refusal(404, f"reading {id} has no photo")
    _audit(who, "took the photo of reading %d", id)
    return _photo_file(path)


async def replaced_reading_photo(admin: Admin, request, who: str, id: int, replaced: int) -> web.StreamResponse:
    async with admin.database.session() as session:
        path = await queries_admin.reading_photo(session, id, replaced)
    if path is None or not Path(path).is_file():
        raise Refusal(404, f"reading {id} replaced no submission {replaced} with a photo")
    _audit(who, "took the photo of submission %d replaced by reading %d", replaced, id)
    return _photo_file(path)


def _photo_file(path: str) -> web.FileResponse:
    return web.FileResponse(Path(path), headers={"Content-Disposition": f'attachment; filename="{Path(path).name}"'})


# ----- service orders


def _order(row, number: str, events=None, files=None) -> Order:
    return Order(
        id=row.id, account=number, service=row.service, phone=row.phone, comment=row.comment, status=row.status,
        amount=None if row.amount is None else f"{row.amount:.2f}", created_at=row.created_at,
        updated_at=row.updated_at,
        history=None if events is None else [OrderEvent(
            id=e.id, status=e.status, previous=e.previous, comment=e.comment, by=e.by, at=e.at) for e in events],
        files=None if files is None else [OrderFile(
            id=f.id, kind=f.kind, size=f.size, mime_type=f.mime_type, received_at=f.received_at,
            download=f"/admin/orders/{row.id}/files/{f.id}") for f in files],
    )


async def list_orders(admin: Admin, request, who: str, query: OrdersQuery) -> Page[Order]:
    async with admin.database.session() as session:
        rows = await queries_admin.orders_page(session, query.status, query.cursor, query.limit)
    return _page(Order, [_order(row, number) for row, number in rows], rows[-1][0].id if rows else None, query)


async def get_order(admin: Admin, request, who: str, id: int) -> Order:
    async with admin.database.session() as session:
        found = await _order_with_history(session, id)
    if found is None:
        raise Refusal(404, f"no service order {id}")
    return found


async def _order_with_history(session, order_id: int) -> Order | None:
    found = await queries_admin.order(session, order_id)
    if found is None:
        return None
    row, number = found
    files = await SqlOutboxTransaction(session).order_files(order_id)
    return _order(row, number, await queries_admin.order_events(session, order_id), files)


async def change_order(admin: Admin, request, who: str, id: int, body: OrderChangeBody) -> OrderChanged:
    now = admin.clock()
    amount = None if body.amount is None else Decimal(body.amount)
    async with admin.database.session() as session:
        try:
            change = await change_order_status(SqlOutboxTransaction(session), id, body.status, body.comment, now,
                                               OPERATOR, amount=amount)
        except IllegalTransition as exc:
            raise Refusal(409, f"{exc}: the workflow does not allow it") from None
        except BadAmount as exc:
            raise Refusal(400, f"bad body: amount: {exc}", [{"field": "amount", "reason": str(exc)}]) from None
        except LookupError:
            raise Refusal(404, f"no service order {id}") from None
        notices = [(change.chat_id, str(id), str(change.id))] if change.chat_id is not None else []
        notified = await outbox.plan_notices(session, Kind.ORDER, notices, now)
        order = await _order_with_history(session, id)
    assert order is not None  # changed just above, in this session
    _audit(who, "order %d of account %s: %s -> %s", id, mask(order.account), change.previous, change.status)
    return OrderChanged(order=order, notified=notified)


async def attach_contract(admin: Admin, request: web.Request, who: str, id: int) -> OrderChanged:
    """The contract or offer (a PDF) for the consumer to accept; told to them at once when the order already
    awaits confirmation, else with the change that brings it there."""
    content = await _read_limited(request, MAX_CONTRACT_BYTES, "the contract")
    if not content.startswith(PDF_MAGIC):
        raise Refusal(400, f"bad body: not a PDF (it does not start with {PDF_MAGIC.decode()})",
                      [{"field": "(body)", "reason": "not a PDF"}])
    now = admin.clock()
    async with admin.database.session() as session:
        tx = SqlOutboxTransaction(session)
        order = await tx.service_order(id)
        if order is None:
            raise Refusal(404, f"no service order {id}")
        if order.status not in CONTRACT_STATUSES:
            raise Refusal(409, f"order {id} is {order.status!r}: a contract is attached while it is "
                               f"{', '.join(CONTRACT_STATUSES)}")
        path, sha256 = await asyncio.to_thread(FilePhotoArchive(admin.data_dir / ORDER_FILES).save, content, now)
        attached = await tx.add_order_file(id, CONTRACT, path, sha256, len(content), "application/pdf", None, now)
        notices = []
        if order.status == AWAITING_CONFIRMATION and order.chat_id is not None:
            notices = [(order.chat_id, str(id), f"{CONTRACT_NOTICE}{attached.id}")]
        notified = await outbox.plan_notices(session, Kind.ORDER, notices, now)
        answer = await _order_with_history(session, id)
    assert answer is not None  # found just above, in this session
    _audit(who, "order %d of account %s: contract attached (%d bytes)", id, mask(answer.account), len(content))
    return OrderChanged(order=answer, notified=notified)


async def order_file(admin: Admin, request, who: str, id: int, file: int) -> web.StreamResponse:
    async with admin.database.session() as session:
        files = await SqlOutboxTransaction(session).order_files(id)
    found = next((f for f in files if f.id == file), None)
    if found is None or not Path(found.path).is_file():
        raise Refusal(404, f"order {id} has no file {file}")
    _audit(who, "took file %d (%s) of order %d", file, found.kind, id)
    name = f"order-{id}-{found.kind}-{file}{Path(found.path).suffix}"
    return web.FileResponse(Path(found.path), headers={
        "Content-Disposition": f'attachment; filename="{name}"', "Content-Type": found.mime_type})


# ----- appeals


def _appeal(row, number: str | None, channel: str | None) -> Appeal:
    turns = [AppealTurn(at=turn.at, update_id=turn.delivery, kind=turn.kind, said=turn.said, answered=turn.answered)
             for turn in turns_from_json(row.turns)]
    chat = AppealChat(channel=channel, id=row.chat_id) if number is None and channel is not None else None
    return Appeal(id=row.id, account=number, chat=chat, kind=row.kind, text=row.text, status=row.status,
                  answer=row.answer, created_at=row.created_at, updated_at=row.updated_at, turns=turns)


def _appeal_of(appeal: Appeal) -> str:
    """How the log names whose appeal it is: the account masked, or the chat of one without an account."""
    if appeal.account is not None:
        return f"of account {mask(appeal.account)}"
    return f"of {appeal.chat.channel} chat {appeal.chat.id}" if appeal.chat else "of no account"


async def list_appeals(admin: Admin, request, who: str, query: AppealsQuery) -> Page[Appeal]:
    async with admin.database.session() as session:
        rows = await queries_admin.appeals_page(session, query.status, query.cursor, query.limit)
    return _page(Appeal, [_appeal(*row) for row in rows], rows[-1][0].id if rows else None, query)


async def get_appeal(admin: Admin, request, who: str, id: int) -> Appeal:
    async with admin.database.session() as session:
        found = await queries_admin.appeal(session, id)
    if found is None:
        raise Refusal(404, f"no appeal {id}")
    return _appeal(*found)


async def change_appeal(admin: Admin, request, who: str, id: int, body: AppealChangeBody) -> AppealChanged:
    now = admin.clock()
    async with admin.database.session() as session:
        try:
            appeal = await change_appeal_status(SqlOutboxTransaction(session), id, body.status, body.answer, now)
        except IllegalTransition as exc:
            raise Refusal(409, f"{exc}: the workflow does not allow it") from None
        except LookupError:
            raise Refusal(404, f"no appeal {id}") from None
        except ValueError as exc:
            raise Refusal(400, f"bad body: answer: {exc}", [{"field": "answer", "reason": str(exc)}]) from None
        notices = [(appeal.chat_id, str(id), appeal.status)] if appeal.chat_id is not None else []
        notified = await outbox.plan_notices(session, Kind.APPEAL, notices, now)
        found = await queries_admin.appeal(session, id)
    assert found is not None  # changed just above, in this session
    changed = _appeal(*found)
    _audit(who, "appeal %d %s: -> %s", id, _appeal_of(changed), appeal.status)
    return AppealChanged(appeal=changed, notified=notified)


# ----- outages


def _outage(row) -> Outage:
    def utc(moment: datetime | None) -> datetime | None:
        return moment.astimezone(UTC) if moment is not None else None  # as read back, whatever was given

    return Outage(code=row.code, kind=row.kind, starts_at=row.starts_at.astimezone(UTC), ends_at=utc(row.ends_at),
                  reason=row.reason, settlement=row.settlement, street=row.street, houses=row.houses,
                  grid_nodes=row.grid_nodes)


async def list_outages(admin: Admin, request, who: str, query: PageQuery) -> Page[Outage]:
    async with admin.database.session() as session:
        rows = await queries_admin.outages_page(session, query.cursor, query.limit)
    return _page(Outage, [_outage(row) for row in rows], rows[-1].id if rows else None, query)


async def add_outage(admin: Admin, request, who: str, body: OutageBody) -> OutageSaved:
    now = admin.clock()
    async with admin.database.session() as session:
        if await queries_admin.outage_by_code(session, body.code) is not None:
            raise Refusal(409, f"outage {body.code} exists: change it with PATCH /admin/outages/{body.code}")
        row = await queries_admin.add_outage(session, body.model_dump())
        notified = await plan_outage_notices(SqlOutboxTransaction(session), to_outage(row), now)
    _audit(who, "outage %s published (%s), %d notice(s)", body.code, body.kind, notified)
    return OutageSaved(outage=_outage(row), notified=notified)


async def change_outage(admin: Admin, request, who: str, code: str, body: OutageChangeBody) -> OutageSaved:
    now = admin.clock()
    async with admin.database.session() as session:
        row = await queries_admin.outage_by_code(session, code, lock=True)
        if row is None:
            raise Refusal(404, f"no outage {code}")
        changes = body.model_dump(include=body.model_fields_set)
        if changes.get("ends_at") is not None and changes["ends_at"] < row.starts_at:
            raise Refusal(400, "bad body: ends_at: before the outage's start",
                          [{"field": "ends_at", "reason": "before the outage's start"}])
        for name, value in changes.items():
            setattr(row, name, value)
        await session.flush()
        notified = await plan_outage_notices(SqlOutboxTransaction(session), to_outage(row), now, changed=True)
    _audit(who, "outage %s changed (%s), %d notice(s)", code, ", ".join(sorted(changes)), notified)
    return OutageSaved(outage=_outage(row), notified=notified)


# ----- broadcast, import, stats


async def broadcast(admin: Admin, request, who: str, body: BroadcastBody) -> Broadcast:
    now = admin.clock()
    broadcast_id = f"{now:%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"
    async with admin.database.session() as session:
        settlements = grid_nodes = None
        if body.settlement is not None:
            settlements = await queries_admin.settlement_names(session, body.settlement)
            if not settlements:
                raise Refusal(404, f"no account is in the settlement {body.settlement!r}")
        if body.grid_node is not None:
            grid_nodes = await queries_admin.grid_node_names(session, body.grid_node)
            if not grid_nodes:
                raise Refusal(404, f"no account is on the grid node {body.grid_node!r}")
        planned = await outbox.plan_broadcast(session, broadcast_id, body.text.model_dump(exclude_none=True), now,
                                              settlements=settlements, grid_nodes=grid_nodes)
    audience = body.settlement or body.grid_node or "everyone"
    _audit(who, "broadcast %s to %s: %d chat(s)", broadcast_id, audience, planned)
    return Broadcast(broadcast=broadcast_id, planned=planned)


async def clear_link_failures(admin: Admin, request, who: str, account: str) -> LinkFailuresCleared:
    """Lift an account's lock after too many failed link attempts (the owner called the call centre)."""
    async with admin.database.session() as session:
        tx = SqlOutboxTransaction(session)
        found = [a for a in await tx.find_accounts([account]) if a.number == account]
        if not found:
            raise Refusal(404, f"no account {account}")
        cleared = await tx.clear_link_failures(found[0].id)
    _audit(who, "failed link attempts on account %s cleared: %d", mask(account), cleared)
    return LinkFailuresCleared(account=account, cleared=cleared)


async def import_zip(admin: Admin, request: web.Request, who: str) -> Imported:
    limit = admin_import.MAX_ZIP_BYTES
    if request.content_length is not None and request.content_length > limit:
        raise Refusal(413, f"the zip is larger than {limit} bytes")
    now = admin.clock()
    uploads = admin.data_dir / "imports"
    uploads.mkdir(parents=True, exist_ok=True)
    upload = uploads / f".upload-{uuid.uuid4().hex}.zip"
    try:
        size = 0
        with open(upload, "wb") as sink:
            async for chunk in request.content.iter_chunked(256 * 1024):
                size += len(chunk)
                if size > limit:
                    raise Refusal(413, f"the zip is larger than {limit} bytes")
                sink.write(chunk)
        into = admin_import.import_folder_for(admin.data_dir, now)
        try:
            folder = await asyncio.to_thread(admin_import.unpack, upload, into)
        except admin_import.BadZip as exc:
            raise Refusal(400, f"nothing imported: {exc}", [{"file": "(zip)", "reason": str(exc)}]) from None
    finally:
        upload.unlink(missing_ok=True)
    try:
        async with admin.database.session() as session:
            report = await import_folder(session, folder, timezone=admin.timezone, now=now)
            notified = await plan_after_import(admin.planner, SqlOutboxTransaction(session))
    except ImportRefused as refusal:
        shutil.rmtree(into, ignore_errors=True)
        problems = admin_import.problems_json(refusal.problems, folder)
        raise Refusal(400, f"nothing imported: {len(problems)} problem(s)", problems) from None
    except BaseException:
        shutil.rmtree(into, ignore_errors=True)
        raise
    await asyncio.to_thread(admin_import.keep_attachments_only, into, folder)
    _audit(who, "import %s: %s, %d notice(s)", into.name,
           ", ".join(f"{name} {count}" for name, count in report.rows.items() if count), notified)
    return Imported(rows=report.rows, new_invoices=len(report.new_invoices), outages=len(report.outages),
                    notified=notified)


async def stats(admin: Admin, request, who: str) -> Stats:
    now = admin.clock()
    today = now.astimezone(admin.timezone).date()
    opening = _window_opening(admin.window, today)

    def start_of(day) -> datetime:
        return datetime.combine(day, time(0), admin.timezone).astimezone(UTC)

    async with admin.database.session() as session:
        counts = await queries_admin.stats(session, start_of(today), start_of(opening) if opening else None)
    return Stats(**counts)


def _window_opening(window: ReadingWindow, today):
    """The day the open reading window opened (always open: the 1st of the month); None when closed."""
    if window.always:
        return today.replace(day=1)
    if not window.is_open(today):
        return None
    opening = today
    while window.is_open(opening - timedelta(days=1)):
        opening -= timedelta(days=1)
    return opening


ROUTES = [
    Route("POST", "/admin/import", "import", "Import a zip of billing exchange files (format v1)", import_zip,
          body="application/zip", answer=Imported, refusals=(413,)),
    Route("GET", "/admin/readings", "list-readings", "Readings consumers submitted, oldest first", list_readings,
          query=ReadingsQuery, answer=Page[Reading]),
    Route("GET", r"/admin/readings/{id:\d{1,18}}/photo", "reading-photo", "The photo a reading came with",
          reading_photo, binary="image/*", refusals=(404,)),
    Route("GET", r"/admin/readings/{id:\d{1,18}}/replaced/{replaced:\d{1,18}}/photo", "replaced-reading-photo",
          "The photo of a submission the reading replaced", replaced_reading_photo, binary="image/*",
          refusals=(404,)),
    Route("GET", "/admin/orders", "list-orders", "Service orders, oldest first", list_orders, query=OrdersQuery,
          answer=Page[Order]),
    Route("GET", r"/admin/orders/{id:\d{1,18}}", "get-order", "One service order with its history", get_order,
          answer=Order, refusals=(404,)),
    Route("PATCH", r"/admin/orders/{id:\d{1,18}}", "change-order", "Move an order along its workflow",
          change_order, body=OrderChangeBody, answer=OrderChanged, refusals=(404, 409, 413)),
    Route("PUT", r"/admin/orders/{id:\d{1,18}}/contract", "attach-contract",
          "Attach the contract or offer (a PDF, at most 10 MB) for the consumer to accept or decline",
          attach_contract, body="application/pdf", answer=OrderChanged, refusals=(404, 409, 413)),
    Route("GET", r"/admin/orders/{id:\d{1,18}}/files/{file:\d{1,18}}", "order-file",
          "A file of an order: its contract, or one the consumer sent from the chat", order_file,
          binary="application/octet-stream", refusals=(404,)),
    Route("GET", "/admin/appeals", "list-appeals", "Appeals, oldest first", list_appeals, query=AppealsQuery,
          answer=Page[Appeal]),
    Route("GET", r"/admin/appeals/{id:\d{1,18}}", "get-appeal", "One appeal", get_appeal, answer=Appeal,
          refusals=(404,)),
    Route("PATCH", r"/admin/appeals/{id:\d{1,18}}", "change-appeal", "Answer an appeal or move it along",
          change_appeal, body=AppealChangeBody, answer=AppealChanged, refusals=(404, 409, 413)),
    Route("GET", "/admin/outages", "list-outages", "Outages, oldest first", list_outages, query=PageQuery,
          answer=Page[Outage]),
    Route("POST", "/admin/outages", "add-outage", "Publish an outage and tell the consumers it touches",
          add_outage, body=OutageBody, answer=OutageSaved, status=201, refusals=(409, 413)),
    Route("PATCH", "/admin/outages/{code}", "change-outage", "Change an outage's end or reason",
          change_outage, body=OutageChangeBody, answer=OutageSaved, refusals=(404, 413)),
    Route("POST", "/admin/broadcast", "broadcast", "A message to everyone, a settlement or a grid node",
          broadcast, body=BroadcastBody, answer=Broadcast, status=201, refusals=(404, 413)),
    Route("DELETE", "/admin/accounts/{account}/link-failures", "clear-link-failures",
          "Let an account be linked again after too many failed attempts", clear_link_failures,
          answer=LinkFailuresCleared, refusals=(404,)),
    Route("GET", "/admin/payments", "list-payments",
          "Payments made online (paid or reversed), as `kabinet export payments` lists them, by id",
          list_payments, query=PaymentsQuery, answer=Page[OnlinePayment]),
    Route("GET", "/admin/paper-invoices", "list-paper-invoices",
          "Paper invoice choices (yes: still posted), as `kabinet export paper-invoices` lists them, by account id",
          list_paper_invoices, query=PaperInvoicesQuery, answer=Page[PaperInvoice]),
    Route("GET", "/admin/stats", "stats", "Counts of accounts, chats, readings, orders, appeals, outbox",
          stats, answer=Stats),
]


def document() -> dict:
    return openapi(ROUTES)


async def openapi_json(request: web.Request) -> web.Response:
    return web.json_response(request.app[OPENAPI])


OPENAPI = web.AppKey("admin-openapi", dict)


async def no_such_route(request: web.Request) -> web.Response:
    """Anything else under /admin/: 401 before anything is said about it, then 405 or 404."""
    admin = request.app[ADMIN]
    status = 404
    try:
        _authorise(admin, request)
        allowed = sorted({r.method for r in ROUTES if re.fullmatch(r.regex, request.path)})
        if allowed:
            status = 405
            response = _error(405, f"{request.method} is not allowed here: {', '.join(allowed)}")
            response.headers["Allow"] = ", ".join(allowed)
            return response
        return _error(404, f"no admin call {request.method} {request.path}: see /admin/openapi.json")
    except Refusal as refusal:
        status = refusal.status
        return refusal.response()
    finally:
        metrics.count("admin", route="unknown", status=str(status))


def mount(app: web.Application, settings, database: Database, clock: Callable[[], datetime]) -> None:
    """Add /admin/... to the web app; with KABINET_ADMIN_TOKEN unset every admin path answers 503."""
    token = settings.admin_token.get_secret_value().encode() if settings.admin_token is not None else None
    app[ADMIN] = Admin(database, token or None, Path(settings.data_dir), settings.window, settings.zone, clock)
    app[OPENAPI] = document()
    app.router.add_get("/admin/openapi.json", openapi_json)
    for route in ROUTES:
        app.router.add_route(route.method, route.path, _endpoint(route))
    app.router.add_route("*", "/admin/{tail:.*}", no_such_route)
