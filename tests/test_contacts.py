"""/contacts from the utility's contacts.csv; the emergency line offered with outages and a "no power" appeal (issue 19.2)."""
from __future__ import annotations

from datetime import datetime

from tests.support.billing import import_files
from tests.support.console import linked
from tests.support.demo import KYIV

CONTACTS = (
    "contact,kind,label,value,hours\n"
    "cc,call-centre,Контакт-центр,0 800 300 000,пн–пт 8:00–20:00\n"
    "sos,emergency,Аварійна служба,104,\n"
    "mail,email,Пошта,info@demo-energo.ua,\n"
    "office-1,office,ЦОК Харків,\"м. Харків, вул. Плеханівська, 126\",пн–пт 9:00–17:00\n"
)


async def test_contacts_are_listed_in_the_order_of_the_file(talk, demo_database, tmp_path):
    assert "have not been loaded yet" in await talk.say("/contacts")
    await import_files(demo_database, tmp_path / "exchange", {"contacts.csv": CONTACTS})
    text = await talk.say("/contacts")
    assert text.splitlines()[1:] == [
        "☎ Контакт-центр: 0 800 300 000 (пн–пт 8:00–20:00)",
        "⚡ Аварійна служба: 104",
        "✉ Пошта: info@demo-energo.ua",
        "🏢 ЦОК Харків: м. Харків, вул. Плеханівська, 126 (пн–пт 9:00–17:00)",
    ], text


async def test_the_emergency_line_comes_with_outages_and_a_no_power_appeal(talk, demo_database, tmp_path, clock):
    await import_files(demo_database, tmp_path / "exchange", {"contacts.csv": CONTACTS})
    await linked(talk, "1705339110", "Дем'яненко")  # an emergency outage touches it (the demo's EM-2026-0412)
    clock.now = datetime(2026, 11, 22, 9, 0, tzinfo=KYIV)
    assert "Emergency service (day and night): 104" in await talk.say("/outages")
    await talk.say("/appeal Світла немає з ранку")
    assert "Emergency service (day and night): 104" in await talk.say("No electricity")


async def test_the_emergency_line_is_offered_before_a_no_power_appeal_is_written(talk, demo_database, tmp_path):
    await import_files(demo_database, tmp_path / "exchange", {"contacts.csv": CONTACTS})
    await linked(talk)
    await talk.say("/appeal")
    asked = await talk.say("No electricity")
    assert "Describe the matter" in asked and "Emergency service (day and night): 104" in asked
    await talk.say("/cancel")
    await talk.say("/appeal")
    assert "104" not in await talk.say("Meter")


async def test_a_bad_contact_kind_is_refused_with_file_and_line(talk, demo_database, tmp_path):
    from storage.exchange import ImportRefused

    try:
        await import_files(demo_database, tmp_path / "exchange",
                           {"contacts.csv": "contact,kind,label,value,hours\nx,fax,Факс,123,\n"})
    except ImportRefused as refusal:
        assert [(p.file, p.line) for p in refusal.problems] == [("contacts.csv", 2)]
        assert "'fax' is not one of" in refusal.problems[0].reason
    else:
        raise AssertionError("a fax was imported")


async def test_an_outage_notice_offers_the_emergency_line(talk, kabinet, demo_database, tmp_path, clock):
    from scheduler.jobs import Planner
    from storage.scheduling import SqlOutbox
    from tests.support.reminders import RecordingSender, dispatcher_for

    await import_files(demo_database, tmp_path / "exchange", {"contacts.csv": CONTACTS})
    await linked(talk, "1705339110", "Дем'яненко")
    clock.now = datetime(2026, 11, 22, 9, 0, tzinfo=KYIV)
    assert (await Planner(SqlOutbox(demo_database), kabinet.window, KYIV, clock).run("outages"))[0] == 1
    sender = RecordingSender()
    await dispatcher_for(demo_database, kabinet, clock, sender).run_once()
    [(_, text)] = sender.sent
    assert text.startswith("⚡ Emergency outage since") and text.endswith("Emergency service (day and night): 104")
