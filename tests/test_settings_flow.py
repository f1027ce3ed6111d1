"""/settings: reminders on and off, quiet hours, language; kept per chat and erased by /forget."""
from datetime import time

import pytest

from core.model import ChatSettings
from core.preferences import parse_quiet_hours, settings_from_json, settings_to_json
from tests.support.console import linked


@pytest.mark.parametrize("typed, hours", [
    ("22-8", (time(22), time(8))), ("22:00-08:00", (time(22), time(8))), ("23.30 – 7.00", (time(23, 30), time(7))),
    ("0-6", (time(0), time(6))), ("13:15-14:45", (time(13, 15), time(14, 45))),
    ("25-8", None), ("22:60-8", None), ("22-22", None), ("22", None), ("night", None), ("", None),
])
def test_quiet_hours_typed(typed, hours):
    assert parse_quiet_hours(typed) == hours


def test_settings_json_keeps_defaults_for_what_is_missing():
    assert settings_from_json(None) == ChatSettings()
    assert ChatSettings().quiet_from == time(22) and ChatSettings().quiet_to == time(8)
    changed = ChatSettings(frozenset({"orders"}), None, None)
    assert settings_from_json(settings_to_json(changed)) == changed
    assert settings_from_json({"off": ["outages", "no-such-switch"]}) == ChatSettings(frozenset({"outages"}))


async def chat_id(kabinet, external_id: str = "c1") -> int:
    async with kabinet.store.transaction() as tx:
        return (await tx.chat("console", external_id, "en")).id


async def test_settings_show_all_on_and_quiet_hours_by_default(talk):
    text = await talk.say("/settings")
    assert "Quiet hours: 22:00–08:00" in text
    assert talk.buttons == [
        "Language: English", "✅ Invoices and debt", "✅ Reading window", "✅ Meter verification", "✅ Outages",
        "✅ Order status", "Quiet hours: 22:00–08:00",
    ]


async def test_reminders_toggle_and_are_stored_for_the_reminders(talk, kabinet):
    await talk.say("/settings")
    assert 'Reminders “Outages” turned off' in await talk.say("✅ Outages")  # says which (issue 18.8)
    assert "⬜ Outages" in talk.buttons
    await talk.say("✅ Order status")
    assert 'Reminders “Outages” turned on' in await talk.say("⬜ Outages")
    async with kabinet.store.transaction() as tx:
        settings = await tx.chat_settings(await chat_id(kabinet))
        assert settings.switched_off == {"orders"} and not settings.wants("orders") and settings.wants("outages")
        many = await tx.chats_settings([await chat_id(kabinet), 999])
        assert many[999] == ChatSettings() and many[await chat_id(kabinet)] == settings


async def test_quiet_hours_typed_refused_and_turned_off(talk, kabinet):
    await talk.say("/settings")
    assert "Enter quiet hours" in await talk.say("Quiet hours: 22:00–08:00")
    assert "not a time range" in await talk.say("from ten to six")
    assert "not a time range" in await talk.say("25-8")
    assert "Saved. Quiet hours: 23:30–07:00" in await talk.say("23:30-07:00")
    assert "Saved. Quiet hours: off" in await talk.say("/settings quiet off")
    assert "Saved. Quiet hours: 22:00–06:00" in await talk.say("/settings quiet 22-6")
    async with kabinet.store.transaction() as tx:
        settings = await tx.chat_settings(await chat_id(kabinet))
    assert (settings.quiet_from, settings.quiet_to) == (time(22), time(6))


async def test_language_from_settings(talk):
    await talk.say("/settings")
    await talk.say("Language: English")
    assert "Мову змінено" in await talk.say("Українська")
    assert "Тихі години: 22:00–08:00" in await talk.say("Налаштування")
    assert "✅ Відключення" in talk.buttons


async def test_forget_erases_the_settings(talk, kabinet):
    await linked(talk)
    await talk.say("/settings quiet off")
    old_id = await chat_id(kabinet)
    await talk.say("/forget")
    await talk.say("1")
    async with kabinet.store.transaction() as tx:
        assert await tx.chat_settings(old_id) == ChatSettings()


async def test_a_stale_reminder_button(talk):
    assert "no longer active" in await talk.press(action="remind:fireworks")


async def test_every_flow_from_the_main_menu(talk, clock):
    clock.set(2026, 11, 22, 8, 0)
    await linked(talk)
    await talk.say("/start")
    for label in ("Outages", "Services", "Appeals", "Settings"):
        assert label in talk.buttons
    assert "Planned outage" in await talk.say("Outages")
    assert "Which service" in await talk.say("Services")
    await talk.say("/start")
    assert "What is your appeal" in await talk.say("Appeals")
    await talk.say("/start")
    assert "Quiet hours" in await talk.say("Settings")
