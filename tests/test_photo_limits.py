"""Flood and storage limits on meter photos: a few photos per chat a minute (the next answered once "one at a time",
the rest dropped, before any reading), and a photo store quota per account (a photo over it is neither kept nor read)."""
import dataclasses
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from core import metrics
from core.recognition import Recognition
from scheduler.chat_limit import LocalChatLimit, RedisChatLimit
from storage.models import PhotoRow
from tests.support.console import Talk, linked
from tests.support.demo import REDIS
from tests.support.pictures import draw_counter, jpeg

ONE_AT_A_TIME = "One photo at a time, please: wait a minute and send it again."
OVER_QUOTA = ("The photo was neither kept nor read: the photo store of this personal account is full. "
              "You can enter the reading in digits.")


class CountingReader:
    """Reads every photo as 12480 and counts the photos it was given."""

    def __init__(self) -> None:
        self.reads = 0

    async def read(self, content: bytes, *, digits=None, previous=None, meter_type="", zone_previous=()) -> Recognition:
        self.reads += 1
        return Recognition("12480", 0.99)


class Counted:
    """A metrics sink that remembers what was counted."""

    def __init__(self) -> None:
        self.counts: list[tuple[str, dict]] = []

    def count(self, name: str, amount: float = 1, **labels: str) -> None:
        self.counts.append((name, labels))

    def observe(self, name: str, value: float, **labels: str) -> None:
        pass


@pytest.fixture
def counted(monkeypatch) -> Counted:
    sink = Counted()
    monkeypatch.setattr(metrics, "sink", sink)
    return sink


@pytest.fixture
def photo(tmp_path):
    path = tmp_path / "meter.jpg"
    path.write_bytes(jpeg(draw_counter("12480")))
    return path


async def kept_photos(database) -> int:
    async with database.session() as session:
        return await session.scalar(select(func.count()).select_from(PhotoRow))


async def send_photos(talk: Talk, photo, count: int) -> list[str]:
    sent = []
    for _ in range(count):
        await talk.photo(photo)
        sent.append(talk.text)
    return sent


async def test_the_fourth_photo_in_a_minute_is_answered_once_and_the_fifth_silently(kabinet, tmp_path, photo,
                                                                                    demo_database, counted):
    kabinet.reader = reader = CountingReader()
    kabinet.photo_limit = LocalChatLimit(3)
    talk = Talk(kabinet, files=tmp_path / "out")
    await linked(talk)
    answers = await send_photos(talk, photo, 5)
    assert all("I read 12480 on the photo (meter 0123456)" in answer for answer in answers[:3])
    assert answers[3] == ONE_AT_A_TIME
    assert answers[4] == ""
    assert reader.reads == 3  # the flood never reached the reader
    assert await kept_photos(demo_database) == 3
    assert [labels for name, labels in counted.counts if name == "photos_refused"] == [{"reason": "flood"}] * 2
    # Text is not limited by the photo limit: the turn goes on.
    assert "accepted: 12480" in await talk.press(action="photo:yes")
    assert "/balance" in await talk.say("/help")


async def test_text_does_not_count_against_the_photo_limit_and_it_resets_after_the_minute(kabinet, tmp_path, photo,
                                                                                          clock):
    kabinet.reader = reader = CountingReader()
    kabinet.photo_limit = LocalChatLimit(3)
    talk = Talk(kabinet, language="uk", files=tmp_path / "out")
    await talk.say("/link 010000012345 Шевченко")
    await talk.say("1")  # consent
    for _ in range(5):
        await talk.say("/help")
    answers = await send_photos(talk, photo, 4)
    assert reader.reads == 3
    assert answers[3] == "Одне фото за раз, будь ласка: зачекайте хвилину і надішліть його ще раз."
    clock.now += timedelta(minutes=1)
    assert "12480" in (await send_photos(talk, photo, 1))[0]
    assert reader.reads == 4


async def test_processes_share_the_photo_limit_through_redis(kabinet, tmp_path, photo):
    chat = f"photos-{uuid.uuid4().hex}"
    updates = RedisChatLimit(REDIS, 20)
    first, second = updates.photos(3), RedisChatLimit(REDIS, 20).photos(3)
    kabinet.reader = reader = CountingReader()
    one = dataclasses.replace(kabinet, photo_limit=first)
    two = dataclasses.replace(kabinet, photo_limit=second)
    talks = [Talk(one, chat_id=chat, files=tmp_path / "out"), Talk(two, chat_id=chat, files=tmp_path / "out")]
    try:
        await linked(talks[0])
        answers = [(await send_photos(talks[n % 2], photo, 1))[0] for n in range(5)]
        assert reader.reads == 3
        assert answers[3:] == [ONE_AT_A_TIME, ""]
        assert first.local.counts == {} and second.local.counts == {}  # Redis answered every time
        assert first.prefix != updates.prefix  # photos are counted apart from the chat's updates
    finally:
        keys = [key async for key in first.redis.scan_iter(f"{first.prefix}{{console:{chat}}}*")]
        if keys:
            await first.redis.delete(*keys)
        await updates.close()
        await second.redis.aclose()


async def test_a_photo_over_the_accounts_quota_is_not_kept_nor_read_and_the_consumer_told(
        kabinet, tmp_path, photo, demo_database, counted):
    kabinet.reader = reader = CountingReader()
    kabinet.photo_quota = 2 * photo.stat().st_size + 10  # room for two photos
    talk = Talk(kabinet, files=tmp_path / "out")
    await linked(talk)
    for _ in range(2):
        assert "I read 12480" in (await send_photos(talk, photo, 1))[0]
        await talk.say("/cancel")
    text = (await send_photos(talk, photo, 1))[0]
    assert OVER_QUOTA in text
    assert "12480" not in text
    assert reader.reads == 2 and await kept_photos(demo_database) == 2
    assert ("photos_refused", {"reason": "quota"}) in counted.counts
    # The reading can still be typed.
    assert "accepted: 12481" in await talk.say("12481")


async def test_another_accounts_photos_are_not_counted(kabinet, tmp_path, photo, demo_database):
    kabinet.reader = CountingReader()
    kabinet.photo_quota = 2 * photo.stat().st_size + 10
    other = Talk(kabinet, chat_id="other", files=tmp_path / "out")
    await linked(other, "1705339110", "Дем'яненко")
    answers = []
    for _ in range(3):
        answers.append(await other.photo(photo))
        await other.say("/cancel")
    assert OVER_QUOTA in answers[2]  # the other account's store is full
    talk = Talk(kabinet, files=tmp_path / "out")
    await linked(talk)
    assert "I read 12480" in (await send_photos(talk, photo, 1))[0]
    assert await kept_photos(demo_database) == 3


def test_the_settings_set_both_limits(monkeypatch, database, tmp_path):
    from bot.app import build_kabinet
    from bot.settings import Settings

    monkeypatch.setenv("KABINET_CHAT_PHOTOS_PER_MINUTE", "2")
    monkeypatch.setenv("KABINET_PHOTO_QUOTA_MB", "0.5")
    kabinet = build_kabinet(Settings(_env_file=None, data_dir=tmp_path), database)
    assert (kabinet.photo_limit.per_minute, kabinet.photo_quota) == (2, 512 * 1024)
    unlimited = build_kabinet(Settings(_env_file=None, data_dir=tmp_path, photo_quota_mb=0), database)
    assert unlimited.photo_quota is None  # 0: no quota
