"""Conversations through the console channel's core interface, read like the conversations they check."""
from datetime import timedelta

import pytest

from core.conversation import Kabinet
from storage.exchange import submitted_readings
from tests.support.console import Talk, linked


async def stored(database) -> list[dict]:
    async with database.session() as session:
        return await submitted_readings(session, None)


# ----- start, help, language, unknown input


async def test_start_offers_linking_when_nothing_is_linked(talk):
    text = await talk.say("/start")
    assert "Welcome" in text and "link your personal account" in text
    assert talk.buttons == ["Link account"]


async def test_ukrainian_is_the_default_and_russian_follows_the_messenger(new_talk):
    assert "Вітаємо" in await new_talk("u1", None).say("/start")
    assert "Вітаємо" in await new_talk("u2", "de").say("/start")
    assert "Добро пожаловать" in await new_talk("u3", "ru-RU").say("/start")


async def test_language_by_button_and_by_argument(talk):
    await talk.say("/language")
    assert talk.buttons == ["Українська", "English", "Русский"]
    assert "Мову змінено" in await talk.say("Українська")
    assert "Язык изменён" in await talk.say("/language ru")
    assert "Баланс" in talk.buttons and "Передать показания" in talk.buttons
    assert "Такого языка нет" in await talk.say("/language de")


async def test_unknown_command_empty_long_and_emoji_get_clear_answers(talk, demo_database):
    assert "Unknown command /frobnicate" in await talk.say("/frobnicate now")
    assert "empty" in await talk.say("   ")
    assert "too long" in await talk.say("x" * 10_000)
    assert "did not understand" in await talk.say("🙂🙂🙂")
    assert await stored(demo_database) == []


async def test_help_lists_the_commands(talk, kabinet):
    text = await talk.say("/help")
    for command in kabinet.registry.commands:
        if command != "start":
            assert f"/{command} " in text, command


# ----- linking


async def test_link_asks_consent_then_account_then_surname(talk):
    assert "consent" in await talk.say("/link")
    assert talk.buttons == ["I agree", "I do not agree"]
    assert "Consent recorded" in await talk.say("I AGREE")  # a label, typed in any case, presses it
    assert "Enter the account owner's surname" in await talk.say("01 000 0012345")
    assert "Account 010000012345 is linked" in await talk.say("шевченко")


async def test_declined_consent_links_nothing(talk):
    await talk.say("/link 010000012345 Шевченко")
    assert "Nothing was saved" in await talk.say("I do not agree")
    assert "No account is linked" in await talk.say("/balance")
    assert "consent" in await talk.say("/link 010000012345 Шевченко")  # asked again, not assumed


async def test_consent_answered_in_words(talk, new_talk):
    await talk.say("/link 010000012345 Шевченко")
    assert "Nothing was saved" in await talk.say("No.")
    await talk.say("/link 010000012345 Шевченко")
    assert "Nothing was saved" in await talk.say("ні")
    assert "No account is linked" in await talk.say("/balance")
    ukrainian = new_talk("c2", "uk")
    await ukrainian.say("/link 010000012345 Шевченко")
    assert "Нічого не збережено" in await ukrainian.say("НЕ ПОГОДЖУЮСЬ!")
    assert "consent" in await talk.say("/link 010000012345 Шевченко")
    text = await talk.say("yes")
    assert "Consent recorded" in text and "Account 010000012345 is linked" in text


async def test_surname_in_latin_letters_links(talk):
    await linked(talk, "1705339110", "Demianenko")
    assert "No account with this number and surname" in await talk.say("/link 010000012345 Shevchenkko")
    assert "4 attempts are left" in talk.text


async def test_link_by_eic_with_apostrophe_variant(talk):
    await linked(talk, "62z4815162342001", "ШЕВЧЕНКО")
    await linked(talk, "1705339110", "Дем’яненко")
    assert "010000012345" in await talk.say("/accounts") and "1705339110" in await talk.say("/accounts")


async def test_refusal_does_not_tell_unknown_account_from_wrong_surname(talk):
    await linked(talk)
    wrong_surname = await talk.say("/link 1705339110 Петренко")
    unknown_account = await talk.say("/link 1705339111 Дем'яненко")
    assert "No account with this number and surname" in wrong_surname
    assert wrong_surname.split(":")[0] == unknown_account.split(":")[0]


async def test_five_failures_an_hour_block_even_the_right_surname(talk, clock):
    await linked(talk)
    for left in (4, 3, 2, 1):
        assert f"{left} attempts are left" in await talk.say(f"/link 1705339110 Wrong{left}") or left == 1
    assert "Too many failed attempts" in await talk.say("/link 1705339110 Wrong")
    assert "Too many failed attempts" in await talk.say("/link 1705339110 Дем'яненко")
    clock.now += timedelta(hours=1, minutes=1)
    assert "Account 1705339110 is linked" in await talk.say("/link 1705339110 Дем'яненко")


async def test_the_limit_is_per_chat(talk, new_talk):
    await linked(talk)
    for _ in range(5):
        await talk.say("/link 1705339110 Wrong")
    assert "Too many" in await talk.say("/link 1705339110 Дем'яненко")
    other = new_talk("c2")
    await linked(other, "1705339110", "Дем'яненко")


async def test_malformed_account_number_is_not_counted_as_a_guess(talk):
    await linked(talk)
    for text in ("abc", "12", "🙂", "1" * 30):
        assert "does not look like a personal account" in await talk.say(f"/link {text} Шевченко")
    assert "Account 1705339110 is linked" in await talk.say("/link 1705339110 Дем'яненко")


async def test_one_account_in_two_chats_and_unlink(talk, new_talk):
    await linked(talk)
    other = new_talk("c2")
    await linked(other)
    await talk.say("/accounts")
    assert talk.buttons[:2] == ["Personal information 010000012345", "Unlink 010000012345"]
    assert "unlinked" in await talk.say("Unlink 010000012345")
    assert "No account is linked" in await talk.say("/balance")
    assert "010000012345" in await other.say("/balance")


async def test_unlink_button_of_someone_elses_account_is_stale(talk, new_talk):
    await linked(talk)
    other = new_talk("c2")
    await linked(other, "1705339110", "Дем'яненко")
    assert "no longer active" in await talk.press(action="unlink:2")
    assert "1705339110" in await other.say("/accounts")


# ----- balance


async def test_balance_owed_payment_invoice_tariff_and_verification(talk):
    await linked(talk)
    text = await talk.say("/balance")
    assert "To pay now: UAH 658.40." in text
    assert "Last payment: UAH 300.00, 10.11.2026" in text
    assert "Invoice for October 2026: UAH 712.80 for 165 kWh, due by 20.11.2026" in text
    assert "4.32 UAH/kWh" in text
    assert "must be verified by 15.01.2027 (46 days left)" in text


async def test_balance_overpaid_two_zone_prices_and_expired_verification(talk):
    await linked(talk, "1705339110", "Дем'яненко")
    text = await talk.say("/balance")
    assert "Overpaid by UAH 32.48: nothing to pay." in text
    assert "day: 4.32, night: 2.16 UAH/kWh" in text
    await linked(talk, "020000054321", "Бондар")
    assert "verification of meter 55501 expired on 01.10.2026" in await talk.say("/balance")


async def test_balance_without_account_offers_linking(talk):
    assert "No account is linked" in await talk.say("/balance")
    assert talk.buttons == ["Link account"]


# ----- readings


async def test_reading_accepted_with_consumption_and_cost_and_stored(talk, demo_database):
    await linked(talk)
    text = await talk.say("/reading 12500")
    assert "Reading of meter 0123456 accepted: 12500 (30.11.2026)" in text
    assert "Consumption: 155 kWh" in text
    assert "Estimated cost: UAH 669.60" in text
    rows = await stored(demo_database)
    assert [(r["account"], r["meter"], r["zone"], r["value"], r["source"], r["taken_on"]) for r in rows] == [
        ("010000012345", "0123456", 1, 12500, "console", "2026-11-30")
    ]


async def test_reading_asks_with_previous_value_when_no_argument(talk):
    await linked(talk)
    text = await talk.say("Submit reading")
    assert "a whole number of at most 5 digits" in text and "Previous reading: 12345 (31.10.2026)" in text
    assert "accepted" in await talk.say("12400")


@pytest.mark.parametrize("typed, answer", [
    ("abc", "is not a number"),
    ("12a45", "is not a number"),
    ("🙂", "is not a number"),
    ("-12500", "cannot be negative"),
    ("12500.5", "whole kWh only"),
    ("12500,5", "whole kWh only"),
    ("123456", "does not fit the meter's 5 digits"),
    ("12500 300", "1 values are needed"),
])
async def test_bad_reading_gets_a_clear_answer_and_changes_nothing(talk, demo_database, typed, answer):
    await linked(talk)
    await talk.say("/reading")
    assert answer in await talk.say(typed)
    assert await stored(demo_database) == []
    assert "accepted" in await talk.say("12400")  # still in the step: the next good value is taken


async def test_rollover_warned_then_confirmed(talk, demo_database):
    await linked(talk)
    text = await talk.say("/reading 00100")
    assert "passed through zero (5 digits), the consumption is 87,755 kWh" in text
    assert talk.buttons == ["Confirm", "Enter again"]
    assert await stored(demo_database) == []
    assert "Consumption: 87,755 kWh" in await talk.say("Confirm")
    assert [r["value"] for r in await stored(demo_database)] == [100]


async def test_rollover_re_entered(talk, demo_database):
    await linked(talk)
    await talk.say("/reading 100")
    assert "Enter the reading of meter 0123456" in await talk.say("Enter again")
    assert "Consumption: 55 kWh" in await talk.say("12400")
    assert [r["value"] for r in await stored(demo_database)] == [12400]


async def test_large_consumption_with_k_factor_is_confirmed(talk, demo_database):
    await linked(talk, "020000054321", "Бондар")
    text = await talk.say("/reading 102500 54900 70500")
    # (1300 + 600 + 490) × K 40 = 95,600 kWh: over 50 000
    assert "95,600 kWh is over 50,000 kWh" in text
    assert await stored(demo_database) == []
    text = await talk.say("Confirm")
    assert "Consumption: 95,600 kWh" in text and "K = 40" in text
    # peak 52 000 × 8,40 + half-peak 24 000 × 6,72 + night 19 600 × 3,36 = 663 936,00
    assert "Estimated cost: UAH 663,936.00" in text


async def test_two_zone_reading_one_value_per_zone(talk, demo_database):
    await linked(talk, "1705339110", "Дем'яненко")
    assert "2 values are needed (one per zone), you entered 1" in await talk.say("/reading 23600")
    text = await talk.say("/reading 23600 9900")
    assert "day: 23600 / night: 9900" in text and "Consumption: 174 kWh" in text
    assert "day: 144, night: 30" in text and "Estimated cost: UAH 686.88" in text
    assert sorted((r["zone"], r["value"]) for r in await stored(demo_database)) == [(1, 23600), (2, 9900)]


async def test_several_meters_ask_which_one_then_keep_the_values(talk, demo_database):
    await linked(talk)
    await linked(talk, "1705339110", "Дем'яненко")
    assert "Which meter" in await talk.say("/reading 23600 9900")
    assert talk.buttons == ["010000012345 — meter 0123456", "1705339110 — meter 7701234"]
    assert "Consumption: 174 kWh" in await talk.say("2")


@pytest.mark.parametrize("typed", ["12500", "12 500", "12,500", "12\u00a0500"])
async def test_a_number_from_the_main_menu_is_offered_as_the_reading(talk, demo_database, typed):
    """Issue 18.6: with one meter, a bare number is its reading once confirmed; thousands may be grouped."""
    await linked(talk)
    assert "Submit 12500 as the reading of meter 0123456?" in await talk.say(typed)
    assert talk.buttons == ["Confirm", "Enter again"]
    assert await stored(demo_database) == []
    assert "Consumption: 155 kWh" in await talk.say("Confirm")
    assert [r["value"] for r in await stored(demo_database)] == [12500]


async def test_a_number_from_the_main_menu_with_several_meters_asks_which(talk, demo_database):
    await linked(talk)
    await linked(talk, "1705339110", "Дем'яненко")
    assert "Which meter" in await talk.say("12500")
    assert "Reading of meter 0123456 accepted: 12500" in await talk.say("1")


async def test_a_number_that_fits_no_meter_is_not_understood(talk, demo_database):
    await linked(talk)
    assert "I did not understand" in await talk.say("0501234567")  # a phone number, not a 5-digit reading
    assert "I did not understand" in await talk.say("12,5")
    assert await stored(demo_database) == []


async def test_second_submission_the_same_day_replaces_the_first(talk, demo_database):
    await linked(talk)
    await talk.say("/reading 12500")
    text = await talk.say("/reading 12600")
    assert "Consumption: 255 kWh" in text  # still against 31.10's 12345
    assert "This replaces 12500 sent today at 10:00." in text
    # The export keeps the replaced submission, marked, before the one that holds the value now.
    assert [(r["value"], bool(r["replaced_at"])) for r in await stored(demo_database)] == [(12500, True),
                                                                                          (12600, False)]


async def test_window_closed_says_when_it_opens_and_stores_nothing(talk, clock, demo_database):
    await linked(talk)
    clock.set(2026, 11, 15, 12, 0)
    text = await talk.say("/reading 12500")
    assert "accepted from 29.11.2026 to 03.12.2026" in text and "closed" in text
    assert await stored(demo_database) == []
    clock.set(2026, 12, 3, 23, 30)
    assert "accepted" in await talk.say("/reading 12500")


async def test_window_closing_while_confirming_stores_nothing(talk, clock, demo_database):
    await linked(talk)
    await talk.say("/reading 100")
    clock.set(2026, 12, 4, 0, 5)
    assert "closed" in await talk.say("Confirm")
    assert await stored(demo_database) == []


async def test_state_survives_a_new_kabinet_instance(talk, kabinet, demo_database, tmp_path):
    await linked(talk)
    await talk.say("/reading 100")  # waiting for the rollover to be confirmed
    restarted = Kabinet(store=demo_database, photos=kabinet.photos, translator=kabinet.translator,
                        window=kabinet.window, timezone=kabinet.timezone, clock=kabinet.clock)
    again = Talk(restarted, files=tmp_path)
    assert "Consumption: 87,755 kWh" in await again.press(action="reading:confirm")


async def test_cancel_and_stale_button(talk, demo_database):
    await linked(talk)
    assert "nothing to cancel" in await talk.say("/cancel")
    await talk.say("/reading 100")
    assert "Cancelled" in await talk.say("/cancel")
    assert "no longer active" in await talk.press(action="reading:confirm")
    assert await stored(demo_database) == []


async def test_reading_without_linked_account(talk):
    assert "No account is linked" in await talk.say("/reading 12345")


async def test_photo_is_kept_and_the_value_asked_when_it_cannot_be_read(talk, demo_database, tmp_path):
    await linked(talk)
    picture = tmp_path / "meter.png"
    from PIL import Image

    Image.new("RGB", (64, 32), "white").save(picture)
    text = await talk.photo(picture)
    assert "Enter the reading of meter 0123456" in text
    assert "accepted" in await talk.say("12450")
    rows = await stored(demo_database)
    assert rows[0]["value"] == 12450 and rows[0]["photo"].endswith(".png")


async def test_missing_photo_file_is_answered(talk, tmp_path):
    await linked(talk)
    assert "did not arrive" in await talk.photo(tmp_path / "nope.jpg")


async def test_forget_erases_the_chat_but_keeps_readings(talk, demo_database):
    await linked(talk)
    await talk.say("/reading 12500")
    assert "erase this chat's data" in await talk.say("/forget")
    assert "Cancelled" in await talk.say("No")
    assert "010000012345" in await talk.say("/accounts")
    await talk.say("/forget")
    assert "erased" in await talk.say("Yes, erase")
    assert "No account is linked" in await talk.say("/balance")
    assert "consent" in await talk.say("/link 010000012345 Шевченко")
    rows = await stored(demo_database)
    assert [r["value"] for r in rows] == [12500]


# ----- guessing other people's accounts (issue 16.1)


async def test_forget_does_not_reset_the_failed_link_limit(talk):
    await linked(talk)
    for _ in range(5):
        await talk.say("/link 1705339110 Wrong")
    await talk.say("/forget")
    assert "erased" in await talk.say("Yes, erase")
    assert "consent" in await talk.say("/link 1705339110 Дем'яненко")
    assert "Too many failed attempts" in await talk.say("1")


async def test_an_account_guessed_at_from_many_chats_is_refused_for_a_day(talk, new_talk, clock):
    await linked(talk)
    wrong_surname = await talk.say("/link 1705339110 Wrong")  # the first of 10 failures on this account today
    for number in range(3):  # 3 chats, 3 guesses each: under each chat's limit of 5 an hour
        guesser = new_talk(f"guesser{number}")
        await guesser.say("/link 1705339110 Petrenko")
        await guesser.say("1")
        for _ in range(2):
            assert "No account with this number and surname" in await guesser.say("/link 1705339110 Petrenko")
    owner = new_talk("owner")
    await owner.say("/link 1705339110 Дем'яненко")
    refused = await owner.say("1")
    # Word for word a wrong surname's refusal: nothing tells that the account exists or is locked.
    assert refused.split("\n")[-1] == wrong_surname and "4 attempts are left" in wrong_surname
    await linked(owner)  # other accounts link as before
    clock.now += timedelta(hours=23)
    assert "No account with this number" in await owner.say("/link 1705339110 Дем'яненко")
    clock.now += timedelta(hours=1, minutes=1)  # a rolling day: the failures of a day ago no longer count
    assert "Account 1705339110 is linked" in await owner.say("/link 1705339110 Дем'яненко")


async def test_failed_link_attempts_are_counted_for_an_alarm(talk, monkeypatch):
    import core.metrics
    from bot import metrics

    monkeypatch.setattr(core.metrics, "sink", metrics.PrometheusSink())

    def failures() -> float:
        return metrics.REGISTRY.get_sample_value("kabinet_link_failures_total", {"channel": "console"}) or 0.0

    before = failures()
    await linked(talk)
    await talk.say("/link 1705339110 Wrong")
    await talk.say("/link 1705339111 Дем'яненко")  # no such account: a failure all the same
    await talk.say("/link abc Дем'яненко")  # not an account number: not a guess
    assert failures() - before == 2
    assert "kabinet_link_failures_total" in metrics.exposition()[0].decode()


async def test_accounts_are_linked_only_in_a_private_chat(kabinet, talk):
    from core.messages import Incoming

    async def in_group(text: str) -> str:
        replies = await kabinet.handle(Incoming("console", "group", text=text, language="en", private=False))
        return "\n".join(reply.text for reply in replies)

    assert "only in a private chat" in await in_group("/link 010000012345 Шевченко")
    assert "only in a private chat" in await in_group("Link account")
    assert "only in a private chat" in await in_group("/link")
    replies = await kabinet.handle(Incoming.pressed("console", "group", "consent:yes", "en"))
    assert "no longer active" in replies[0].text  # no consent step was opened
    assert "No account is linked" in await in_group("/balance")
    await linked(talk)  # a private chat links as before
