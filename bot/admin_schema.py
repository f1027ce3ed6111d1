"""The admin API's shapes: request bodies and queries it validates, answers it gives, and the route table
that both the web app and its OpenAPI document are built from, so the two cannot drift apart."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Awaitable, Callable, Generic, Literal, TypeVar

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from core.services import APPEAL_STATUSES, APPEAL_TEXT_LIMIT, COMMENT_LIMIT, ORDER_STATUSES
from storage.exchange import BadValue, houses

PAGE_LIMIT = 500
BIGINT = 2**63 - 1
TEXT_LIMIT = 4096  # Telegram's longest message


class Body(BaseModel):
    """A JSON body: no unknown fields, no type coercion ("5" is not 5)."""

    model_config = ConfigDict(extra="forbid", strict=True)


class Query(BaseModel):
    """Query parameters arrive as text, so they are converted; unknown ones are refused."""

    model_config = ConfigDict(extra="forbid")


# ----- queries


class PageQuery(Query):
    limit: int = Field(100, ge=1, le=PAGE_LIMIT, description=f"items per page, at most {PAGE_LIMIT}")
    cursor: int | None = Field(None, ge=0, le=BIGINT, description="`next_cursor` of the previous page")


class ReadingsQuery(PageQuery):
    since: date | None = Field(None, description="only readings taken on or after this date (YYYY-MM-DD)")


class OrdersQuery(PageQuery):
    status: Literal[ORDER_STATUSES] | None = None  # type: ignore[valid-type]  # pydantic: the tuple's members


class AppealsQuery(PageQuery):
    status: Literal[APPEAL_STATUSES] | None = None  # type: ignore[valid-type]  # pydantic: the tuple's members


class PaymentsQuery(PageQuery):
    since: date | None = Field(None, description="only payments paid on or after this day, in the utility's time zone")


class PaperInvoicesQuery(PageQuery):
    since: date | None = Field(None, description="only choices made on or after this day, in the utility's time zone")


# ----- bodies


class OrderChangeBody(Body):
    status: Literal[ORDER_STATUSES]  # type: ignore[valid-type]  # pydantic: the tuple's members
    comment: str | None = Field(None, max_length=COMMENT_LIMIT, description="shown to the consumer")
    amount: str | None = Field(
        None, pattern=r"^[0-9]{1,10}(\.[0-9]{1,2})?$",
        description="UAH as text, e.g. `350.00`: what the paid service costs this order (its contract and payment "
                    "need it when the catalogue gives no price); a free service has none")


class AppealChangeBody(Body):
    status: Literal[APPEAL_STATUSES]  # type: ignore[valid-type]  # pydantic: the tuple's members
    answer: str | None = Field(None, max_length=APPEAL_TEXT_LIMIT, description="needed for `answered`")


def _house_list(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return houses(value)
    except BadValue as exc:
        raise ValueError(str(exc)) from None


class OutageBody(Body):
    code: str = Field(min_length=1, max_length=50, pattern=r"^\S+$", description="the utility's id of the outage")
    kind: Literal["planned", "emergency"]
    starts_at: AwareDatetime
    ends_at: AwareDatetime | None = Field(None, description="expected end; null when not known")
    reason: str = Field(min_length=1, max_length=2000)
    settlement: str | None = Field(None, min_length=1, max_length=100)
    street: str | None = Field(None, min_length=1, max_length=200)
    houses: str | None = Field(None, max_length=2000, description="house numbers and ranges: `1-15;17;19А`")
    grid_nodes: str | None = Field(None, min_length=1, max_length=2000, description="`TP-101;TP-102`")

    _houses = field_validator("houses")(_house_list)

    @model_validator(mode="after")
    def _place_and_times(self) -> "OutageBody":
        if not (self.settlement or self.street or self.grid_nodes):
            raise ValueError("name a settlement, a street or grid_nodes: an outage with no place reaches nobody")
        if self.ends_at is not None and self.ends_at < self.starts_at:
            raise ValueError("ends_at is before starts_at")
        return self


class OutageChangeBody(Body):
    ends_at: AwareDatetime | None = Field(None, description="the end (past: the outage is over); null: not known")
    reason: str | None = Field(None, min_length=1, max_length=2000)

    @model_validator(mode="after")
    def _something(self) -> "OutageChangeBody":
        if not self.model_fields_set:
            raise ValueError("give ends_at, reason or both")
        if "reason" in self.model_fields_set and self.reason is None:
            raise ValueError("reason cannot be null")
        return self


class Texts(Body):
    uk: str = Field(min_length=1, max_length=TEXT_LIMIT)
    en: str | None = Field(None, min_length=1, max_length=TEXT_LIMIT)
    ru: str | None = Field(None, min_length=1, max_length=TEXT_LIMIT)


class BroadcastBody(Body):
    text: Texts = Field(description="the message by language; a chat in a language not given reads Ukrainian")
    settlement: str | None = Field(None, min_length=1, max_length=100)
    grid_node: str | None = Field(None, min_length=1, max_length=50)

    @model_validator(mode="after")
    def _one_audience(self) -> "BroadcastBody":
        if self.settlement is not None and self.grid_node is not None:
            raise ValueError("give a settlement or a grid_node, not both (neither: everyone)")
        return self


# ----- answers

Item = TypeVar("Item")


class Page(BaseModel, Generic[Item]):
    items: list[Item]
    next_cursor: int | None = Field(description="pass as `cursor` for the next page; null on the last page")


class ReplacedSubmission(BaseModel):
    value: int
    submitted_at: datetime | None
    replaced_at: datetime = Field(description="when the later submission took its place")
    photo: str | None = Field(description="path of its photo under this API, null when none")


class Reading(BaseModel):
    id: int
    account: str
    eic: str | None
    meter: str
    zone: int
    taken_on: date
    value: int
    source: str
    submitted_at: datetime | None
    photo: str | None = Field(description="path of the photo under this API, null when none")
    replaced: list[ReplacedSubmission] = Field(
        description="earlier submissions of the same meter, zone, day and channel that this one replaced, oldest first")


class OnlinePayment(BaseModel):
    """A payment made on a payment provider's page: a row of `kabinet export payments`."""

    id: int
    order_id: str = Field(description="our order id, also LiqPay's order_id")
    payment_id: str = Field(description="the provider's id of the payment")
    account: str
    amount: str = Field(description="UAH, two decimals, as text (exact)")
    currency: str
    paid_at: datetime
    status: Literal["paid", "reversed"] = Field(description="reversed: the provider returned the money")
    service_order: int | None = Field(None, description="the service order it paid; null: paid for the electricity")


class PaperInvoice(BaseModel):
    """Whether the utility still posts a paper invoice for an account, as a consumer last chose it in /settings:
    a row of `kabinet export paper-invoices`."""

    id: int = Field(description="the account's id here: the order of the pages")
    account: str
    paper_invoice: Literal["yes", "no"] = Field(description="no: the consumer takes the invoice by e-mail and chat only")
    chosen_at: datetime


class OrderEvent(BaseModel):
    id: int
    status: str
    previous: str | None
    comment: str | None
    by: str
    at: datetime


class OrderFile(BaseModel):
    id: int
    kind: Literal["contract", "consumer"] = Field(
        description="contract: the contract or offer attached by the operator; consumer: sent from the chat")
    size: int
    mime_type: str
    received_at: datetime
    download: str = Field(description="path of the file under this API")


class Order(BaseModel):
    id: int
    account: str
    service: str
    phone: str
    comment: str | None
    status: str
    amount: str | None = Field(description="UAH, what the paid service costs this order, when the operator named it")
    created_at: datetime
    updated_at: datetime
    history: list[OrderEvent] | None = Field(None, description="with one order only")
    files: list[OrderFile] | None = Field(None, description="with one order only: its contracts and the consumer's "
                                                               "files, oldest first")


class OrderChanged(BaseModel):
    order: Order
    notified: int = Field(description="chats the change was planned to")


class AppealTurn(BaseModel):
    """One turn of the consumer's chat before a technical-support appeal: what came in, what the bot answered."""

    at: datetime
    update_id: str | None = Field(description="the messenger's id of the incoming update (Telegram's update_id, "
                                              "Viber's message_token); null in the console")
    kind: str = Field(description="text, button, photo, contact or other")
    said: str = Field(description="what the consumer typed, or `[button] ACTION`, `[photo]`, `[contact]`; a secret "
                                  "(the owner's surname typed while linking, a mailed code) as `[hidden]`")
    answered: str = Field(description="the bot's replies: their texts, `[label]` of their buttons, "
                                      "`[image NAME]`, `[document NAME]`")


class AppealChat(BaseModel):
    """The chat an appeal without an account came from: its messenger and Kabinet's number for it (not the
    messenger's id of the person)."""

    channel: str = Field(description="telegram, viber or console")
    id: int = Field(description="Kabinet's number of the chat: the same in every appeal the chat writes")


class Appeal(BaseModel):
    id: int
    account: str | None = Field(description="the account it concerns; null: a `bot` appeal from a chat with no "
                                            "account linked (see `chat`)")
    chat: AppealChat | None = Field(description="with no account: the chat it came from, answered there as any "
                                                "appeal; otherwise null")
    kind: str = Field(description="invoice, no-power, meter, other, or bot: the bot does not work as expected")
    text: str
    status: str
    answer: str | None
    created_at: datetime
    updated_at: datetime
    turns: list[AppealTurn] = Field(description="with a `bot` appeal: the chat's last turns (at most 20, of the week "
                                                "before it was written) oldest first; otherwise empty")


class AppealChanged(BaseModel):
    appeal: Appeal
    notified: int


class Outage(BaseModel):
    code: str
    kind: str
    starts_at: datetime
    ends_at: datetime | None
    reason: str
    settlement: str | None
    street: str | None
    houses: str | None
    grid_nodes: str | None


class OutageSaved(BaseModel):
    outage: Outage
    notified: int


class Broadcast(BaseModel):
    broadcast: str = Field(description="the broadcast's id (the outbox rows' subject)")
    planned: int


class LinkFailuresCleared(BaseModel):
    account: str
    cleared: int = Field(description="failed link attempts on the account that no longer count")


class Imported(BaseModel):
    rows: dict[str, int] = Field(description="rows read per file")
    new_invoices: int
    outages: int
    notified: int = Field(description="notices planned: new invoices and current outages")


class ReadingCounts(BaseModel):
    today: int = Field(description="submitted since local midnight")
    window: int | None = Field(description="submitted since the open reading window opened; null when closed")


class Stats(BaseModel):
    accounts: int
    linked_chats: dict[str, int] = Field(description="active chats with a linked account, by channel")
    readings: ReadingCounts
    orders: dict[str, int]
    appeals: dict[str, int]
    outbox: dict[str, int]
    planning: dict[str, int] = Field(description="daily reminder plans still being expanded into the outbox as it is "
                                                 "sent, by kind: their chats not yet reached are in no outbox count")


class Problem(BaseModel):
    field: str | None = None
    file: str | None = None
    line: int | None = None
    reason: str


class Error(BaseModel):
    error: str
    problems: list[Problem] = []


# ----- the route table

Handler = Callable[..., Awaitable[Any]]


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # aiohttp's form: {id:\d{1,18}} is an integer path parameter
    name: str
    summary: str
    handler: Handler
    query: type[Query] | None = None
    body: type[Body] | str | None = None  # a model, or a media type read raw (the import's zip)
    answer: Any = None
    status: int = 200
    refusals: tuple[int, ...] = ()
    binary: str | None = None  # the media type of a file answer
    extra: dict = field(default_factory=dict)

    @property
    def template(self) -> str:
        """The OpenAPI path: {id:\\d{1,18}} becomes {id}."""
        return "".join(f"{{{part[0]}}}" if isinstance(part, tuple) else part for part in path_parts(self.path))

    @property
    def path_parameters(self) -> list[tuple[str, bool]]:
        """(name, is integer) of each path parameter."""
        return [(part[0], part[1] is not None) for part in path_parts(self.path) if isinstance(part, tuple)]

    @property
    def regex(self) -> str:
        """A regular expression the request paths of this route match."""
        return "".join(f"(?:{part[1] or '[^/]+'})" if isinstance(part, tuple) else re.escape(part)
                       for part in path_parts(self.path))


def path_parts(path: str) -> list:
    """Literal text and (name, pattern or None) for each {name} or {name:pattern}; patterns may hold braces."""
    parts: list = []
    index = 0
    while (start := path.find("{", index)) != -1:
        parts.append(path[index:start])
        depth, end = 0, start
        for end in range(start, len(path)):
            depth += {"{": 1, "}": -1}.get(path[end], 0)
            if depth == 0:
                break
        name, colon, pattern = path[start + 1:end].partition(":")
        parts.append((name, pattern if colon else None))
        index = end + 1
    parts.append(path[index:])
    return [part for part in parts if part != ""]


REASONS = {
    200: "done", 201: "created", 400: "a bad request: the problem names the field", 401: "no or a wrong bearer token",
    404: "no such thing", 409: "a change the rules refuse", 413: "the body is too large",
    429: "this address failed authentication 10 times in a minute: wait Retry-After seconds",
    503: "the admin API is off (KABINET_ADMIN_TOKEN unset)",
}


def openapi(routes: list[Route], title: str = "Kabinet admin API", version: str = "1") -> dict:
    """The OpenAPI 3.1 document of exactly these routes."""
    models: list[tuple[type[BaseModel], JsonSchemaMode]] = [(Error, "serialization")]
    for route in routes:
        if isinstance(route.body, type):
            models.append((route.body, "validation"))
        if route.answer is not None:
            models.append((route.answer, "serialization"))
    keys, definitions = models_json_schema(models, ref_template="#/components/schemas/{model}")
    schemas = dict(definitions.get("$defs", {}))

    def ref(model: type[BaseModel], mode: JsonSchemaMode) -> dict:
        return keys[(model, mode)]

    error = {"application/json": {"schema": ref(Error, "serialization")}}
    paths: dict[str, dict] = {}
    for route in routes:
        operation: dict[str, Any] = {"operationId": route.name, "summary": route.summary, "parameters": []}
        for name, integer in route.path_parameters:
            schema = {"type": "integer", "minimum": 0, "maximum": BIGINT} if integer else {"type": "string",
                                                                                          "maxLength": 50}
            operation["parameters"].append({"name": name, "in": "path", "required": True, "schema": schema})
        if route.query is not None:
            query_schema = route.query.model_json_schema(ref_template="#/components/schemas/{model}")
            schemas.update(query_schema.pop("$defs", {}))
            for name, schema in query_schema["properties"].items():
                schema = _not_null(schema)
                operation["parameters"].append({
                    "name": name, "in": "query", "required": name in query_schema.get("required", []),
                    "schema": schema, **({"description": schema["description"]} if "description" in schema else {}),
                })
        if isinstance(route.body, type):
            operation["requestBody"] = {"required": True, "content": {
                "application/json": {"schema": ref(route.body, "validation")}}}
        elif isinstance(route.body, str):
            operation["requestBody"] = {"required": True, "content": {
                route.body: {"schema": {"type": "string", "contentMediaType": route.body}}}}
        if route.binary:
            success = {"description": REASONS[route.status], "content": {
                route.binary: {"schema": {"type": "string", "contentMediaType": route.binary}}}}
        else:
            success = {"description": REASONS[route.status],
                       "content": {"application/json": {"schema": ref(route.answer, "serialization")}}}
        operation["responses"] = {str(route.status): success}
        for status in sorted({400, 401, 429, 503, *route.refusals}):
            operation["responses"][str(status)] = {"description": REASONS[status], "content": error}
        operation["responses"]["429"]["headers"] = {
            "Retry-After": {"description": "seconds to wait", "schema": {"type": "integer", "minimum": 1}}}
        if not operation["parameters"]:
            del operation["parameters"]
        operation.update(route.extra)
        paths.setdefault(route.template, {})[route.method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": version,
                 "description": "The utility's side of Kabinet. Every call needs `Authorization: Bearer "
                                "KABINET_ADMIN_TOKEN`. Lists are pages: `limit` (at most 500) and `cursor`."},
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"bearer": []}],
    }


def _not_null(schema: dict) -> dict:
    """A query parameter is absent or has a value: `anyOf [X, null]` is just X there."""
    options = [option for option in schema.get("anyOf", []) if option != {"type": "null"}]
    if len(options) != 1:
        return schema
    plain = {key: value for key, value in schema.items() if key not in ("anyOf", "default")}
    return {**options[0], **plain}
