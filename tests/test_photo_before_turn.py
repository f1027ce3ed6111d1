"""A meter photo is read before its turn's transaction opens, by a bounded reader: the bot answers others meanwhile,
and a photo the reader has no room for is answered at once, with nothing kept."""
import asyncio
import threading
from contextlib import asynccontextmanager

from core.recognition import Recognition, RecognitionPool
from tests.support.console import Talk, linked
from tests.support.pictures import draw_counter, jpeg


class WatchedStore:
    """The store, counting the transactions open at each moment."""

    def __init__(self, store) -> None:
        self.store = store
        self.open = 0

    def __getattr__(self, name):
        return getattr(self.store, name)

    @asynccontextmanager
    async def transaction(self):
        async with self.store.transaction() as tx:
            self.open += 1
            try:
                yield tx
            finally:
                self.open -= 1


class StandInReader:
    """Reads every photo as 12480, noting how many transactions were open while it read."""

    def __init__(self, store: WatchedStore) -> None:
        self.store = store
        self.open_while_reading: list[int] = []

    async def read(self, content: bytes, *, digits=None, previous=None, meter_type="", zone_previous=()) -> Recognition:
        self.open_while_reading.append(self.store.open)
        return Recognition("12480", 0.99)


async def test_a_photo_is_read_with_no_transaction_open(kabinet, tmp_path):
    kabinet.store = WatchedStore(kabinet.store)
    kabinet.reader = reader = StandInReader(kabinet.store)
    talk = Talk(kabinet, files=tmp_path / "out")
    await linked(talk)
    photo = tmp_path / "meter.jpg"
    photo.write_bytes(jpeg(draw_counter("12480")))
    assert "I read 12480 on the photo (meter 0123456)" in await talk.photo(photo)
    assert reader.open_while_reading == [0]  # read once, before the turn opened its transaction
    assert "accepted: 12480" in await talk.say("Yes, submit it")


class Blocking:
    """A reader that holds each photo until released (a slow 12 MP photo), in the pool's thread."""

    def __init__(self) -> None:
        self.reading = threading.Event()
        self.release = threading.Event()

    def read(self, image: bytes, *, digits=None, previous=None, meter_type="", zone_previous=()) -> Recognition:
        self.reading.set()
        assert self.release.wait(30)
        return Recognition("12480", 0.99)


async def test_a_photo_the_reader_has_no_room_for_is_answered_at_once_and_nothing_is_kept(kabinet, tmp_path):
    blocking = Blocking()
    first, second = Talk(kabinet, chat_id="c1", files=tmp_path / "out"), Talk(kabinet, chat_id="c2",
                                                                             files=tmp_path / "out")
    await linked(first)
    await linked(second)
    photo = tmp_path / "meter.jpg"
    photo.write_bytes(jpeg(draw_counter("12480")))
    async with RecognitionPool(0, queue=0, make_reader=lambda: blocking) as kabinet.reader:
        reading = asyncio.create_task(first.photo(photo))
        assert await asyncio.to_thread(blocking.reading.wait, 30)
        kept_before = sorted((tmp_path / "photos").rglob("*.jpg")) if (tmp_path / "photos").exists() else []
        busy = await asyncio.wait_for(second.photo(photo), 10)  # answered while the first is still being read
        assert "Many photos right now" in busy and "send it again in a minute" in busy
        assert not reading.done()
        kept_after = sorted((tmp_path / "photos").rglob("*.jpg")) if (tmp_path / "photos").exists() else []
        assert kept_after == kept_before  # nothing of the refused photo is kept
        balance = await asyncio.wait_for(second.say("/balance"), 10)  # the bot answers the chat meanwhile
        assert "UAH" in balance
        blocking.release.set()
        assert "I read 12480" in await reading
        # The refused chat is where it was: the photo, sent again, is read.
        assert "I read 12480" in await second.photo(photo)


async def test_a_photo_delivered_again_while_the_reader_is_full_is_not_told_to_be_sent_again(kabinet, tmp_path):
    """Reviewed: a messenger's redelivery of a photo already taken is a duplicate, even when the reader is full
    (another chat's photo holds it): it must not be told "send it again"."""
    from core.messages import EventKind, Incoming, Outcome
    from handlers.console.channel import CHANNEL

    blocking = Blocking()
    mine, other = Talk(kabinet, chat_id="c1", files=tmp_path / "out"), Talk(kabinet, chat_id="c2",
                                                                           files=tmp_path / "out")
    await linked(mine)
    await linked(other)
    photo = jpeg(draw_counter("12480"))
    event = Incoming(CHANNEL, "c1", EventKind.PHOTO, photo=photo, delivery_key="upd-1", language="en")
    async with RecognitionPool(0, queue=0, make_reader=lambda: blocking) as kabinet.reader:
        blocking.release.set()
        done = await kabinet.process(event)  # taken: the reading is offered
        blocking.release.clear()
        holding = asyncio.create_task(other.say("/photo " + str(_saved(tmp_path, photo))))
        blocking.reading.clear()
        assert await asyncio.to_thread(blocking.reading.wait, 30)  # the other chat's photo holds the reader
        again = await asyncio.wait_for(kabinet.process(event), 10)  # the same update, delivered again
        blocking.release.set()
        await holding
    assert done.outcome is Outcome.DONE and "I read 12480" in done.replies[0].text
    assert again.outcome is Outcome.DUPLICATE and again.replies == []


def _saved(folder, content: bytes):
    path = folder / "meter.jpg"
    path.write_bytes(content)
    return path
