"""The photo archive failing (a full disk, a broken folder): the reading still goes through, the failure is said.

The disk is the edge of the world here: a full one is an archive whose save raises ENOSPC; a broken
folder is real (the photo root is a file, so the real FilePhotoArchive cannot make its folders).
"""
from __future__ import annotations

import errno
import io
import logging

import pytest
from PIL import Image

from storage.exchange import submitted_readings
from storage.photos import FilePhotoArchive
from tests.support.console import linked
from tests.support.pictures import draw_counter, jpeg

SORRY = "Sorry, something went wrong on our side"
NOT_KEPT = "I could not keep the photo as evidence"


class FullDisk(FilePhotoArchive):
    def __init__(self, root) -> None:
        super().__init__(root)
        self.attempts = 0

    def save(self, content, received_at):
        self.attempts += 1
        raise OSError(errno.ENOSPC, "No space left on device", str(self.root))


async def stored(database):
    async with database.session() as session:
        return await submitted_readings(session, None)


@pytest.fixture
def full_disk(kabinet, tmp_path) -> FullDisk:
    kabinet.photos = FullDisk(tmp_path / "photos")
    return kabinet.photos


async def test_full_disk_photo_is_reported_and_the_typed_reading_accepted(
        talk, full_disk, demo_database, tmp_path, caplog):
    await linked(talk)
    photo = tmp_path / "meter.jpg"
    photo.write_bytes(jpeg(draw_counter("12480")))
    with caplog.at_level(logging.ERROR):
        text = await talk.photo(photo)
    assert full_disk.attempts == 1
    assert SORRY not in text, text
    assert NOT_KEPT in text and "Enter the reading of meter 0123456" in text, text
    assert any("No space left on device" in (r.exc_text or "") or "No space left" in r.getMessage()
               for r in caplog.records if r.levelno >= logging.ERROR), caplog.text
    assert "accepted: 12500" in await talk.say("12500")
    rows = await stored(demo_database)
    assert [(r["value"], r["photo"]) for r in rows] == [(12500, "")]


async def test_full_disk_photo_still_read_and_confirmed(kabinet, talk, full_disk, demo_database, tmp_path,
                                                        photo_reader):
    kabinet.reader = photo_reader
    await linked(talk)
    photo = tmp_path / "meter.jpg"
    photo.write_bytes(jpeg(draw_counter("12480")))
    text = await talk.photo(photo)
    assert NOT_KEPT in text and "I read 12480 on the photo" in text, text
    assert "accepted: 12480" in await talk.say("Yes, submit it")
    assert [(r["value"], r["photo"]) for r in await stored(demo_database)] == [(12480, "")]


async def test_photo_folder_that_cannot_be_made_is_reported_with_two_meters(kabinet, talk, demo_database, tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("the photo root is a file")
    kabinet.photos = FilePhotoArchive(blocker)
    await linked(talk)
    await linked(talk, "1705339110", "Дем'яненко")
    photo = tmp_path / "meter.jpg"
    photo.write_bytes(jpeg(draw_counter("12480")))
    text = await talk.photo(photo)
    assert SORRY not in text and NOT_KEPT in text and "Which meter" in text, text
    assert "Enter the reading of meter 0123456" in await talk.say("1")
    assert "accepted: 12500" in await talk.say("12500")
    assert [(r["value"], r["photo"]) for r in await stored(demo_database)] == [(12500, "")]


async def test_a_photo_kept_before_the_disk_filled_stays_with_its_reading(kabinet, talk, demo_database, tmp_path):
    """The working archive is unchanged by the fault handling: a kept photo goes with its reading."""
    await linked(talk)
    photo = tmp_path / "meter.jpg"
    photo.write_bytes(jpeg(draw_counter("12480")))
    text = await talk.photo(photo)
    assert NOT_KEPT not in text and "kept as evidence" in text, text
    assert "accepted: 12500" in await talk.say("12500")
    [row] = await stored(demo_database)
    assert row["photo"].endswith(".jpg")


async def test_a_huge_picture_in_a_small_file_is_refused_in_the_chats_language(kabinet, talk, tmp_path,
                                                                               photo_reader):
    """The issue's 7740x7740 WebP of about 100 KB: told it is too large, nothing kept, the reading can be typed."""
    kabinet.reader = photo_reader
    huge = tmp_path / "meter.webp"
    out = io.BytesIO()
    Image.new("RGB", (7740, 7740), (200, 60, 60)).save(out, "WEBP")
    huge.write_bytes(out.getvalue())
    await linked(talk)
    text = await talk.photo(huge)
    assert "The image is too large" in text and SORRY not in text, text
    await talk.say("/language uk")
    text = await talk.photo(huge)
    assert "Зображення завелике" in text and SORRY not in text, text
    assert "Передати 12500 як показники" in await talk.say("12500")
    assert not (tmp_path / "photos").exists() or not any((tmp_path / "photos").rglob("*.*"))
