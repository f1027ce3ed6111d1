"""The pool of worker processes that reads meter photos: concurrent, bounded, and never stalled by a worker."""

from __future__ import annotations

import asyncio
import functools
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from benchmarks.photo_flood import memory
from core.recognition import PhotoRejected, Recognition, RecognitionBusy, RecognitionFailed, RecognitionPool

ROOT = Path(__file__).resolve().parent.parent


class StandInReader:
    """Reads every photo as its own bytes after `seconds`, naming the process that read it."""

    def __init__(self, seconds: float = 0.0) -> None:
        self.seconds = seconds

    def read(self, image: bytes, *, digits: int | None = None, previous: int | None = None, meter_type: str = "",
             zone_previous: tuple[int | None, ...] = ()) -> Recognition:
        if image == b"not a photo":
            raise PhotoRejected("not_image")
        if image == b"boom":
            raise KeyError("a bug in the reader")
        if image == b"stuck":
            time.sleep(60)
        time.sleep(self.seconds)
        if len(image) > 1000:  # a real photo: say how much of it arrived
            return Recognition(str(len(image)), 1.0, (str(os.getpid()), str(previous)))
        return Recognition(image.decode().zfill(digits or 0), 1.0, (str(os.getpid()), str(previous)))


def stand_in(seconds: float = 0.0) -> StandInReader:
    return StandInReader(seconds)


class HoardingReader(StandInReader):
    """A stand-in whose memory grows by `mb` MB with every photo it reads, as a real reader's did."""

    def __init__(self, mb: int) -> None:
        super().__init__()
        self.mb = mb
        self.kept: list[bytes] = []

    def read(self, image: bytes, **request) -> Recognition:
        self.kept.append(b"\1" * (self.mb * 2**20))  # written, so resident
        return super().read(image, **request)


def hoarding(mb: int) -> HoardingReader:
    return HoardingReader(mb)


class ScatteringReader(StandInReader):
    """A stand-in that uses and frees 80 MB of arrays for a photo of many digits, as a real reading does, each
    with a small array it keeps after it: glibc cannot give the freed heap back by shrinking it from the top."""

    def __init__(self) -> None:
        super().__init__()
        self.kept: list[np.ndarray] = []

    def read(self, image: bytes, **request) -> Recognition:
        if len(image) < 3:
            return super().read(image, **request)
        np.ones(2**19)  # 4 MB freed: glibc's mmap threshold rises above the arrays below, which then come from the heap
        arrays = []
        for _ in range(40):
            arrays.append(np.ones(2**18))  # 2 MB, written, so resident
            self.kept.append(np.ones(512))
        del arrays
        return super().read(image, **request)


def scattering() -> ScatteringReader:
    return ScatteringReader()


def broken_reader() -> StandInReader:
    raise RuntimeError("the models are not installed")


def pool(workers: int, seconds: float = 0.0, **options) -> RecognitionPool:
    return RecognitionPool(workers, make_reader=functools.partial(stand_in, seconds), **options)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"


async def test_workers_read_photos_at_the_same_time_in_processes_of_their_own():
    async with pool(2, seconds=1.0) as photos:
        started = time.monotonic()
        first, second = await asyncio.gather(photos.read(b"123", digits=5, previous=99),
                                             photos.read(b"456", digits=5, previous=None))
        elapsed = time.monotonic() - started
    assert (first.reading, second.reading) == ("00123", "00456")
    assert first.candidates[1] == "99" and second.candidates[1] == "None"
    readers = {int(first.candidates[0]), int(second.candidates[0])}
    assert len(readers) == 2 and os.getpid() not in readers
    assert elapsed < 1.8  # one after the other would take 2 s


async def test_workers_read_at_a_lower_cpu_priority_than_the_bot():
    """A photo takes a core for about a second: the bot's text turns must get the CPU first."""
    async with pool(2) as photos:
        await photos.read(b"1")
        niceness = {pid: os.getpriority(os.PRIO_PROCESS, pid) for pid in photos.pids()}
    assert len(niceness) == 2
    assert all(value >= os.getpriority(os.PRIO_PROCESS, 0) + 10 for value in niceness.values()), niceness


async def test_a_photo_of_many_megabytes_reaches_the_worker_whole():
    photo = os.urandom(12 * 1024 * 1024)
    async with pool(1) as photos:
        assert (await photos.read(photo, previous=1)).reading == str(len(photo))


async def test_a_full_queue_refuses_the_next_photo_at_once_and_takes_photos_again_when_it_drains():
    async with pool(1, seconds=1.0, queue=1) as photos:
        reading = [asyncio.create_task(photos.read(str(n).encode(), digits=3)) for n in range(2)]
        await asyncio.sleep(0.1)
        started = time.monotonic()
        with pytest.raises(RecognitionBusy):
            await photos.read(b"7", digits=3)
        assert time.monotonic() - started < 0.05
        assert [r.reading for r in await asyncio.gather(*reading)] == ["000", "001"]
        assert (await photos.read(b"7", digits=3)).reading == "007"


async def test_a_killed_worker_is_replaced_and_its_photo_answered_as_failed():
    async with pool(1, seconds=30.0) as photos:
        (victim,) = photos.pids()
        reading = asyncio.create_task(photos.read(b"1", digits=3))
        await asyncio.sleep(0.3)
        photos.make_reader = functools.partial(stand_in, 0.0)  # the replacement reads at once
        os.kill(victim, signal.SIGKILL)
        with pytest.raises(RecognitionFailed):
            await asyncio.wait_for(reading, 5)
        answer = await asyncio.wait_for(photos.read(b"2", digits=3), 60)
    assert answer.reading == "002"
    assert int(answer.candidates[0]) != victim and not alive(victim)


async def test_a_photo_over_its_time_is_answered_as_failed_and_its_worker_replaced():
    async with pool(1, seconds=30.0, timeout=1.0) as photos:
        (stuck,) = photos.pids()
        started = time.monotonic()
        with pytest.raises(RecognitionFailed):
            await photos.read(b"1", digits=3)
        assert time.monotonic() - started < 3
        await asyncio.sleep(0.2)
        assert not alive(stuck) and photos.pids() and photos.pids() != [stuck]


async def settled(photos: RecognitionPool) -> None:
    """Wait until a successor being started has taken its predecessor's place."""
    for _ in range(400):
        if len(photos.pids()) == photos.workers:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"workers {photos.pids()}")


async def test_a_worker_is_replaced_after_its_share_of_photos_and_no_photo_is_lost():
    async with pool(1, worker_photos=2) as photos:
        answers = []
        for n in range(5):
            answers.append(await photos.read(str(n).encode(), digits=3))
            await settled(photos)
        readers = [int(answer.candidates[0]) for answer in answers]
        assert [answer.reading for answer in answers] == ["000", "001", "002", "003", "004"]
        assert readers[0] == readers[1] != readers[2] == readers[3] != readers[4], readers
        await asyncio.sleep(0.5)
        assert not any(alive(pid) for pid in readers[:4])
        # Photos sent at once while workers are replaced: each read once, none failed.
        many = await asyncio.gather(*(photos.read(str(n).encode(), digits=3) for n in range(5, 8)))
        assert [answer.reading for answer in many] == ["005", "006", "007"]


async def test_a_replaced_worker_that_dies_on_its_last_photo_leaves_one_worker_not_two():
    async with pool(1, worker_photos=1) as photos:
        worn = int((await photos.read(b"1")).candidates[0])  # its successor starts loading
        last = asyncio.create_task(photos.read(b"stuck"))  # the worn worker is idle: it takes this photo
        idle = photos._idle_workers()
        for _ in range(500):
            if not idle.qsize():
                break
            await asyncio.sleep(0.01)
        for _ in range(400):  # the successor is ready: the worn worker only finishes its photo
            if idle.qsize():
                break
            await asyncio.sleep(0.05)
        os.kill(worn, signal.SIGKILL)
        with pytest.raises(RecognitionFailed):
            await asyncio.wait_for(last, 5)
        assert (await photos.read(b"2", digits=2)).reading == "02"
        await asyncio.sleep(1.0)  # time for a wrongly started extra worker to appear
        assert len(photos.pids()) == 1 and worn not in photos.pids()


async def test_a_worker_over_its_memory_bound_is_replaced():
    async with RecognitionPool(1, make_reader=functools.partial(hoarding, 60), worker_photos=0,
                               worker_mb=150) as photos:
        answers = []
        for n in range(5):
            answers.append(await photos.read(str(n).encode(), digits=2))
            await settled(photos)
    assert [answer.reading for answer in answers] == ["00", "01", "02", "03", "04"]
    assert len({answer.candidates[0] for answer in answers}) >= 2


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="resident memory read from /proc")
async def test_a_worker_gives_back_the_memory_a_photo_freed():
    """A worker read 300 photos and stood at 354-364 MB, most of it freed blocks the heap kept
    (benchmarks/worker_memory.py): what a photo frees goes back to the system once it is answered."""
    async with RecognitionPool(1, make_reader=scattering, worker_photos=0) as photos:
        await photos.read(b"1", digits=1)
        await settled(photos)
        [pid] = photos.pids()
        before = memory(pid)["VmRSS"]
        for n in (123, 456):
            assert (await photos.read(str(n).encode(), digits=3)).reading == str(n)
        await asyncio.sleep(0.5)  # the worker trims after sending its answer
        assert memory(pid)["VmRSS"] - before < 30, (before, memory(pid)["VmRSS"])


async def test_the_reader_refusing_a_photo_reaches_the_caller_and_a_bug_is_a_failure():
    async with pool(1) as photos:
        with pytest.raises(PhotoRejected) as refused:
            await photos.read(b"not a photo")
        assert refused.value.reason == "not_image"
        with pytest.raises(RecognitionFailed, match="KeyError"):
            await photos.read(b"boom")
        assert (await photos.read(b"5", digits=2)).reading == "05"


async def test_a_reader_that_cannot_be_built_answers_every_photo_at_once():
    async with RecognitionPool(2, make_reader=broken_reader) as photos:
        started = time.monotonic()
        with pytest.raises(RecognitionFailed, match="not installed"):
            await photos.read(b"1")
        assert time.monotonic() - started < 0.05
        for _ in range(50):  # the workers end once they have said why
            if not photos.pids():
                break
            await asyncio.sleep(0.02)
        assert photos.pids() == []


async def test_without_workers_the_photo_is_read_in_a_thread_of_the_bot():
    async with pool(0, seconds=0.5, queue=1) as photos:
        reading = [asyncio.create_task(photos.read(b"1", digits=2)) for _ in range(2)]
        await asyncio.sleep(0.05)
        with pytest.raises(RecognitionBusy):
            await photos.read(b"3")
        answers = await asyncio.gather(*reading)
    assert {int(answer.candidates[0]) for answer in answers} == {os.getpid()}
    with pytest.raises(RecognitionFailed):
        await photos.read(b"1")


async def test_closing_ends_the_workers():
    photos = await pool(2).start()
    pids = photos.pids()
    assert len(pids) == 2 and all(alive(pid) for pid in pids)
    await photos.close()
    assert not any(alive(pid) for pid in pids)
    with pytest.raises(RecognitionFailed):
        await photos.read(b"1")


REAL_READER = """
import asyncio, io, json, sys
from PIL import Image, ImageDraw, ImageFont
from core.recognition import RecognitionPool

def counter(reading):
    font = ImageFont.truetype("/usr/share/fonts/truetype/dejavu/DejaVuSansCondensed-Bold.ttf", 72)
    img = Image.new("RGB", (len(reading) * 70 + 20, 110), (15, 15, 15))
    draw = ImageDraw.Draw(img)
    for i, ch in enumerate(reading):
        draw.rectangle((10 + i * 70, 10, 10 + i * 70 + 62, 100), fill=(45, 45, 45))
        draw.text((20 + i * 70, 15), ch, font=font, fill=(235, 235, 235))
    out = io.BytesIO()
    img.save(out, "JPEG", quality=90)
    return out.getvalue()

async def main():
    async with RecognitionPool(1) as photos:
        answer = await photos.read(counter("04821"), digits=5, previous=4800)
    loaded = sorted(name for name in sys.modules if name.split(".")[0] in ("onnxruntime", "numpy", "cv2"))
    print(json.dumps({"reading": answer.reading, "loaded": loaded}))

asyncio.run(main())
"""


def test_the_real_reader_reads_in_a_worker_and_the_bot_never_loads_the_models(tmp_path):
    # A script without the `if __name__ == "__main__"` guard: a worker must not run the bot's main script again.
    script = tmp_path / "bot_like.py"
    script.write_text(REAL_READER, encoding="utf-8")
    done = subprocess.run([sys.executable, str(script)], cwd=ROOT, capture_output=True, text=True, timeout=300,
                          env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert answer == {"reading": "04821", "loaded": []}


def test_the_settings_size_the_pool(monkeypatch):
    from bot.app import recognition_pool
    from bot.settings import SettingsError, load_settings
    from core.recognition.pool import cores

    default = recognition_pool(load_settings())
    assert (default.workers, default.queue) == (cores(), 2 * cores())
    monkeypatch.setenv("KABINET_RECOGNITION_WORKERS", "0")
    monkeypatch.setenv("KABINET_RECOGNITION_QUEUE", "5")
    chosen = recognition_pool(load_settings())
    assert (chosen.workers, chosen.queue, chosen.capacity) == (0, 5, 6)
    assert (default.worker_photos, default.worker_mb) == (200, 0)
    monkeypatch.setenv("KABINET_RECOGNITION_WORKER_PHOTOS", "0")
    monkeypatch.setenv("KABINET_RECOGNITION_WORKER_MB", "700")
    bounded = recognition_pool(load_settings())
    assert (bounded.worker_photos, bounded.worker_mb) == (0, 700)
    monkeypatch.setenv("KABINET_RECOGNITION_WORKERS", "-1")
    with pytest.raises(SettingsError, match="KABINET_RECOGNITION_WORKERS"):
        load_settings()


@pytest.mark.parametrize(("language", "words"), [("uk", "Зараз багато фото"), ("en", "Many photos right now"),
                                                 ("ru", "Сейчас много фото")])
def test_the_queue_full_answer_is_said_in_every_language(language, words):
    from core.i18n import Translator

    assert Translator().has(language, "photo-busy")
    assert Translator()(language, "photo-busy").startswith(words)
