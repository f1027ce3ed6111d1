"""The conversation engine: one consumer event in, replies out, state kept through storage."""
from __future__ import annotations

import asyncio
import dataclasses
import logging
import re
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Awaitable, Callable
from zoneinfo import ZoneInfo

from core import i18n, metrics
from core.accounts import account_candidates, consent_answer, surname_matches
from core.chat_limit import Admission, ChatLimit
from core.i18n import LANGUAGES, Translator
from core.messages import Button, EventKind, Handled, Incoming, Outcome, Reply
from core.model import Account, Chat, ConversationState, LinkedAccount, Meter, Payee, Submission
from core.notifications import Kind, linked_from
from core.ports import ChatFiles, PhotoArchive, Store, Transaction
from core.readings import ReadingRefused, ReadingWindow, assess, estimate_cost, meter_prices, parse_values

log = logging.getLogger(__name__)

MAX_TEXT = 4096
VERIFICATION_WARNING_DAYS = 90
LINK_ATTEMPT_PERIOD = timedelta(hours=1)
ACCOUNT_LINK_PERIOD = timedelta(hours=24)  # rolling: an account's failures count for a day after each
UNSENT_REPLY_DELAY = timedelta(seconds=10)  # a reply the messenger refused is tried again by the outbox

# The main menu, rows of (command, message key of its label); typed labels in any language press it too.
MENU = (
    (("balance", "menu-balance"), ("reading", "menu-reading")),
    (("history", "menu-history"), ("invoices", "menu-invoices")),
    (("outages", "menu-outages"), ("service", "menu-service")),
    (("appeal", "menu-appeal"), ("accounts", "menu-accounts")),
    (("settings", "menu-settings"), ("help", "menu-help")),
)
# Labels that press a command when typed, beyond the menu's.
TYPED_LABELS = (("link", "menu-link"), ("language", "menu-language"))


@dataclass
class Kabinet:
    """The core: turns an Incoming event into replies, the same for every messenger."""

    store: Store
    photos: PhotoArchive
    translator: Translator = field(default_factory=Translator)
    window: ReadingWindow = field(default_factory=lambda: ReadingWindow(2, 3))
    timezone: ZoneInfo = field(default_factory=lambda: ZoneInfo("Europe/Kyiv"))
    reader: object | None = None
    link_attempts_per_hour: int = 5
    link_failures_per_account_per_day: int = 10
    # Files channels keep per chat (Viber's media shelf), removed by /forget with the chat's data.
    chat_files: list[ChatFiles] = field(default_factory=list)
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    payee: Payee | None = None
    # Codes of the free services this utility offers (core/flows/services.py lists them all).
    services: tuple[str, ...] | None = None
    # Updates a chat may send (None: no limit); judged before the turn's transaction.
    chat_limit: ChatLimit | None = None

    def __post_init__(self) -> None:
        import core.flows  # noqa: F401  (the flows register their commands and steps)

        self._menu_labels = {
            self.translator(language, key).casefold(): command
            for command, key in [item for row in MENU for item in row] + list(TYPED_LABELS)
            for language in LANGUAGES
            if self.translator.has(language, key) and command in COMMANDS
        }

    async def handle(self, event: Incoming) -> list[Reply]:
        """Replies to one event; they are returned only once what they announce is committed."""
        return (await self.process(event)).replies

    async def process(self, event: Incoming) -> Handled:
        """Handle one event in one transaction; a failure rolls everything back and answers an apology."""
        started = time.perf_counter()
        handled = await self._limited(event) or await self._process(event)
        metrics.count("updates", channel=event.channel, outcome=handled.outcome.value)
        metrics.observe("reply_seconds", time.perf_counter() - started, channel=event.channel)
        return handled

    async def _limited(self, event: Incoming) -> Handled | None:
        """The answer to an update over the chat's limit (one "slow down" a window, then silence), or None."""
        if self.chat_limit is None:
            return None
        verdict = await self.chat_limit.admit(event.channel, event.chat_id, event.delivery_key, self.clock())
        if verdict is Admission.ADMITTED:
            return None
        if verdict is Admission.DROPPED:
            return Handled(Outcome.LIMITED, [])
        log.warning("%s chat %s sends more than its limit of updates a minute", event.channel, event.chat_id)
        # No transaction, so not the chat's stored language: its messenger's.
        language = self.translator.language_for(event.language)
        return Handled(Outcome.LIMITED, [Reply(self.translator(language, "chat-slow-down"))])

    async def _process(self, event: Incoming) -> Handled:
        event = without_nul(event)
        turn: Turn | None = None
        try:
            async with self.store.transaction() as tx:
                turn = Turn(self, tx, event)
                opened = await tx.open_turn(event.channel, event.chat_id, turn.language, event.delivery_key,
                                            self.clock(), self.today())
                if opened is None:
                    return Handled(Outcome.DUPLICATE, [])
                await turn.run(*opened)
        except Exception:
            log.exception("event from %s chat %s failed (delivery %s)", event.channel, event.chat_id,
                          event.delivery_key)
            language = turn.language if turn else self.translator.language_for(event.language)
            return Handled(Outcome.FAILED, [Reply(self.translator(language, "error-ours"))])
        # Committed: from here on nothing may turn the answer into an apology.
        for name, labels in turn.counted:
            metrics.count(name, **labels)
        return Handled(Outcome.DONE, turn.replies)

    async def keep_unsent(self, channel: str, chat_id: str, replies: list[Reply]) -> None:
        """Replies a messenger did not take after the turn was committed (an outage, a timeout): the
        outbox dispatcher delivers them later, so a consumer told nothing still hears what was done."""
        from core.notifications import packed_replies

        packed = packed_replies(replies)
        if not packed["replies"]:
            return
        now = self.clock()
        async with self.store.transaction() as tx:
            await tx.queue_reply(channel, chat_id, packed, now, now + UNSENT_REPLY_DELAY)
        metrics.count("replies_kept", channel=channel)

    async def set_reachable(self, channel: str, chat_id: str, reachable: bool) -> None:
        """The messenger says the chat blocked/unblocked the bot or (un)subscribed."""
        async with self.store.transaction() as tx:
            await tx.set_reachable(channel, chat_id, reachable)

    def command_for_label(self, text: str) -> str | None:
        return self._menu_labels.get(text.casefold())

    def today(self) -> date:
        return self.clock().astimezone(self.timezone).date()


Handler = Callable[..., Awaitable[None]]


def without_nul(event: Incoming) -> Incoming:
    """The event with NUL characters taken out of its texts: no database keeps them, no person means them."""
    fields = ("chat_id", "text", "action", "phone", "delivery_key", "language")
    changed = {name: getattr(event, name).replace("\x00", "") for name in fields
               if isinstance(getattr(event, name), str) and "\x00" in getattr(event, name)}
    return dataclasses.replace(event, **changed) if changed else event


class Turn:
    """One event's handling: the chat, its state, and the replies being built."""

    def __init__(self, app: Kabinet, tx: Transaction, event: Incoming) -> None:
        self.app = app
        self.tx = tx
        self.event = event
        self.replies: list[Reply] = []
        self.language = app.translator.language_for(event.language)
        self.chat: Chat
        self.state: ConversationState | None = None
        self._state_changed = False
        self.forgotten = False
        # Metrics to count once the turn is committed: (name, labels).
        self.counted: list[tuple[str, dict[str, str]]] = []

    # ----- plumbing

    def t(self, key: str, **args: object) -> str:
        return self.app.translator(self.language, key, **args)

    def say(self, key: str, buttons: list[list[Button]] | None = None, **args: object) -> Reply:
        reply = Reply(self.t(key, **args), buttons or [])
        self.replies.append(reply)
        return reply

    def button(self, key: str, action: str, **args: object) -> Button:
        return Button(self.t(key, **args), action)

    def go(self, step: str | None, **data: object) -> None:
        if step is None and self.state is None:
            return  # nothing in progress, nothing to write
        self.state = ConversationState(step, dict(data)) if step else None
        self._state_changed = True

    def menu(self) -> list[list[Button]]:
        rows = []
        for row in MENU:
            buttons = [self.button(key, f"cmd:{command}") for command, key in row if command in COMMANDS]
            if buttons:
                rows.append(buttons)
        return rows

    def with_menu(self) -> None:
        """Attach the main menu to the last reply, so every flow ends where the next one starts."""
        if self.replies and not self.replies[-1].buttons:
            self.replies[-1].buttons = self.menu()

    # ----- dispatch

    async def run(self, chat: Chat, state: ConversationState | None) -> None:
        """The event handled, for the chat (locked) and the step it is in, as the transaction opened them."""
        event = self.event
        self.chat, self.state = chat, state
        self.language = self.chat.language
        if not self.chat.active:
            self.chat.active = True
            await self.tx.save_chat(self.chat)
        if event.kind is EventKind.TEXT:
            await self.on_text(event.text)
        elif event.kind is EventKind.BUTTON:
            await self.on_button(event.action)
        elif event.kind is EventKind.PHOTO and event.photo is not None:
            await self.on_photo(event.photo)
        elif event.kind is EventKind.CONTACT:
            step = self.state.step if self.state else None
            if step in CONTACT_STEPS and event.phone:
                await STEPS[step](self, text=event.phone, action=None)
            else:
                self.say("contact-not-expected")
        else:
            self.say("message-unsupported")
        if self._state_changed and not self.forgotten:
            await self.tx.save_state(self.chat.id, self.state)

    async def on_text(self, raw: str) -> None:
        if len(raw) > MAX_TEXT:
            self.say("text-too-long", limit=MAX_TEXT)
            return
        text = raw.strip()
        if not text:
            self.say("text-empty")
            return
        if text.startswith("/"):
            name, _, args = text[1:].partition(" ")
            name = name.split("@", 1)[0].lower()  # Telegram groups append @botname
            handler = COMMANDS.get(name)
            if handler is None:
                self.say("command-unknown", command=text.split()[0][:40])
                return
            await handler(self, args.strip())
            return
        command = self.app.command_for_label(text)
        if command is not None:
            await COMMANDS[command](self, "")
            return
        step = STEPS.get(self.state.step) if self.state else None
        if step is None:
            if BARE_NUMBER.fullmatch(text) and await self.bare_reading(text):
                return
            self.say("not-understood")
            self.with_menu()
            return
        await step(self, text=text, action=None)

    async def on_button(self, action: str) -> None:
        kind, _, value = action.partition(":")
        if kind == "cmd" and value in COMMANDS:
            await COMMANDS[value](self, "")
            return
        if kind == "lang" and value in LANGUAGES:
            await self.set_language(value)
            return
        if kind == "unlink" and value.isdecimal():
            await self.unlink(int(value))
            return
        if kind in ACTIONS:
            await ACTIONS[kind](self, value)
            return
        step = STEPS.get(self.state.step) if self.state else None
        if step is None or kind not in STEP_ACTIONS.get(self.state.step, ()):
            self.say("button-stale")
            self.with_menu()
            return
        await step(self, text=None, action=action)

    # ----- simple commands

    async def cmd_start(self, args: str) -> None:
        self.go(None)
        self.say("welcome")
        accounts = await self.tx.linked_accounts(self.chat.id)
        if accounts:
            self.say("welcome-back", count=len(accounts))
            self.with_menu()
        else:
            self.say("welcome-link-first", buttons=[[self.button("menu-link", "cmd:link")]])

    async def cmd_help(self, args: str) -> None:
        self.say("help")
        self.with_menu()

    async def cmd_cancel(self, args: str) -> None:
        if self.state is None:
            self.say("cancel-nothing")
        else:
            self.go(None)
            self.say("cancelled")
        self.with_menu()

    async def cmd_language(self, args: str) -> None:
        self.go(None)
        wanted = args.strip().lower()
        if wanted:
            if wanted in LANGUAGES:
                await self.set_language(wanted)
            else:
                self.say("language-unknown", languages=", ".join(LANGUAGES))
            return
        self.say(
            "language-choose",
            buttons=[[self.button(f"language-name-{code}", f"lang:{code}") for code in LANGUAGES]],
        )

    async def set_language(self, code: str) -> None:
        self.chat.language = code
        self.language = code
        await self.tx.save_chat(self.chat)
        self.go(None)
        self.say("language-set")
        self.with_menu()

    # ----- linking

    async def cmd_link(self, args: str) -> None:
        self.go(None)
        if self.link_not_here():
            return
        account, surname = _split_link_args(args)
        if self.chat.consent_at is None:
            self.go("consent", account=account, surname=surname)
            self.say(
                "consent-ask",
                buttons=[[self.button("consent-yes", "consent:yes"), self.button("consent-no", "consent:no")]],
            )
            return
        await self.link_continue(account, surname)

    async def step_consent(self, text: str | None, action: str | None) -> None:
        if action is None and text:
            # A typed "так"/"ні" answers like the buttons; anything else asks again.
            answer = consent_answer(text)
            action = None if answer is None else "consent:yes" if answer else "consent:no"
        if action == "consent:yes":
            self.chat.consent_at = self.app.clock()
            await self.tx.save_chat(self.chat)
            data = self.state.data if self.state else {}
            self.say("consent-recorded")
            await self.link_continue(data.get("account", ""), data.get("surname", ""))
        elif action == "consent:no":
            self.go(None)
            self.say("consent-declined")
            self.with_menu()
        else:
            self.say(
                "consent-ask",
                buttons=[[self.button("consent-yes", "consent:yes"), self.button("consent-no", "consent:no")]],
            )

    async def link_continue(self, account: str, surname: str) -> None:
        if self.link_not_here() or await self.link_blocked():
            return
        if not account:
            self.go("link-account")
            self.say("link-ask-account")
            return
        if not account_candidates(account):
            self.go("link-account")
            self.say("link-account-malformed")
            return
        if not surname:
            self.go("link-surname", account=account)
            self.say("link-ask-surname")
            return
        await self.link_try(account, surname)

    async def step_link_account(self, text: str | None, action: str | None) -> None:
        await self.link_continue(text or "", "")

    async def step_link_surname(self, text: str | None, action: str | None) -> None:
        account = self.state.data.get("account", "") if self.state else ""
        if not text or len(text) > 100 or not any(ch.isalpha() for ch in text):
            self.say("link-surname-malformed")
            return
        await self.link_continue(account, text)

    def link_not_here(self) -> bool:
        """A group or a channel: its members would see the account, so it is linked only in a private chat."""
        if self.event.private:
            return False
        self.go(None)
        self.say("link-private-only")
        return True

    async def link_failures(self, since: datetime) -> list[datetime]:
        """The chat's failed attempts, by its id in the messenger: /forget does not reset them."""
        return await self.tx.failed_link_attempts(self.chat.channel, self.chat.external_id, since)

    async def link_blocked(self) -> bool:
        now = self.app.clock()
        failures = await self.link_failures(now - LINK_ATTEMPT_PERIOD)
        if len(failures) < self.app.link_attempts_per_hour:
            return False
        retry_at = min(failures) + LINK_ATTEMPT_PERIOD
        self.go(None)
        self.say("link-too-many", time=retry_at.astimezone(self.app.timezone).strftime("%H:%M"))
        self.with_menu()
        return True

    async def account_locked(self, account: Account, now: datetime) -> bool:
        """Guessed at too often today, from any chats: linked again after a day, or when the operator says."""
        failures = await self.tx.failed_links_to(account.id, now - ACCOUNT_LINK_PERIOD)
        return failures >= self.app.link_failures_per_account_per_day

    async def link_try(self, account_text: str, surname: str) -> None:
        now = self.app.clock()
        numbered = await self.tx.find_accounts(account_candidates(account_text))
        found = [account for account in numbered if surname_matches(surname, account.surname)]
        if len(found) == 1 and await self.account_locked(found[0], now):
            found = []  # refused like a wrong surname: nothing tells that the account exists
        succeeded = len(found) == 1
        # A failure counts against every account the number named, whichever chat tries it.
        await self.tx.record_link_attempt(self.chat.channel, self.chat.external_id,
                                          [account.id for account in (found if succeeded else numbered)], now,
                                          succeeded)
        if not succeeded:
            self.counted.append(("link_failures", {"channel": self.chat.channel}))
            failures = await self.link_failures(now - LINK_ATTEMPT_PERIOD)
            left = max(self.app.link_attempts_per_hour - len(failures), 0)
            self.go("link-account")
            self.say("link-refused", left=left)
            if left == 0:
                await self.link_blocked()
            return
        account = found[0]
        self.go(None)
        if await self.tx.link(self.chat.id, account.id, now):
            await self.tell_linked_chats(account, now)
            self.say("link-done", account=account.number, address=account.address)
        else:
            self.say("link-already", account=account.number)
        self.with_menu()

    async def tell_linked_chats(self, account: Account, now: datetime) -> None:
        """The chats the account was linked to before hear that this one linked it (through the outbox)."""
        others = [chat_id for chat_id in await self.tx.chats_linked_to(account.id) if chat_id != self.chat.id]
        if others:
            period = linked_from(self.chat.channel, now)
            await self.tx.plan_notices(Kind.ACCOUNT_LINKED,
                                       [(chat_id, account.number, period) for chat_id in others], now)

    # ----- accounts

    async def cmd_accounts(self, args: str) -> None:
        self.go(None)
        accounts = await self.tx.linked_accounts(self.chat.id)
        if not accounts:
            self.say("no-accounts", buttons=[[self.button("menu-link", "cmd:link")]])
            return
        lines = [self.t("account-line", account=a.number, address=a.address) for a in accounts]
        rows = [[self.button("account-unlink", f"unlink:{a.id}", account=a.number)] for a in accounts]
        rows.append([self.button("account-link-another", "cmd:link")])
        self.say("accounts-list", buttons=rows, accounts="\n".join(lines), count=len(accounts))

    async def unlink(self, account_id: int) -> None:
        accounts = {a.id: a for a in await self.tx.linked_accounts(self.chat.id)}
        account = accounts.get(account_id)
        if account is None or not await self.tx.unlink(self.chat.id, account_id):
            self.say("button-stale")
        else:
            self.go(None)
            self.say("account-unlinked", account=account.number)
        self.with_menu()

    # ----- shared by the billing views (core/flows/billing_views.py has /balance)

    def verification_warning(self, meter: Meter, today: date) -> list[str]:
        due = meter.next_verification_on
        if due is None:
            return []
        if due < today:
            return [self.t("verification-expired", meter=meter.serial, on=i18n.day(due))]
        if due <= today + timedelta(days=VERIFICATION_WARNING_DAYS):
            return [self.t("verification-soon", meter=meter.serial, on=i18n.day(due), days=(due - today).days)]
        return []

    def zone_label(self, zone: int, zones: int, value: str) -> str:
        if zones <= 1:
            return value
        return self.t("zone-value", zone=self.t(f"zone-{zones}-{zone}"), value=value)

    async def linked_or_ask(self) -> list[Account]:
        accounts = await self.tx.linked_accounts(self.chat.id)
        if not accounts:
            self.ask_to_link()
        return accounts

    def ask_to_link(self) -> None:
        self.say("no-accounts", buttons=[[self.button("menu-link", "cmd:link")]])

    # ----- readings

    async def cmd_reading(self, args: str) -> None:
        self.go(None)
        found = await self.reading_meter(values=args, photo_id=None)
        if found is None:
            return
        linked, meter = found
        if args:
            await self.reading_values(linked, meter, args, photo_id=None)
        else:
            await self.ask_values(linked, meter, photo_id=None)

    async def reading_meter(self, *, values: str, photo_id: int | None,
                            accounts: list[LinkedAccount] | None = None) -> tuple[LinkedAccount, Meter] | None:
        """The meter a reading is for (with its account): the only one, or a question with a button per meter.
        `accounts`: the chat's linked meters when the caller has read them already."""
        if accounts is None:
            accounts = await self.tx.linked_meters(self.chat.id, self.app.today())
        if not accounts:
            self.ask_to_link()
            return None
        today = self.app.today()
        if not self.app.window.is_open(today):
            self.counted.append(("readings", {"result": "refused", "reason": "window-closed"}))
            self.say(
                "reading-window-closed",
                opens=i18n.day(self.app.window.next_opening(today)),
                closes=i18n.day(self.app.window.closing(self.app.window.next_opening(today))),
            )
            self.with_menu()
            return None
        meters = [(linked, meter) for linked in accounts for meter in linked.meters]
        if not meters:
            self.say("reading-no-meter")
            self.with_menu()
            return None
        if len(meters) == 1:
            return meters[0]
        rows = [
            [self.button("reading-meter-button", f"meter:{m.id}", account=linked.account.number, meter=m.serial)]
            for linked, m in meters
        ]
        self.go("reading-meter", values=values, photo_id=photo_id)
        self.say("reading-choose-meter", buttons=rows)
        return None

    async def bare_reading(self, text: str) -> bool:
        """A number typed with nothing in progress: with one meter, offered as its reading to confirm; with several,
        which meter is it for. False when it fits no linked meter (it is then not understood, and nothing is asked)."""
        accounts = await self.tx.linked_meters(self.chat.id, self.app.today())
        if not any(fits(text, meter) for linked in accounts for meter in linked.meters):
            return False
        found = await self.reading_meter(values=text, photo_id=None, accounts=accounts)
        if found is None:
            return True  # asked which meter, or said the window is closed
        linked, meter = found
        values = parse_values(text, digits=meter.digits, zones=meter.zones)
        previous = {zone: r.value for zone, r in linked.last_readings[meter.id].items()}
        if assess(values, previous, digits=meter.digits, k_factor=meter.k_factor).needs_confirmation:
            await self.submit(linked, meter, values, None, confirmed=False)  # asks, with what is unusual about it
            return True
        self.go("reading-confirm", meter_id=meter.id, values=values, photo_id=None)
        shown = " / ".join(self.zone_label(zone, meter.zones, str(value)) for zone, value in enumerate(values, 1))
        self.say("reading-bare-confirm", meter=meter.serial, values=shown, buttons=[[
            self.button("reading-confirm-button", "reading:confirm"),
            self.button("reading-reenter-button", "reading:reenter"),
        ]])
        return True

    async def step_reading_meter(self, text: str | None, action: str | None) -> None:
        data = self.state.data if self.state else {}
        found = await self.meter_of_chat(action.partition(":")[2] if action else "")
        if found is None:
            self.say("reading-choose-meter-again")
            return
        linked, meter = found
        photo_id = data.get("photo_id")
        if photo_id is not None:
            await self.read_photo(linked, meter, photo_id)
        elif data.get("values"):
            await self.reading_values(linked, meter, data["values"], photo_id=None)
        else:
            await self.ask_values(linked, meter, photo_id=None)

    async def meter_of_chat(self, meter_id: str) -> tuple[LinkedAccount, Meter] | None:
        """A meter of one of the chat's linked accounts, with the account."""
        if not meter_id.isdecimal():
            return None
        for linked in await self.tx.linked_meters(self.chat.id, self.app.today()):
            for meter in linked.meters:
                if meter.id == int(meter_id):
                    return linked, meter
        return None

    async def meter_in_step(self, data: dict) -> tuple[LinkedAccount, Meter] | None:
        """The meter the step in progress is about, with its account; gone (unlinked meanwhile) ends the step."""
        found = await self.meter_of_chat(str(data.get("meter_id", "")))
        if found is None:
            self.go(None)
            self.say("button-stale")
        return found

    async def ask_values(self, linked: LinkedAccount, meter: Meter, photo_id: int | None) -> None:
        previous = linked.last_readings[meter.id]
        self.go("reading-values", meter_id=meter.id, photo_id=photo_id)
        key = "reading-ask-one" if meter.zones == 1 else "reading-ask-zones"
        zone_names = ", ".join(self.t(f"zone-{meter.zones}-{zone}") for zone in range(1, meter.zones + 1))
        self.say(key, meter=meter.serial, digits=meter.digits, zones=meter.zones, names=zone_names)
        if previous:
            shown = " / ".join(
                self.zone_label(zone, meter.zones, str(previous[zone].value)) for zone in sorted(previous)
            )
            last_day = max(r.taken_on for r in previous.values())
            self.say("reading-previous", values=shown, on=i18n.day(last_day))

    async def step_reading_values(self, text: str | None, action: str | None) -> None:
        data = self.state.data if self.state else {}
        found = await self.meter_in_step(data)
        if found is None:
            return
        await self.reading_values(*found, text or "", photo_id=data.get("photo_id"))

    async def reading_values(self, linked: LinkedAccount, meter: Meter, text: str, photo_id: int | None) -> None:
        try:
            values = parse_values(text, digits=meter.digits, zones=meter.zones)
        except ReadingRefused as refusal:
            self.go("reading-values", meter_id=meter.id, photo_id=photo_id)
            self.say(refusal.key, **refusal.args_)
            self.counted.append(("readings", {"result": "refused", "reason": refusal.key.removeprefix("reading-")}))
            return
        await self.submit(linked, meter, values, photo_id, confirmed=False)

    async def submit(self, linked: LinkedAccount, meter: Meter, values: list[int], photo_id: int | None, *,
                     confirmed: bool) -> None:
        today = self.app.today()
        if not self.app.window.is_open(today):
            self.go(None)
            opens = self.app.window.next_opening(today)
            self.counted.append(("readings", {"result": "refused", "reason": "window-closed"}))
            self.say("reading-window-closed", opens=i18n.day(opens), closes=i18n.day(self.app.window.closing(opens)))
            self.with_menu()
            return
        previous = linked.last_readings[meter.id]
        assessment = assess(
            values, {zone: r.value for zone, r in previous.items()}, digits=meter.digits, k_factor=meter.k_factor
        )
        if assessment.needs_confirmation and not confirmed:
            self.go("reading-confirm", meter_id=meter.id, values=values, photo_id=photo_id)
            if assessment.rolled_over:
                self.say("reading-rollover", kwh=i18n.kwh(assessment.total_kwh, self.language), digits=meter.digits)
            if assessment.large:
                self.say("reading-large", kwh=i18n.kwh(assessment.total_kwh, self.language))
            self.replies[-1].buttons = [[
                self.button("reading-confirm-button", "reading:confirm"),
                self.button("reading-reenter-button", "reading:reenter"),
            ]]
            return
        submission = await self.tx.add_readings(
            meter.id, today, values, self.chat.channel, self.chat.id, self.app.clock(), photo_id
        )
        self.counted.append(("readings", {"result": "accepted", "reason": "photo" if photo_id else "typed"}))
        prices = meter_prices(meter.zones, linked.prices_of(meter))
        cost = estimate_cost(assessment, prices) if prices is not None else None
        self.go(None)
        shown = " / ".join(self.zone_label(z.zone, meter.zones, str(z.value)) for z in assessment.zones)
        lines = [self.t("reading-accepted", meter=meter.serial, values=shown, on=i18n.day(today))]
        if submission.replaced:
            lines.append(self.replaced_line(submission, meter))
        closes = self.app.window.billing_month(today)
        if closes != today.strftime("%Y-%m"):  # the window's opening days: say which month it counts for
            lines.append(self.t("reading-closes-month", month=i18n.month(closes)))
        if assessment.total_kwh is not None:
            lines.append(self.t("reading-consumption", kwh=i18n.kwh(assessment.total_kwh, self.language)))
            if meter.zones > 1:
                lines.append(", ".join(
                    self.zone_label(z.zone, meter.zones, i18n.kwh(z.kwh, self.language))
                    for z in assessment.zones if z.kwh is not None
                ))
            if meter.k_factor != 1:
                lines.append(self.t("reading-k-factor", k=i18n.kwh(meter.k_factor, self.language)))
        else:
            lines.append(self.t("reading-first"))
        if cost is not None:
            lines.append(self.t("reading-cost", amount=i18n.money(cost), plan=linked.plan_of(meter)))
        elif prices is None and linked.prices_of(meter) and assessment.total_kwh is not None:
            lines.append(self.t("reading-cost-other-zones", plan=linked.plan_of(meter), meter=meter.serial))
        self.replies.append(Reply("\n".join(lines)))
        self.with_menu()

    def replaced_line(self, submission: Submission, meter: Meter) -> str:
        """What today's earlier submission was, so that a second one does not replace it unnoticed."""
        values = " / ".join(self.zone_label(zone, meter.zones, str(value))
                            for zone, value in sorted(submission.replaced.items()))
        if submission.replaced_at is None:
            return self.t("reading-replaces-untimed", values=values)
        return self.t("reading-replaces", values=values,
                      time=submission.replaced_at.astimezone(self.app.timezone).strftime("%H:%M"))

    async def step_reading_confirm(self, text: str | None, action: str | None) -> None:
        data = self.state.data if self.state else {}
        found = await self.meter_in_step(data)
        if found is None:
            return
        linked, meter = found
        photo_id = data.get("photo_id")
        if action == "reading:confirm":
            await self.submit(linked, meter, [int(v) for v in data.get("values", [])], photo_id, confirmed=True)
        elif action == "reading:reenter":
            await self.ask_values(linked, meter, photo_id)
        elif text:
            await self.reading_values(linked, meter, text, photo_id)

    # ----- photos

    async def on_photo(self, content: bytes) -> None:
        received_at = self.app.clock()
        if not content:
            self.say("photo-empty")
            return
        accounts = await self.linked_or_ask()
        if not accounts:
            return
        found: tuple[LinkedAccount, Meter] | None = None
        if self.state and self.state.step in ("reading-values", "reading-confirm", "photo-confirm"):
            found = await self.meter_of_chat(str(self.state.data.get("meter_id", "")))
        if found is None:
            found = await self.reading_meter(values="", photo_id=None)
            if found is None and (self.state is None or self.state.step != "reading-meter"):
                return  # window closed or no meter: said already, nothing kept
        recognition = None
        if found is not None:
            recognition = await self.recognize(content, *found)
            if recognition is False:
                return  # not a usable photo: said so, nothing kept
        photo_id = await self.keep_photo(content, received_at)
        if found is None:
            self.state.data["photo_id"] = photo_id
            self._state_changed = True
            return
        await self.photo_read(*found, photo_id, recognition)

    async def keep_photo(self, content: bytes, received_at: datetime) -> int | None:
        """The photo's id in the archive; None when the archive failed (a full disk): said, and the reading goes on."""
        try:
            path, sha256 = await asyncio.to_thread(self.app.photos.save, content, received_at)
        except OSError:
            log.exception("chat %s: the photo archive failed; the reading goes on without the photo", self.chat.id)
            self.say("photo-not-kept")
            return None
        return await self.tx.add_photo(self.chat.id, path, sha256, received_at, len(content))

    async def recognize(self, content: bytes, linked: LinkedAccount, meter: Meter):
        """The reader's Recognition, None when there is no reader or the meter has zones, False when refused."""
        if self.app.reader is None or meter.zones != 1:
            return None
        from core.recognition import PhotoRejected

        previous = linked.last_readings[meter.id]
        before = previous[1].value if 1 in previous else None
        try:
            recognition = await asyncio.to_thread(
                self.app.reader.read, content, digits=meter.digits, previous=before
            )
        except PhotoRejected as refusal:
            self.counted.append(("ocr", {"outcome": f"rejected-{refusal.reason}"}))
            self.say(f"photo-rejected-{refusal.reason.replace('_', '-')}")
            return False
        except Exception:  # a broken reader (models missing, a runtime error) must not cost the photo or the reading
            log.exception("meter photo recognition failed")
            self.counted.append(("ocr", {"outcome": "failed"}))
            return None
        self.counted.append(("ocr", {"outcome": "read" if recognition.reading else "unsure"}))
        return recognition

    async def read_photo(self, linked: LinkedAccount, meter: Meter, photo_id: int) -> None:
        """A photo kept before its meter was chosen: read it now from the archive."""
        recognition = None
        path = await self.tx.photo_path(photo_id)
        if path is not None and self.app.reader is not None:
            content = await asyncio.to_thread(self.app.photos.load, path)
            recognition = await self.recognize(content, linked, meter) if content else None
            if recognition is False:
                await self.tx.update_photo(photo_id, meter_id=meter.id, note="rejected")
                self.go(None)
                return
        await self.photo_read(linked, meter, photo_id, recognition)

    async def photo_read(self, linked: LinkedAccount, meter: Meter, photo_id: int, recognition) -> None:
        """Show what the photo says for confirmation, or ask the consumer to type the reading."""
        if recognition is not None and recognition.reading:
            if photo_id is not None:
                await self.tx.update_photo(photo_id, meter_id=meter.id, recognized=recognition.reading,
                                           confidence=round(float(recognition.confidence), 4))
            self.go("photo-confirm", meter_id=meter.id, photo_id=photo_id, value=recognition.reading)
            self.say("photo-read", value=recognition.reading, meter=meter.serial, buttons=[[
                self.button("photo-correct", "photo:yes"), self.button("photo-type", "photo:type"),
            ]])
            return
        if photo_id is not None:
            await self.tx.update_photo(photo_id, meter_id=meter.id,
                                       note="not sure" if recognition is not None else None)
            self.say("photo-unsure" if recognition is not None else "photo-kept")
        elif recognition is not None:
            self.say("photo-unsure-not-kept")
        await self.ask_values(linked, meter, photo_id)

    async def step_photo_confirm(self, text: str | None, action: str | None) -> None:
        data = self.state.data if self.state else {}
        found = await self.meter_in_step(data)
        if found is None:
            return
        linked, meter = found
        photo_id = data.get("photo_id")
        if action == "photo:yes":
            await self.reading_values(linked, meter, str(data.get("value", "")), photo_id)
        elif action == "photo:type":
            await self.ask_values(linked, meter, photo_id)
        elif text:
            await self.reading_values(linked, meter, text, photo_id)  # a corrected value typed straight away

    # ----- forgetting

    async def cmd_forget(self, args: str) -> None:
        self.go("forget")
        self.say("forget-ask", buttons=[[self.button("forget-yes", "forget:yes"), self.button("forget-no", "forget:no")]])

    async def step_forget(self, text: str | None, action: str | None) -> None:
        if action == "forget:yes":
            await self.tx.forget_chat(self.chat.id)
            # Before the commit: should it fail, the files are gone and the chat is not, which is harmless.
            for files in self.app.chat_files:
                await asyncio.to_thread(files.forget, self.chat.channel, self.chat.external_id)
            self.forgotten = True
            self.say("forget-done")
        else:
            self.go(None)
            self.say("cancelled")
            self.with_menu()


def _split_link_args(args: str) -> tuple[str, str]:
    """`/link 01 000 0012345 Шевченко`: the surname is the last word, the account is what precedes it."""
    words = args.split()
    if not words:
        return "", ""
    if len(words) == 1:
        return words[0], ""
    if any(ch.isalpha() for ch in words[-1]) and not account_candidates(words[-1]):
        return " ".join(words[:-1]), words[-1]
    return " ".join(words), ""


COMMANDS: dict[str, Handler] = {
    "start": Turn.cmd_start,
    "help": Turn.cmd_help,
    "cancel": Turn.cmd_cancel,
    "language": Turn.cmd_language,
    "link": Turn.cmd_link,
    "accounts": Turn.cmd_accounts,
    "reading": Turn.cmd_reading,
    "forget": Turn.cmd_forget,
}

BARE_NUMBER = re.compile(r"[\d\s,.]*\d[\d\s,.]*")  # what a reading typed from the main menu looks like


def fits(text: str, meter: Meter) -> bool:
    """Whether `text` is a reading the meter could show."""
    try:
        parse_values(text, digits=meter.digits, zones=meter.zones)
    except ReadingRefused:
        return False
    return True


STEPS: dict[str, Handler] = {
    "consent": Turn.step_consent,
    "link-account": Turn.step_link_account,
    "link-surname": Turn.step_link_surname,
    "reading-meter": Turn.step_reading_meter,
    "reading-values": Turn.step_reading_values,
    "reading-confirm": Turn.step_reading_confirm,
    "forget": Turn.step_forget,
    "photo-confirm": Turn.step_photo_confirm,
}

# Button kinds that work in any step (e.g. "order:17" opens an order from a list): kind -> handler(turn, value).
ACTIONS: dict[str, Handler] = {}
# Steps where a shared contact (a phone number) is the answer; it comes to the step as text.
CONTACT_STEPS: set[str] = set()

# Which button kinds a step answers; any other button pressed in it is stale.
STEP_ACTIONS: dict[str, tuple[str, ...]] = {
    "consent": ("consent",),
    "reading-meter": ("meter",),
    "reading-confirm": ("reading",),
    "forget": ("forget",),
    "photo-confirm": ("photo",),
}


class register:
    """How a flow in core/flows/ adds itself: commands, steps with the buttons they answer, global actions."""

    @staticmethod
    def command(name: str) -> Callable[[Handler], Handler]:
        def add(handler: Handler) -> Handler:
            COMMANDS[name] = handler
            return handler
        return add

    @staticmethod
    def step(name: str, actions: tuple[str, ...] = (), contact: bool = False) -> Callable[[Handler], Handler]:
        def add(handler: Handler) -> Handler:
            STEPS[name] = handler
            if actions:
                STEP_ACTIONS[name] = actions
            if contact:
                CONTACT_STEPS.add(name)
            return handler
        return add

    @staticmethod
    def action(kind: str) -> Callable[[Handler], Handler]:
        def add(handler: Handler) -> Handler:
            ACTIONS[kind] = handler
            return handler
        return add
