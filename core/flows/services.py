"""/service: order a service (service, account, phone, comment), follow my orders, cancel one before it is done."""
from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from typing import TYPE_CHECKING, Any

from core import i18n
from core.flows.accounts import linked, linked_or_ask
from core.flows.registry import Action, Command, Flow, Step
from core.i18n import LANGUAGES
from core.flows.balance import pay_buttons
from core.messages import Button, EventKind, Incoming, Reply
from core.notifications import confirmation_buttons
from core.model import CONSUMER_FILE, Account, Service, ServiceOrder
from core.services import (
    AWAITING_CONFIRMATION, AWAITING_PAYMENT, CANCELLED, COMMENT_LIMIT, CONSUMER, DONE, IllegalTransition, catalogue,
    change_order_status, contract_of, next_after_confirmation, normalise_phone, order_can_go, service_of,
)
from core.services import service_name as catalogue_name

if TYPE_CHECKING:
    from core.conversation import Turn

log = logging.getLogger(__name__)

ORDERS_SHOWN = 10


async def offered(turn: Turn) -> tuple[Service, ...]:
    """The services this utility offers now: its catalogue's (Kabinet.services narrows the choice)."""
    chosen = turn.app.services
    return tuple(service for service in await catalogue(turn.tx)
                 if service.offered and (chosen is None or service.code in chosen))


async def service_name(turn: Turn, code: str) -> str:
    """The service's name in the chat's language."""
    return name_of(turn, service_of(await catalogue(turn.tx), code))


def name_of(turn: Turn, service: Service, language: str | None = None) -> str:
    return catalogue_name(service, language or turn.language, turn.app.translator)


def status_name(turn: Turn, status: str) -> str:
    return turn.t(f"order-status-{status}")


def when(turn: Turn, at: datetime) -> str:
    return at.astimezone(turn.app.timezone).strftime("%d.%m.%Y %H:%M")


def shown_phone(turn: Turn, order: ServiceOrder) -> str:
    """The contact phone in full for the chat that placed the order; to another chat of the account (a family
    member, or someone who linked it) only its operator code and last two digits, e.g. 067***45."""
    return order.phone if placed_here(turn, order) else f"{order.phone[:3]}***{order.phone[-2:]}"


def placed_here(turn: Turn, order: ServiceOrder) -> bool:
    return order.chat_id == turn.chat.id


def typed_choice(turn: Turn, text: str, codes: tuple[str, ...], key_prefix: str) -> str | None:
    """A choice typed instead of pressed: its number in the list, its code, or its label in any language."""
    wanted = text.strip().casefold()
    if wanted.isdecimal() and 1 <= int(wanted) <= len(codes):
        return codes[int(wanted) - 1]
    for code in codes:
        labels = {code} | {turn.app.translator(language, f"{key_prefix}{code}").casefold() for language in LANGUAGES}
        if wanted in labels:
            return code
    return None


async def service_for_text(turn: Turn, text: str) -> str | None:
    """A service typed: its number in the list, its code, or its name in any language."""
    services = await offered(turn)
    wanted = text.strip().casefold()
    if wanted.isdecimal() and 1 <= int(wanted) <= len(services):
        return services[int(wanted) - 1].code
    for service in services:
        if wanted in {service.code} | {name_of(turn, service, language).casefold() for language in LANGUAGES}:
            return service.code
    return None


async def choose_service(turn: Turn, key: str = "service-choose") -> None:
    turn.go("service-choose")
    rows = [
        [turn.button("service-button", f"svc:{service.code}", name=name_of(turn, service),
                     price=("priced" if service.price is not None else "paid") if service.paid else "free",
                     amount=i18n.money(service.price) if service.price is not None else "")]
        for service in await offered(turn)
    ]
    rows.append([turn.button("orders-button", "orders:")])
    turn.say(key, buttons=rows)


async def cmd_service(turn: Turn, args: str) -> None:
    if not args:
        await choose_service(turn)
        return
    code = await service_for_text(turn, args)
    if code is None:
        await choose_service(turn, "service-unknown")
        return
    await order_next(turn, {"service": code})


async def order_service(turn: Turn, code: str) -> None:
    """A reminder's button that orders one service (the verification reminder's "Order a verification")."""
    await cmd_service(turn, code)


async def step_service_choose(turn: Turn, text: str | None, action: str | None) -> None:
    code = action.partition(":")[2] if action else await service_for_text(turn, text or "")
    if code not in {service.code for service in await offered(turn)}:
        await choose_service(turn, "service-unknown")
        return
    await order_next(turn, {"service": code})


async def order_next(turn: Turn, data: dict[str, Any]) -> None:
    """Ask for what the order still lacks: the account, the phone, the comment; then place it."""
    accounts = await linked_or_ask(turn)
    if not accounts:
        turn.go(None)
        return
    if not account_chosen(turn, accounts, data, step="service-account", action="svcacct", key="service-ask-account"):
        return
    if "phone" not in data:
        turn.go("service-phone", **data)
        turn.say("service-ask-phone", service=await service_name(turn, data["service"])).request_contact = True
        return
    if "comment" not in data:
        turn.go("service-comment", **data)
        turn.say("service-ask-comment", buttons=[[turn.button("service-skip-comment", "svcskip:")]],
                 limit=COMMENT_LIMIT)
        return
    account = chosen_account(turn, accounts, data)
    if account is None:
        return
    order = await turn.tx.add_service_order(
        account.id, turn.chat.id, data["service"], data["phone"], data["comment"] or None, turn.app.clock()
    )
    turn.go(None)
    turn.say("service-ordered", number=str(order.id), service=await service_name(turn, order.service),
             account=account.number, phone=order.phone, status=status_name(turn, order.status))
    service = service_of(await catalogue(turn.tx), order.service)
    if attachment_asked(turn, service):
        ask_for_files(turn, order.id, service)
        return
    turn.with_menu()


def state_data(turn: Turn) -> dict[str, Any]:
    return dict(turn.state.data) if turn.state else {}


def account_chosen(turn: Turn, accounts: list[Account], data: dict[str, Any], *, step: str, action: str, key: str) -> bool:
    """The account is known (or the only one, then noted in `data`); otherwise asked with a button each."""
    if "account_id" in data:
        return True
    if len(accounts) == 1:
        data["account_id"] = accounts[0].id
        return True
    turn.go(step, **data)
    rows = [[turn.button("service-account-button", f"{action}:{a.id}", account=a.number, address=a.address)]
            for a in accounts]
    turn.say(key, buttons=rows)
    return False


def chosen_account(turn: Turn, accounts: list[Account], data: dict[str, Any]) -> Account | None:
    """The account chosen earlier, unless it was unlinked since (then the flow ends as a stale button)."""
    account = next((a for a in accounts if a.id == data.get("account_id")), None)
    if account is None:
        turn.go(None)
        turn.say("button-stale")
        turn.with_menu()
    return account


async def note_account(turn: Turn, action: str | None, data: dict[str, Any]) -> dict[str, Any]:
    """A pressed account button noted in `data` when the account is linked to this chat."""
    value = action.partition(":")[2] if action else ""
    if value.isdecimal() and int(value) in {a.id for a in await turn.tx.linked_accounts(turn.chat.id)}:
        data["account_id"] = int(value)
    return data


async def step_service_account(turn: Turn, text: str | None, action: str | None) -> None:
    await order_next(turn, await note_account(turn, action, state_data(turn)))


async def step_service_phone(turn: Turn, text: str | None, action: str | None) -> None:
    data = state_data(turn)
    phone = normalise_phone(text or "")
    if phone is None:
        turn.say("service-phone-bad").request_contact = True
        return
    data["phone"] = phone
    await order_next(turn, data)


async def step_service_comment(turn: Turn, text: str | None, action: str | None) -> None:
    data = state_data(turn)
    if action:
        data["comment"] = ""
    elif text and len(text) > COMMENT_LIMIT:
        turn.say("service-comment-too-long", limit=COMMENT_LIMIT,
                 buttons=[[turn.button("service-skip-comment", "svcskip:")]])
        return
    else:
        data["comment"] = (text or "").strip()
    await order_next(turn, data)


# ----- my orders


async def chat_order(turn: Turn, value: str) -> tuple[ServiceOrder, Account] | None:
    """The order, when it belongs to an account linked to this chat; otherwise says there is no such order."""
    order = await turn.tx.service_order(int(value)) if value.isdecimal() else None
    account = None
    if order is not None:
        account = next((a for a in await turn.tx.linked_accounts(turn.chat.id) if a.id == order.account_id), None)
    if order is None or account is None:
        turn.say("order-unknown")
        turn.with_menu()
        return None
    return order, account


async def list_orders(turn: Turn, value: str) -> None:
    orders = await turn.tx.service_orders([a.id for a in turn.accounts], limit=ORDERS_SHOWN)
    if not orders:
        turn.say("orders-none", buttons=[[turn.button("service-order-button", "cmd:service")]])
        return
    services = await catalogue(turn.tx)
    lines = [turn.t("orders-line", number=str(o.id), service=name_of(turn, service_of(services, o.service)),
                    status=status_name(turn, o.status), on=when(turn, o.created_at)) for o in orders]
    rows = [[turn.button("order-open", f"order:{o.id}", number=str(o.id))] for o in orders]
    turn.say("orders-list", buttons=rows, orders="\n".join(lines))


async def show_order(turn: Turn, value: str) -> None:
    found = await chat_order(turn, value)
    if found is None:
        return
    order, account = found
    lines = [turn.t("order-details", number=str(order.id), service=await service_name(turn, order.service),
                    account=account.number, status=status_name(turn, order.status),
                    phone=shown_phone(turn, order))]
    if order.comment:
        lines.append(turn.t("order-comment", comment=order.comment))
    files = await turn.tx.order_files(order.id, CONSUMER_FILE)
    if files:
        lines.append(turn.t("order-files", count=len(files)))
    lines.append(turn.t("order-history"))
    for change in await turn.tx.order_history(order.id):
        key = "order-history-line-comment" if change.comment else "order-history-line"
        lines.append(turn.t(key, status=status_name(turn, change.status), at=when(turn, change.at),
                            comment=change.comment or ""))
    rows = []
    document = None
    if order.status == AWAITING_CONFIRMATION:
        lines.append(turn.t("order-confirm-ask"))
        document = await contract_of(turn.tx, order.id)
        if placed_here(turn, order):
            rows.append(confirmation_buttons(turn.t, order.id))
    else:
        if order.status == AWAITING_PAYMENT:
            rows.extend(payment_asked(turn, order, account, lines))
        if order_can_go(order.status, CANCELLED) and placed_here(turn, order):
            if attachment_asked(turn, service_of(await catalogue(turn.tx), order.service)):
                rows.append([turn.button("order-attach-button", f"orderattach:{order.id}")])
            rows.append([turn.button("order-cancel", f"ordercancel:{order.id}")])
    rows.append([turn.button("orders-button", "orders:")])
    turn.replies.append(Reply("\n".join(lines), rows, document=document))


def payment_asked(turn: Turn, order: ServiceOrder, account: Account, lines: list[str]) -> list[list[Button]]:
    """The amount to pay for the order added to `lines`, and its Pay buttons (a row, when payments are set up)."""
    amount = order.amount  # change_order_status sets it before a paid order awaits confirmation or payment
    if amount is None:
        return []
    lines.append(turn.t("order-to-pay", amount=i18n.money(amount)))
    pay = pay_buttons(turn, account, amount, service_order=order.id)
    return [pay] if pay else []


async def confirm_order(turn: Turn, value: str, accepted: bool) -> None:
    """`orderaccept:ID` / `orderdecline:ID` from the chat that placed it, while the order awaits confirmation."""
    found = await chat_order(turn, value)
    if found is None:
        return
    order, account = found
    service = service_of(await catalogue(turn.tx), order.service)
    if not placed_here(turn, order):
        turn.say("order-confirm-not-here", number=str(order.id))
    elif order.status != AWAITING_CONFIRMATION:
        turn.say("order-confirm-late", number=str(order.id), status=status_name(turn, order.status))
    else:
        wanted = next_after_confirmation(service) if accepted else CANCELLED
        try:
            change = await change_order_status(turn.tx, order.id, wanted, None, turn.app.clock(), by=CONSUMER)
        except IllegalTransition:
            log.exception("order %d: the consumer's answer to its contract was refused", order.id)
            turn.say("order-confirm-late", number=str(order.id), status=status_name(turn, order.status))
        else:
            lines = [turn.t("order-accepted" if accepted else "order-declined", number=str(order.id),
                            status=status_name(turn, change.status))]
            rows = []
            now = await turn.tx.service_order(order.id)
            if change.status == AWAITING_PAYMENT and now is not None:
                rows = payment_asked(turn, now, account, lines)
            turn.replies.append(Reply("\n".join(lines), rows))
    turn.with_menu()


async def accept_order(turn: Turn, value: str) -> None:
    await confirm_order(turn, value, accepted=True)


async def decline_order(turn: Turn, value: str) -> None:
    await confirm_order(turn, value, accepted=False)


async def cancel_order(turn: Turn, value: str) -> None:
    """`ordercancel:ID` asks, `ordercancel:ID:yes` cancels; the status is checked again when it is pressed."""
    number, _, confirmed = value.partition(":")
    found = await chat_order(turn, number)
    if found is None:
        return
    order, _ = found
    if not placed_here(turn, order):
        turn.say("order-cancel-not-here", number=str(order.id))
    elif order.status == DONE:
        turn.say("order-cancel-done", number=str(order.id))
    elif order.status == CANCELLED:
        turn.say("order-cancel-already", number=str(order.id))
    elif confirmed != "yes":
        turn.say("order-cancel-ask", number=str(order.id), service=await service_name(turn, order.service), buttons=[[
            turn.button("order-cancel-yes", f"ordercancel:{order.id}:yes"),
            turn.button("order-cancel-no", f"order:{order.id}"),
        ]])
        return
    else:
        try:
            await change_order_status(turn.tx, order.id, CANCELLED, None, turn.app.clock(), by=CONSUMER)
        except IllegalTransition:
            turn.say("order-cancel-done", number=str(order.id))
        else:
            turn.say("order-cancelled", number=str(order.id))
    turn.with_menu()


# ----- files the consumer attaches to an order (a receipt's scan, a passport's copy)

ATTACHMENT_LIMIT = 20 * 1024 * 1024  # bytes of one file (the seeds' cabinets take up to 30 MB; messengers 20)
FILES_PER_ORDER = 10
FILE_TYPES = ((b"\xff\xd8\xff", "image/jpeg"), (b"\x89PNG\r\n\x1a\n", "image/png"), (b"%PDF-", "application/pdf"))


def attachment_asked(turn: Turn, service: Service) -> str:
    """What the consumer must attach to an order of the service, in the chat's language: the catalogue's (Ukrainian
    when the language's is missing), else the locales' service-attach-CODE (the default catalogue's); "": nothing."""
    what = service.attach.get(turn.language) or service.attach.get("uk")
    if what:
        return what
    key = f"service-attach-{service.code}"
    return turn.t(key) if not service.names and turn.app.translator.has(turn.language, key) else ""


def ask_for_files(turn: Turn, order_id: int, service: Service, key: str = "order-attach-ask") -> None:
    """The chat is asked for the order's files: a photo or a PDF each, until Done."""
    turn.go("order-attach", order_id=order_id)
    what = attachment_asked(turn, service) or turn.t("order-attach-anything")
    turn.say(key, number=str(order_id), what=what, limit=ATTACHMENT_LIMIT // (1024 * 1024),
             buttons=[[turn.button("order-attach-done", "attachdone:")]])


async def attach_to_order(turn: Turn, value: str) -> None:
    """`orderattach:ID`: a file for an order the chat placed that is not done or cancelled yet."""
    found = await chat_order(turn, value)
    if found is None:
        return
    order, _ = found
    if not placed_here(turn, order) or order.status in (DONE, CANCELLED):
        turn.say("order-attach-closed", number=str(order.id))
        turn.with_menu()
        return
    ask_for_files(turn, order.id, service_of(await catalogue(turn.tx), order.service))


async def step_order_attach(turn: Turn, text: str | None, action: str | None) -> None:
    data = state_data(turn)
    if action is None:
        turn.say("order-attach-waiting", buttons=[[turn.button("order-attach-done", "attachdone:")]])
        return
    turn.go(None)
    files = await turn.tx.order_files(int(data["order_id"]), CONSUMER_FILE)
    turn.say("order-attach-finished", number=str(data["order_id"]), count=len(files))
    turn.with_menu()


async def on_order_file(turn: Turn, event: Incoming) -> None:
    """A photo or a PDF for the order the step asks files for: checked, kept like a meter photo, listed for the
    operator (GET /admin/orders/ID)."""
    order_id = int(state_data(turn)["order_id"])
    done = [[turn.button("order-attach-done", "attachdone:")]]
    order = await turn.tx.service_order(order_id)
    if order is None or not placed_here(turn, order) or order.status in (DONE, CANCELLED):
        turn.go(None)
        turn.say("order-attach-closed", number=str(order_id))
        turn.with_menu()
        return
    content = (event.photo if event.kind is EventKind.PHOTO else event.document) or b""
    mime_type = next((kind for magic, kind in FILE_TYPES if content.startswith(magic)), None)
    if len(content) > ATTACHMENT_LIMIT:
        turn.say("order-attach-too-large", limit=ATTACHMENT_LIMIT // (1024 * 1024), buttons=done)
        return
    if mime_type is None:
        turn.say("order-attach-bad-type", buttons=done)
        return
    kept = await turn.tx.order_files(order_id, CONSUMER_FILE)
    if len(kept) >= FILES_PER_ORDER:
        turn.say("order-attach-too-many", number=str(order_id), limit=FILES_PER_ORDER, buttons=done)
        return
    now = turn.app.clock()
    path, sha256 = await asyncio.to_thread(turn.app.photos.save, content, now)
    await turn.tx.add_order_file(order_id, CONSUMER_FILE, path, sha256, len(content), mime_type, turn.chat.id, now)
    turn.say("order-attach-added", number=str(order_id), count=len(kept) + 1, buttons=done)


FLOW = Flow(
    commands=(Command("service", cmd_service, needs=(linked,)),),
    steps=(
        Step("service-choose", step_service_choose, buttons=("svc",)),
        Step("service-account", step_service_account, buttons=("svcacct",)),
        Step("service-phone", step_service_phone, contact=True),
        Step("service-comment", step_service_comment, buttons=("svcskip",)),
        Step("order-attach", step_order_attach, buttons=("attachdone",), files=on_order_file),
    ),
    actions=(
        Action("svcorder", order_service, needs=(linked,)),
        Action("orders", list_orders, needs=(linked,)),
        Action("order", show_order),
        Action("ordercancel", cancel_order),
        Action("orderaccept", accept_order),
        Action("orderdecline", decline_order),
        Action("orderattach", attach_to_order),
    ),
)
