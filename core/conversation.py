"""The conversation engine: one consumer event in, replies out, state kept through storage.

The features live in core/flows/, one module each, and declare their commands, steps and buttons; a Kabinet
builds its registry from the flows it is given and dispatches each event to them.
"""
from __future__ import annotations

import dataclasses
import logging
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Awaitable, Callable
from zoneinfo import ZoneInfo

from core import metrics
from core.chat_limit import Admission, ChatLimit
from core.flows import STANDARD_FLOWS
from core.flows.registry import Command, Flow, Registry, Requirement
from core.i18n import LANGUAGES, Translator
from core.messages import Button, EventKind, Handled, Incoming, Outcome, Reply
from core.model import Account, Chat, ConversationState, Payee
from core.ports import ChatFiles, Mailer, PhotoArchive, Store, Transaction
from core.readings import ReadingWindow
from core.recent_turns import KEPT_TURNS, kept_turn
from core.recognition import PhotoReader

log = logging.getLogger(__name__)

MAX_TEXT = 4096
UNSENT_REPLY_DELAY = timedelta(seconds=10)  # a reply the messenger refused is tried again by the outbox



@dataclass
class Kabinet:
    """The core: turns an Incoming event into replies, the same for every messenger."""

    store: Store
    photos: PhotoArchive
    translator: Translator = field(default_factory=Translator)
    window: ReadingWindow = field(default_factory=lambda: ReadingWindow(2, 3))
    timezone: ZoneInfo = field(default_factory=lambda: ZoneInfo("Europe/Kyiv"))
    # Reads meter photos (a pool of worker processes, core/recognition/pool.py); None: photos are only kept.
    reader: PhotoReader | None = None
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
    # Photos a chat may send (None: no limit), judged likewise, before the photo is read.
    photo_limit: ChatLimit | None = None
    # Bytes of kept photos an account may have (None: no quota); a photo over it is neither kept nor read.
    photo_quota: int | None = None
    # Sends e-mail (the confirmation codes of /settings' address); None: no e-mail is configured nor offered.
    mailer: Mailer | None = None
    # Turns of each chat kept for a technical-support appeal (core/recent_turns.py); 0 keeps none.
    kept_turns: int = KEPT_TURNS
    # The features this Kabinet serves.
    flows: tuple[Flow, ...] = STANDARD_FLOWS

    def __post_init__(self) -> None:
        self.registry = Registry(self.flows)
        self._menu_labels = {
            self.translator(language, key).casefold(): command
            for command, key in [item for row in self.registry.menu for item in row] + self.registry.labels
            for language in LANGUAGES
            if self.translator.has(language, key) and command in self.registry.commands
        }
        # The main menu in each language, made on first use: a turn's last reply carries it (its buttons are frozen).
        self._menus: dict[str, tuple[tuple[Button, ...], ...]] = {}

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
        """The answer to an update over the chat's limit, or to a photo over its photo limit (one answer a
        window, then silence), or None."""
        limits = [(self.chat_limit, "chat-slow-down", "updates")]
        if event.kind is EventKind.PHOTO:
            limits.append((self.photo_limit, "photo-one-at-a-time", "photos"))
        for limit, answer, what in limits:
            if limit is None:
                continue
            verdict = await limit.admit(event.channel, event.chat_id, event.delivery_key, self.clock())
            if verdict is Admission.ADMITTED:
                continue
            if what == "photos":
                metrics.count("photos_refused", reason="flood")
            if verdict is Admission.DROPPED:
                return Handled(Outcome.LIMITED, [])
            log.warning("%s chat %s sends more than its limit of %s a minute", event.channel, event.chat_id, what)
            # No transaction, so not the chat's stored language: its messenger's.
            language = self.translator.language_for(event.language)
            return Handled(Outcome.LIMITED, [Reply(self.translator(language, answer))])
        return None

    async def _process(self, event: Incoming) -> Handled:
        event = without_nul(event)
        turn: Turn | None = None
        try:
            before = await self._before_turn(event)
            async with self.store.transaction() as tx:
                turn = Turn(self, tx, event, before)
                command = self.command_of(event)
                opened = await tx.open_turn(event.channel, event.chat_id, turn.language, event.delivery_key,
                                            self.clock(), self.today(), summaries=bool(command and command.summaries))
                if opened is None:
                    return Handled(Outcome.DUPLICATE, [])
                await turn.run(*opened)
        except Exception:
            log.exception("event from %s chat %s failed (delivery %s)", event.channel, event.chat_id,
                          event.delivery_key)
            language = turn.language if turn else self.translator.language_for(event.language)
            apology = [Reply(self.translator(language, "error-ours"))]
            if turn is not None:
                await self._keep_failed(turn, apology)
            return Handled(Outcome.FAILED, apology)
        # Committed: from here on nothing may turn the answer into an apology.
        for name, labels in turn.counted:
            metrics.count(name, 1, **labels)
        for action in turn.after_commit:
            try:
                await action()
            except Exception:
                log.exception("after the turn of %s chat %s", event.channel, event.chat_id)
        return Handled(Outcome.DONE, turn.replies)

    async def _keep_failed(self, turn: Turn, apology: list[Reply]) -> None:
        """A failed turn is kept among the chat's recent turns in a transaction of its own (the turn's rolled
        back): the one a technical-support appeal most needs. Not when it failed before its step was known,
        since then a secret it carried could not be told."""
        if not self.kept_turns or not turn.step_read:
            return
        event = turn.event
        try:
            async with self.store.transaction() as tx:
                chat, _ = await tx.chat_and_state(event.channel, event.chat_id, turn.language)
                await tx.keep_turn(chat.id, kept_turn(self.registry, event, turn.step_at_start, apology, self.clock()),
                                   self.kept_turns)
        except Exception:
            log.warning("the failed turn of %s chat %s was not kept either", event.channel, event.chat_id,
                        exc_info=True)

    async def _before_turn(self, event: Incoming) -> object | None:
        """A photo's slow work (reading it), done before the turn's transaction opens so that no connection or
        write lock waits for it: what it hands the turn (the turn answers every outcome, after its duplicate check)."""
        if event.kind is EventKind.PHOTO and self.registry.before_photo_turn is not None:
            return await self.registry.before_photo_turn(self, event)
        return None

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

    async def takes_files(self, channel: str, chat_id: str, language: str | None) -> bool:
        """Whether the chat is at a step that asks for files (an order's): a messenger fetches a document only
        then, so that a file nobody asked for costs no download."""
        async with self.store.transaction() as tx:
            _, state = await tx.chat_and_state(channel, chat_id, self.translator.language_for(language))
        step = self.registry.steps.get(state.step) if state is not None else None
        return step is not None and step.files is not None

    def menu(self, language: str) -> tuple[tuple[Button, ...], ...]:
        """The main menu's buttons in `language`."""
        menu = self._menus.get(language)
        if menu is None:
            menu = tuple(tuple(Button(self.translator(language, key), f"cmd:{command}") for command, key in row)
                         for row in self.registry.menu)
            if language in LANGUAGES:
                self._menus[language] = menu
        return menu

    def command_for_label(self, text: str) -> str | None:
        return self._menu_labels.get(text.casefold())

    def command_of(self, event: Incoming) -> Command | None:
        """The command the event runs whatever step the chat is in: a typed /command or menu label, a cmd: button."""
        if event.kind is EventKind.TEXT and event.text:
            text = event.text.strip()
            name = command_name(text) if text.startswith("/") else self.command_for_label(text)
        elif event.kind is EventKind.BUTTON and event.action and event.action.startswith("cmd:"):
            name = event.action.partition(":")[2]
        else:
            return None
        return self.registry.commands.get(name) if name else None

    def today(self) -> date:
        return self.clock().astimezone(self.timezone).date()


def command_name(text: str) -> str:
    """The command `/Name@bot args` names: `name` (Telegram groups append @botname)."""
    return text[1:].partition(" ")[0].split("@", 1)[0].lower()


def without_nul(event: Incoming) -> Incoming:
    """The event with NUL characters taken out of its texts: no database keeps them, no person means them."""
    fields = ("chat_id", "text", "action", "phone", "delivery_key", "language")
    changed = {name: getattr(event, name).replace("\x00", "") for name in fields
               if isinstance(getattr(event, name), str) and "\x00" in getattr(event, name)}
    return dataclasses.replace(event, **changed) if changed else event


class Turn:
    """One event's handling: the chat, its state, and the replies being built."""

    def __init__(self, app: Kabinet, tx: Transaction, event: Incoming, before_turn: object | None = None) -> None:
        self.app = app
        self.tx = tx
        self.event = event
        # What the event's work before the transaction produced (a photo read before its turn), for its flow.
        self.before_turn = before_turn
        self.replies: list[Reply] = []
        self.language = app.translator.language_for(event.language)
        self.chat: Chat
        self.state: ConversationState | None = None
        # The step the chat was in when the event came (None: none), once the turn has read it (`step_read`).
        self.step_at_start: str | None = None
        self.step_read = False
        self._state_changed = False
        self.forgotten = False
        # The chat's linked accounts, read by a command or button that needs them (core.flows.accounts.linked).
        self.accounts: list[Account] = []
        # Metrics to count once the turn is committed: (name, labels).
        self.counted: list[tuple[str, dict[str, str]]] = []
        # Work done once the turn is committed, before its replies go (mailing a code that is now stored); it
        # may change the replies, and opens its own transaction to write.
        self.after_commit: list[Callable[[], Awaitable[None]]] = []

    # ----- what the flows build a turn with

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

    def remember(self, **data: object) -> None:
        """Add to what the step in progress keeps."""
        assert self.state is not None, "remember() needs a step in progress"
        self.state.data.update(data)
        self._state_changed = True

    def menu(self) -> list[list[Button]]:
        return [list(row) for row in self.app.menu(self.language)]

    def with_menu(self) -> None:
        """Attach the main menu to the last reply, so every flow ends where the next one starts."""
        if self.replies and not self.replies[-1].buttons:
            self.replies[-1].buttons = self.menu()

    # ----- dispatch

    async def run(self, chat: Chat, state: ConversationState | None) -> None:
        """The event handled, for the chat (locked) and the step it is in, as the transaction opened them."""
        event = self.event
        self.chat, self.state = chat, state
        self.step_at_start, self.step_read = (state.step if state else None), True
        self.language = self.chat.language
        if not self.chat.active:
            self.chat.active = True
            await self.tx.save_chat(self.chat)
        registry = self.app.registry
        step = registry.steps.get(self.state.step) if self.state and self.state.step else None
        if event.kind in (EventKind.PHOTO, EventKind.DOCUMENT) and step is not None and step.files is not None:
            await step.files(self, event)
        elif event.kind is EventKind.TEXT:
            await self.on_text(event.text)
        elif event.kind is EventKind.BUTTON:
            await self.on_button(event.action)
        elif event.kind is EventKind.PHOTO and event.photo is not None and registry.photo is not None:
            await registry.photo(self, event.photo)
        elif event.kind is EventKind.CONTACT:
            if step is not None and step.contact and event.phone:
                await step.handler(self, event.phone, None)
            else:
                self.say("contact-not-expected")
        else:
            self.say("message-unsupported")
        if not self.forgotten:
            await self.write_state_and_turn()

    async def write_state_and_turn(self) -> None:
        """The turn's last writes: the chat's step if it changed, and the turn among the chat's recent ones."""
        keep = self.app.kept_turns
        kept = kept_turn(self.app.registry, self.event, self.step_at_start, self.replies, self.app.clock()) \
            if keep else None
        if self._state_changed and kept is not None:
            await self.tx.save_state_and_keep_turn(self.chat.id, self.state, kept, keep)
        elif self._state_changed:
            await self.tx.save_state(self.chat.id, self.state)
        elif kept is not None:
            await self.tx.keep_turn(self.chat.id, kept, keep)

    async def on_text(self, raw: str) -> None:
        if len(raw) > MAX_TEXT:
            self.say("text-too-long", limit=MAX_TEXT)
            return
        text = raw.strip()
        if not text:
            self.say("text-empty")
            return
        registry = self.app.registry
        if text.startswith("/"):
            name, args = command_name(text), text[1:].partition(" ")[2]
            if name not in registry.commands:
                self.say("command-unknown", command=text.split()[0][:40])
                return
            await self.command(name, args.strip())
            return
        command = self.app.command_for_label(text)
        if command is not None:
            await self.command(command, "")
            return
        step = registry.steps.get(self.state.step) if self.state and self.state.step else None
        if step is None:
            for take in registry.idle_text:
                if await take(self, text):
                    return
            self.say("not-understood")
            self.with_menu()
            return
        await step.handler(self, text, None)

    async def on_button(self, action: str) -> None:
        kind, _, value = action.partition(":")
        registry = self.app.registry
        if kind == "cmd" and value in registry.commands:
            await self.command(value, "")
            return
        if kind in registry.actions:
            pressed = registry.actions[kind]
            if await self.meets(pressed.needs):
                await pressed.handler(self, value)
            return
        step = self.state.step if self.state else None
        if step is None or not registry.step_answers(step, kind):
            self.say("button-stale")
            self.with_menu()
            return
        await registry.steps[step].handler(self, None, action)

    async def command(self, name: str, args: str) -> None:
        command = self.app.registry.commands[name]
        if await self.meets(command.needs):
            await command.handler(self, args)

    async def meets(self, needs: tuple[Requirement, ...]) -> bool:
        """Whether the turn meets what a command or button needs; the first that fails has said why."""
        for requirement in needs:
            if not await requirement(self):
                return False
        return True
