"""/start, /help, /cancel, /language, and the main menu every flow ends with."""
from __future__ import annotations

from typing import TYPE_CHECKING

from core.flows.registry import Action, Command, Flow
from core.i18n import LANGUAGES
from core.services import SUPPORT_APPEAL

if TYPE_CHECKING:
    from core.conversation import Turn

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


async def cmd_start(turn: Turn, args: str) -> None:
    turn.go(None)
    turn.say("welcome")
    accounts = await turn.tx.linked_accounts(turn.chat.id)
    if accounts:
        turn.say("welcome-back", count=len(accounts))
        turn.with_menu()
    else:
        turn.say("welcome-link-first", buttons=[[turn.button("menu-link", "cmd:link")]])


async def cmd_help(turn: Turn, args: str) -> None:
    shown = turn.say("help")
    if not await turn.tx.linked_accounts(turn.chat.id):
        shown.text += "\n\n" + turn.t("help-unlinked-appeal", kind=turn.t(f"appeal-kind-{SUPPORT_APPEAL}"))  # what /appeal offers before an account is linked
    turn.with_menu()


async def cmd_cancel(turn: Turn, args: str) -> None:
    if turn.state is None:
        turn.say("cancel-nothing")
    else:
        turn.go(None)
        turn.say("cancelled")
    turn.with_menu()


async def cmd_language(turn: Turn, args: str) -> None:
    turn.go(None)
    wanted = args.strip().lower()
    if wanted:
        if wanted in LANGUAGES:
            await set_language(turn, wanted)
        else:
            turn.say("language-unknown", languages=", ".join(LANGUAGES))
        return
    turn.say(
        "language-choose",
        buttons=[[turn.button(f"language-name-{code}", f"lang:{code}") for code in LANGUAGES]],
    )


async def on_language_button(turn: Turn, code: str) -> None:
    """`lang:<code>`, a button of /language."""
    if code not in LANGUAGES:
        turn.say("button-stale")
        turn.with_menu()
        return
    await set_language(turn, code)


async def set_language(turn: Turn, code: str) -> None:
    turn.chat.language = code
    turn.language = code
    await turn.tx.save_chat(turn.chat)
    turn.go(None)
    turn.say("language-set")
    turn.with_menu()


FLOW = Flow(
    commands=(
        Command("start", cmd_start),
        Command("help", cmd_help),
        Command("cancel", cmd_cancel),
        Command("language", cmd_language),
    ),
    actions=(Action("lang", on_language_button),),
    menu=MENU,
    labels=TYPED_LABELS,
)
