"""What a flow declares (its commands, steps, buttons, menu entries) and the registry a Kabinet builds from them."""
from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from core.conversation import Kabinet, Turn
    from core.messages import Incoming

CommandHandler = Callable[["Turn", str], Awaitable[None]]  # (turn, the command's arguments)
StepHandler = Callable[["Turn", "str | None", "str | None"], Awaitable[None]]  # (turn, text, button action)
ActionHandler = Callable[["Turn", str], Awaitable[None]]  # (turn, what the button carries after "kind:")
# A condition a command or button needs: True when it holds; otherwise it has said why and the handler is not run.
Requirement = Callable[["Turn"], Awaitable[bool]]
# Text typed with nothing in progress and no command: True when the flow took it.
IdleTextHandler = Callable[["Turn", str], Awaitable[bool]]
PhotoHandler = Callable[["Turn", bytes], Awaitable[None]]
# A photo or a document sent while a step asks for files: the turn and the event that carries it.
FileHandler = Callable[["Turn", "Incoming"], Awaitable[None]]
# Work on a photo done before its turn's transaction opens (reading it): what it hands the turn
# (`turn.before_turn`), or None.
BeforeTurn = Callable[["Kabinet", "Incoming"], Awaitable["object | None"]]
MenuRow = tuple[tuple[str, str], ...]  # (command, message key of its label)
# What of a text typed to a command or step is kept among the chat's recent turns (core/recent_turns.py): a
# secret (the owner's surname, a mailed code) hidden.
KeptText = Callable[[str], str]


@dataclass(frozen=True)
class Command:
    """`/name ARGS`, a `cmd:name` button, or its menu label typed."""

    name: str
    handler: CommandHandler
    needs: tuple[Requirement, ...] = ()
    kept: KeptText | None = None  # how its arguments are kept among the recent turns; None: as typed
    # It reads the accounts' summaries (account_summaries) rather than their meters: the turn opens with them.
    summaries: bool = False


@dataclass(frozen=True)
class Step:
    """A question in progress; `buttons`: the button kinds it answers (any other is stale), `contact`: a shared
    phone number answers it as text, `files`: what takes a photo or a document sent meanwhile (not the meter
    photo flow), `kept`: how a text typed to it is kept among the recent turns (None: as typed)."""

    name: str
    handler: StepHandler
    buttons: tuple[str, ...] = ()
    contact: bool = False
    files: FileHandler | None = None
    kept: KeptText | None = None


@dataclass(frozen=True)
class Action:
    """A button `kind:value` that works in any step (e.g. "order:17" opens an order from a list)."""

    kind: str
    handler: ActionHandler
    needs: tuple[Requirement, ...] = ()


@dataclass(frozen=True)
class Flow:
    """One feature's entry points, declared by its module as `FLOW`."""

    commands: tuple[Command, ...] = ()
    steps: tuple[Step, ...] = ()
    actions: tuple[Action, ...] = ()
    menu: tuple[MenuRow, ...] = ()  # rows of the main menu
    labels: tuple[tuple[str, str], ...] = ()  # labels that press a command when typed, beyond the menu's
    idle_text: IdleTextHandler | None = None
    photo: PhotoHandler | None = None
    before_photo_turn: BeforeTurn | None = None


class Registry:
    """Every command, step and button of a set of flows; a name declared twice is a mistake, refused at start-up."""

    def __init__(self, flows: Iterable[Flow]) -> None:
        self.commands: dict[str, Command] = {}
        self.steps: dict[str, Step] = {}
        self.actions: dict[str, Action] = {}
        self.menu: list[MenuRow] = []
        self.labels: list[tuple[str, str]] = []
        self.idle_text: list[IdleTextHandler] = []
        self.photo: PhotoHandler | None = None
        self.before_photo_turn: BeforeTurn | None = None
        for flow in flows:
            for command in flow.commands:
                _add(self.commands, command.name, command, "command")
            for step in flow.steps:
                _add(self.steps, step.name, step, "step")
            for action in flow.actions:
                _add(self.actions, action.kind, action, "button kind")
            self.menu.extend(flow.menu)
            self.labels.extend(flow.labels)
            if flow.idle_text is not None:
                self.idle_text.append(flow.idle_text)
            if flow.photo is not None:
                if self.photo is not None:
                    raise ValueError("two flows take photos")
                self.photo = flow.photo
                self.before_photo_turn = flow.before_photo_turn
        # The main menu shows the commands these flows have.
        rows = [tuple(item for item in row if item[0] in self.commands) for row in self.menu]
        self.menu = [row for row in rows if row]

    def step_answers(self, step: str, kind: str) -> bool:
        """Whether a button of `kind` answers the step (else it is stale)."""
        found = self.steps.get(step)
        return found is not None and kind in found.buttons


Entry = TypeVar("Entry")


def _add(names: dict[str, Entry], name: str, entry: Entry, what: str) -> None:
    if name in names:
        raise ValueError(f"the {what} {name!r} is declared by two flows")
    names[name] = entry
