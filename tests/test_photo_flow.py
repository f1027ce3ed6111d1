"""A meter photo in the conversation, read by the real recognizer, confirmed or corrected."""
import csv
import io

import pytest

from storage.exchange import submitted_readings, write_export
from tests.support.console import Talk, linked
from tests.support.pictures import draw_counter, jpeg


@pytest.fixture
def reading_talk(kabinet, photo_reader, tmp_path):
    kabinet.reader = photo_reader
    return Talk(kabinet, files=tmp_path / "out")


async def stored(database):
    async with database.session() as session:
        return await submitted_readings(session, None)


async def test_photo_read_confirmed_and_kept_with_the_reading(reading_talk, demo_database, tmp_path):
    talk = reading_talk
    await linked(talk)
    photo = tmp_path / "meter.jpg"
    photo.write_bytes(jpeg(draw_counter("12480")))
    text = await talk.photo(photo)
    assert "I read 12480 on the photo (meter 0123456)" in text
    assert talk.buttons == ["Yes, submit it", "I'll type it"]
    assert await stored(demo_database) == []  # nothing is submitted before the consumer confirms
    text = await talk.say("Yes, submit it")
    assert "accepted: 12480" in text and "Consumption: 135 kWh" in text
    rows = await stored(demo_database)
    assert rows[0]["value"] == 12480 and rows[0]["photo"].endswith(".jpg")


async def test_photo_read_then_corrected_by_typing(reading_talk, demo_database, tmp_path):
    talk = reading_talk
    await linked(talk)
    photo = tmp_path / "meter.jpg"
    photo.write_bytes(jpeg(draw_counter("12480")))
    await talk.photo(photo)
    assert "Enter the reading" in await talk.say("I'll type it")
    assert "accepted: 12481" in await talk.say("12481")
    rows = await stored(demo_database)
    assert rows[0]["value"] == 12481 and rows[0]["photo"]


async def test_something_else_is_kept_and_the_value_asked(reading_talk, demo_database, tmp_path):
    talk = reading_talk
    await linked(talk)
    from PIL import Image

    photo = tmp_path / "cat.png"
    Image.new("RGB", (400, 300), (200, 120, 60)).save(photo)
    text = await talk.photo(photo)
    assert "could not read the meter" in text and "Enter the reading of meter 0123456" in text


async def test_a_broken_reader_keeps_the_photo_and_asks_for_the_value(kabinet, demo_database, tmp_path):
    from functools import partial

    from core.recognition import RecognitionPool
    from core.recognition.lines import LineMeterReader

    # Installed without its model files.
    async with RecognitionPool(0, make_reader=partial(LineMeterReader, paths=[])) as kabinet.reader:
        talk = Talk(kabinet, files=tmp_path / "out")
        await linked(talk)
        photo = tmp_path / "meter.jpg"
        photo.write_bytes(jpeg(draw_counter("12480")))
        text = await talk.photo(photo)
        assert "photo is kept" in text and "Enter the reading of meter 0123456" in text
        assert "accepted: 12480" in await talk.say("12480")
    rows = await stored(demo_database)
    assert rows[0]["value"] == 12480 and rows[0]["photo"].endswith(".jpg")


async def test_not_an_image_is_refused_and_nothing_kept(reading_talk, demo_database, tmp_path):
    talk = reading_talk
    await linked(talk)
    fake = tmp_path / "meter.jpg"
    fake.write_bytes(b"%PDF-1.4 this is not a photo")
    assert "does not look like a photo" in await talk.photo(fake)
    assert not (tmp_path / "photos").exists() or not any((tmp_path / "photos").rglob("*.*"))


async def test_photo_with_two_meters_asks_which_then_reads_it(reading_talk, demo_database, tmp_path):
    talk = reading_talk
    await linked(talk)
    await linked(talk, "1705339110", "Дем'яненко")
    photo = tmp_path / "meter.jpg"
    photo.write_bytes(jpeg(draw_counter("12480")))
    assert "Which meter" in await talk.photo(photo)
    assert "I read 12480" in await talk.say("1")


async def test_a_second_reading_the_same_day_says_what_it_replaces_and_the_export_keeps_the_first_photo(
        reading_talk, demo_database, tmp_path, clock):
    talk = reading_talk
    await linked(talk)
    photo = tmp_path / "meter.jpg"
    photo.write_bytes(jpeg(draw_counter("12480")))
    await talk.photo(photo)
    clock.set(2026, 11, 30, 10, 14)
    text = await talk.say("Yes, submit it")
    assert "accepted: 12480" in text and "replaces" not in text
    clock.set(2026, 11, 30, 11, 2)
    text = await talk.say("/reading 12490")
    assert "accepted: 12490" in text
    assert "This replaces 12480 sent today at 10:14." in text  # Kyiv time, not UTC's 08:14
    first, second = await stored(demo_database)
    assert (first["value"], second["value"]) == (12480, 12490) and first["id"] == second["id"]
    assert first["photo"].endswith(".jpg") and first["replaced_at"] == clock().isoformat()
    assert second["photo"] == "" and second["replaced_at"] == ""
    out = io.StringIO()
    write_export([first, second], out, "csv")
    assert [row["photo"] for row in csv.DictReader(io.StringIO(out.getvalue()))] == [first["photo"], ""]


async def test_the_replaced_reading_is_named_in_the_chat_language_with_its_zones(new_talk, clock):
    talk = new_talk("u1")
    await linked(talk, "1705339110", "Дем'яненко")
    await talk.say("/language uk")
    assert "прийнято" in await talk.say("/reading 23600 9900")
    clock.set(2026, 11, 30, 18, 45)
    assert "Вони замінюють показники день: 23600 / ніч: 9900, передані сьогодні о 10:00." in await talk.say(
        "/reading 23610 9905")
