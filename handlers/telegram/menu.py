"""The command menu (setMyCommands), in every language the core speaks, for the commands it has."""
from __future__ import annotations

from aiogram import Bot
from aiogram.types import BotCommand

from collections.abc import Collection

from core.i18n import LANGUAGES, Translator

# The menu's order; a command shows once the core has it and the locales describe it.
MENU_ORDER = (
    "start", "balance", "reading", "history", "invoices", "meter", "outages", "service", "appeal", "contacts",
    "accounts", "link", "settings", "language", "forget", "help", "cancel",
)


def command_menu(translator: Translator, language: str, commands: Collection[str]) -> list[BotCommand]:
    return [
        BotCommand(command=name, description=translator(language, f"telegram-command-{name}"))
        for name in MENU_ORDER
        if name in commands and translator.has(language, f"telegram-command-{name}")
    ]


async def set_command_menu(bot: Bot, translator: Translator, commands: Collection[str]) -> None:
    """One menu per language, and the default language's for users whose language is none of ours, of the
    `commands` the Kabinet has."""
    for language in LANGUAGES:
        await bot.set_my_commands(command_menu(translator, language, commands), language_code=language)
    await bot.set_my_commands(command_menu(translator, translator.default_language, commands))
