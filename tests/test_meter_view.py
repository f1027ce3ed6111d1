"""/meter: the meter's passport, its last reading and the verification warning."""
from tests.support.billing import NEW_ACCOUNT, NEW_SURNAME, add_bare_account
from tests.support.console import linked


async def test_meter_with_verification_due_soon(talk):
    await linked(talk)
    text = await talk.say("/meter")
    for expected in (
        "Meter 0123456 (account 010000012345)", "Type: НІК 2102-02", "Digits: 5", "Zones: 1 (all day)",
        "Transformation factor: 1", "Installed: 10.03.2016", "Next verification: by 15.01.2027",
        "Last reading: 12345, 31.10.2026 (receipt)", "must be verified by 15.01.2027 (46 days left)",
    ):
        assert expected in text, expected
    assert "Balance" in talk.buttons


async def test_three_zone_meter_with_k_factor_and_expired_verification(talk):
    await linked(talk, "020000054321", "Бондар")
    text = await talk.say("/meter")
    assert "Zones: 3 (peak, half-peak, night)" in text
    assert "Transformation factor: 40" in text
    assert "Last reading: peak: 101200 / half-peak: 54300 / night: 70010, 31.10.2026 (meter inspector)" in text
    assert "verification of meter 55501 expired on 01.10.2026" in text


async def test_every_linked_accounts_meter_is_shown(talk):
    await linked(talk)
    await linked(talk, "1705339110", "Дем'яненко")
    await talk.say("/meter")
    assert [reply.text.splitlines()[0] for reply in talk.replies] == [
        "Meter 0123456 (account 010000012345)", "Meter 7701234 (account 1705339110)",
    ]
    assert "verified" not in talk.replies[1].text  # its verification is years away


async def test_a_new_meter_with_no_readings_and_no_verification_date(talk, demo_database, tmp_path):
    await add_bare_account(demo_database, tmp_path / "exchange", meter=True)
    await linked(talk, NEW_ACCOUNT, NEW_SURNAME)
    text = await talk.say("/meter")
    assert "Meter 9900001" in text and "No readings yet" in text
    assert "next verification date is not known" in text


async def test_an_account_without_a_meter(talk, demo_database, tmp_path):
    await add_bare_account(demo_database, tmp_path / "exchange", meter=False)
    await linked(talk, NEW_ACCOUNT, NEW_SURNAME)
    assert "No meter is registered" in await talk.say("/meter")


async def test_meter_in_ukrainian_and_without_accounts(new_talk):
    talk = new_talk("u1", "uk")
    assert "не підключено жодного особового рахунку" in await talk.say("/meter")
    await talk.say("/link 010000012345 Шевченко")
    await talk.say("1")
    text = await talk.say("/meter")
    assert "Лічильник 0123456" in text and "Розрядність: 5" in text and "(квитанція)" in text
