"""/settings: language, which reminders come, quiet hours and (when configured) e-mail; kept per chat."""
from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from core.flows.email import settings_button
from core.flows.registry import Action, Command, Flow, Step
from core.model import ChatSettings
from core.preferences import REMINDER_SWITCHES, parse_quiet_hours

if TYPE_CHECKING:
    from core.conversation import Turn


def quiet_text(turn: Turn, settings: ChatSettings) -> str:
    if settings.quiet_from is None or settings.quiet_to is None:
        return turn.t("settings-quiet-off")
    return turn.t("settings-quiet-range", start=settings.quiet_from.strftime("%H:%M"),
                  end=settings.quiet_to.strftime("%H:%M"))


async def show_settings(turn: Turn, key: str = "settings-summary", **args: object) -> None:
    settings = await turn.tx.chat_settings(turn.chat.id)
    rows = [[turn.button("settings-language-button", "cmd:language", name=turn.t(f"language-name-{turn.language}"))]]
    rows.extend(
        [turn.button("settings-switch", f"remind:{switch}", on="yes" if settings.wants(switch) else "no",
                     name=turn.t(f"settings-reminder-{switch}"))]
        for switch in REMINDER_SWITCHES
    )
    rows.append([turn.button("settings-quiet-button", "quiet:ask", quiet=quiet_text(turn, settings))])
    email = await settings_button(turn)
    if email:
        rows.append(email)
    turn.say(key, buttons=rows, quiet=quiet_text(turn, settings), **args)


async def save(turn: Turn, settings: ChatSettings) -> None:
    await turn.tx.save_chat_settings(turn.chat.id, settings, turn.app.clock())


async def cmd_settings(turn: Turn, args: str) -> None:
    """`/settings quiet 22-8` or `/settings quiet off` sets quiet hours at once."""
    turn.go(None)
    word, _, rest = args.partition(" ")
    if word.lower() == "quiet" and rest.strip():
        await set_quiet(turn, rest.strip())
        return
    await show_settings(turn)


async def toggle_reminder(turn: Turn, switch: str) -> None:
    if switch not in REMINDER_SWITCHES:
        turn.say("button-stale")
        turn.with_menu()
        return
    settings = await turn.tx.chat_settings(turn.chat.id)
    off = settings.switched_off ^ {switch}
    await save(turn, replace(settings, switched_off=frozenset(off)))
    turn.go(None)
    await show_settings(turn, "settings-reminder-on" if switch not in off else "settings-reminder-off",
                        name=turn.t(f"settings-reminder-{switch}"))


async def quiet_button(turn: Turn, value: str) -> None:
    if value == "off":
        await set_quiet(turn, "off")
        return
    turn.go("settings-quiet")
    turn.say("settings-quiet-ask", buttons=[[turn.button("settings-quiet-turn-off", "quiet:off")]])


async def step_quiet(turn: Turn, text: str | None, action: str | None) -> None:
    await set_quiet(turn, text or "")


async def set_quiet(turn: Turn, text: str) -> None:
    settings = await turn.tx.chat_settings(turn.chat.id)
    if text.strip().casefold() == "off":
        settings = replace(settings, quiet_from=None, quiet_to=None)
    else:
        hours = parse_quiet_hours(text)
        if hours is None:
            turn.go("settings-quiet")
            turn.say("settings-quiet-bad", buttons=[[turn.button("settings-quiet-turn-off", "quiet:off")]])
            return
        settings = replace(settings, quiet_from=hours[0], quiet_to=hours[1])
    await save(turn, settings)
    turn.go(None)
    await show_settings(turn, "settings-saved")


FLOW = Flow(
    commands=(Command("settings", cmd_settings),),
    steps=(Step("settings-quiet", step_quiet),),
    actions=(Action("remind", toggle_reminder), Action("quiet", quiet_button)),
)
