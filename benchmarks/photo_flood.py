"""Photo flood: does a burst of meter photos stall the other consumers? A real `kabinet run` on 127.0.0.1
receives Telegram webhook updates (the harness of benchmarks/load.py): 30 chats each send a phone-sized
meter photo at once while 30 others send /balance, each after its last answer and a short pause.

    .venv/bin/python benchmarks/photo_flood.py [--backend postgresql|sqlite] [--workers 2,0]
        [--photo-chats 30] [--text-chats 30] [--photos 1] [--pause 0.2] [--quiet 5] [--pool-alone]

One run per value of `--workers` (KABINET_RECOGNITION_WORKERS; 0 reads photos in a thread of the bot).
Reports the text turns' p50/p99 with no photos (the first `--quiet` seconds) and during the flood (until
the last photo is answered), the photo turns' p50/p99 and how each photo was answered (read, not sure,
"many photos right now", anything else, HTTP errors), and the resident memory of the bot process and of
each process under it (the recognition workers): at rest after the warm-up, and the peak (VmHWM).
`--pool-alone` leaves the bot out: the photos go straight to a RecognitionPool of this process.
"""
from __future__ import annotations

import argparse
import asyncio
import io
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aiohttp  # noqa: E402
from PIL import Image, ImageDraw, ImageFilter, ImageFont  # noqa: E402

from benchmarks.load import (  # noqa: E402
    PYTHON, ROOT, SECRET, QuietBotAPI, VirtualUser, exchange_folder, link_users, start_kabinet, wait_ready,
)
from benchmarks.scratch import scratch_database  # noqa: E402
from tests.telegram_api import TOKEN, BotAPI  # noqa: E402

FOREVER = float("inf")
# How the bot answered a photo, by the start of its Ukrainian text (locales/uk/kabinet.ftl).
OUTCOMES = {"read": "На фото я бачу", "unsure": "Не вдалося впевнено", "busy": "Зараз багато фото"}


class AnswerBotAPI(QuietBotAPI):
    """The stand-in server, remembering only the texts sent to each chat since it was last asked."""

    def __init__(self) -> None:
        super().__init__()
        self.texts: dict[int, list[str]] = {}

    async def on_method(self, request):
        response = await BotAPI.on_method(self, request)
        for call in self.calls:
            if call.chat_id in self.texts and call.text:
                self.texts[call.chat_id].append(call.text)
        self.calls.clear()
        return response


def phone_photo(reading: str = "04821", seed: int = 1) -> bytes:
    """A 3264×2448 JPEG as a phone takes it: a meter face with its counter, print and noise in a larger scene."""
    rng = random.Random(seed)
    font_path = "/usr/share/fonts/truetype/dejavu/DejaVuSansCondensed-Bold.ttf"
    scene = Image.new("RGB", (2448, 3264), (92, 96, 90))
    draw = ImageDraw.Draw(scene)
    for _ in range(400):  # a wall with texture
        x, y = rng.randrange(2448), rng.randrange(3264)
        shade = rng.randint(70, 120)
        draw.ellipse((x, y, x + rng.randint(10, 80), y + rng.randint(10, 80)), fill=(shade, shade + 4, shade - 2))
    draw.rectangle((524, 900, 1924, 2300), fill=(222, 218, 205))  # the meter face
    draw.text((640, 980), "GAMA 100   220V 5-60A", font=ImageFont.truetype(font_path, 70), fill=(30, 30, 30))
    draw.text((640, 2150), "No 48213377   2019", font=ImageFont.truetype(font_path, 56), fill=(30, 30, 30))
    digits = ImageFont.truetype(font_path, 150)
    draw.rectangle((700, 1400, 700 + len(reading) * 170 + 30, 1640), fill=(15, 15, 15))
    for i, ch in enumerate(reading):
        x = 715 + i * 170
        draw.rectangle((x, 1415, x + 155, 1625), fill=(48, 48, 48))
        draw.text((x + 28, 1420), ch, font=digits, fill=(236, 236, 236))
    scene = scene.rotate(4, resample=Image.Resampling.BICUBIC, fillcolor=(60, 60, 60)).filter(ImageFilter.GaussianBlur(1.2))
    out = io.BytesIO()
    scene.save(out, "JPEG", quality=85)
    return out.getvalue()


def memory(pid: int) -> dict[str, float]:
    """VmRSS and VmHWM (the peak) of a process, in MB."""
    return {key: kb / 1024 for key, kb in proc_status(pid, ("VmRSS", "VmHWM")).items()}


def proc_status(pid: int, keys: tuple[str, ...]) -> dict[str, int]:
    """The numbers /proc/PID/status gives for `keys` (memory in kB, Threads a count); a key it lacks is left out."""
    figures = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in keys:
            figures[key] = int(value.split()[0])
    return figures


def descendants(pid: int) -> list[int]:
    """The processes under `pid` (the forkserver and the recognition workers), depth first."""
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            children = (task / "children").read_text().split()
        except OSError:
            continue
        for child in map(int, children):
            found += [child, *descendants(child)]
    return found


def tree_memory(pid: int) -> str:
    """"bot RSS/peak; each process under it RSS/peak" in MB."""
    parts = []
    for member in [pid, *descendants(pid)]:
        try:
            figures = memory(member)
        except OSError:  # ended meanwhile
            continue
        parts.append(f"{figures['VmRSS']:.0f}/{figures['VmHWM']:.0f}")
    return " + ".join(parts)


def percentiles(latencies: list[float]) -> str:
    if not latencies:
        return "-"
    ordered = sorted(latencies)
    p99 = ordered[max(0, int(len(ordered) * 0.99) - 1)]
    return f"{statistics.median(ordered) * 1000:.0f}/{p99 * 1000:.0f}"


async def flood(workers: int, args, api: AnswerBotAPI, folder: Path, numbers: list[str], photo: str) -> dict:
    data_dir = Path(tempfile.mkdtemp(prefix="kabinet-flood-data-"))
    async with scratch_database(args.backend) as url:
        env = {k: v for k, v in os.environ.items() if not k.startswith("KABINET_")}
        env.update(KABINET_DATABASE_URL=url, KABINET_DATA_DIR=str(data_dir), KABINET_TELEGRAM_TOKEN=TOKEN,
                   KABINET_TELEGRAM_API_BASE=api.base, KABINET_TELEGRAM_WEBHOOK_SECRET=SECRET,
                   KABINET_READING_WINDOW="always", KABINET_HTTP_HOST="127.0.0.1",
                   KABINET_CHAT_UPDATES_PER_MINUTE="100000", KABINET_RECOGNITION_WORKERS=str(workers))
        subprocess.run([PYTHON, "-m", "bot", "import", str(folder)], cwd=ROOT, env=env, check=True,
                       stdout=subprocess.DEVNULL)
        ids = await link_users(url, numbers, args.photo_chats + args.text_chats)
        (bot,) = start_kabinet(env, 1)
        try:
            await wait_ready(bot.port)
            updates = iter(range(1, 10**9))
            connector = aiohttp.TCPConnector(limit=0)
            async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=600)) as http:
                users = [VirtualUser(uid, bot.port, photo, api.files[photo][2], http, updates, api) for uid in ids]
                photographers, readers = users[:args.photo_chats], users[args.photo_chats:]
                first = photographers[0]
                for update in (first.text("/balance"), first.photo(), first.text("/cancel")):
                    await first.send(update, FOREVER)  # the models load on the first photo
                first.latencies.clear()
                await asyncio.sleep(1)
                at_rest = tree_memory(bot.popen.pid)

                async def ask_balance(user: VirtualUser, until: asyncio.Event) -> None:
                    while not until.is_set():
                        await user.send(user.text("/balance"), FOREVER)
                        await asyncio.sleep(args.pause)

                quiet = asyncio.Event()
                asker = [asyncio.create_task(ask_balance(user, quiet)) for user in readers]
                await asyncio.sleep(args.quiet)
                quiet.set()
                await asyncio.gather(*asker)
                quiet_latencies = [latency for user in readers for latency in user.latencies]
                for user in readers:
                    user.latencies.clear()

                outcomes = dict.fromkeys([*OUTCOMES, "other"], 0)

                async def send_photos(user: VirtualUser) -> None:
                    for _ in range(args.photos):
                        api.texts[user.id] = []
                        await user.send(user.photo(), FOREVER)
                        outcome = next((name for name, start in OUTCOMES.items()
                                        if any(text.startswith(start) for text in api.texts[user.id])), "other")
                        outcomes[outcome] += 1

                done = asyncio.Event()
                asker = [asyncio.create_task(ask_balance(user, done)) for user in readers]
                started = time.monotonic()
                await asyncio.gather(*(send_photos(user) for user in photographers))
                seconds = time.monotonic() - started
                done.set()
                await asyncio.gather(*asker)
                peak = tree_memory(bot.popen.pid)
        finally:
            bot.stop()
            shutil.rmtree(data_dir, ignore_errors=True)
    return {
        "workers": workers, "seconds": seconds,
        "quiet": percentiles(quiet_latencies),
        "text": percentiles([latency for user in readers for latency in user.latencies]),
        "texts": sum(len(user.latencies) for user in readers),
        "photo": percentiles([latency for user in photographers for latency in user.latencies]),
        "outcomes": "/".join(str(outcomes[name]) for name in (*OUTCOMES, "other")),
        "errors": sum(user.errors for user in users),
        "at_rest": at_rest, "peak": peak,
    }


async def pool_alone(args) -> None:
    """The pool without the bot: `--photo-chats` photos at once, how many were read or refused, and memory."""
    from core.recognition import RecognitionBusy, RecognitionPool

    content = phone_photo()
    print(f"{'workers':>7} {'start s':>8} {'photos':>7} {'busy':>5} {'failed':>7} {'seconds':>8}  "
          f"RSS/peak MB (this process + each worker)")
    for workers in (int(value) for value in args.workers.split(",")):
        started = time.monotonic()
        async with RecognitionPool(workers) as pool:
            warm = time.monotonic() - started
            started = time.monotonic()
            answers = await asyncio.gather(*(pool.read(content, digits=5, previous=4800)
                                             for _ in range(args.photo_chats)), return_exceptions=True)
            seconds = time.monotonic() - started
            busy = sum(isinstance(answer, RecognitionBusy) for answer in answers)
            failed = sum(isinstance(answer, Exception) for answer in answers) - busy
            print(f"{workers:>7} {warm:>8.1f} {len(answers):>7} {busy:>5} {failed:>7} {seconds:>8.1f}  "
                  f"{tree_memory(os.getpid())}", flush=True)


async def main(args) -> None:
    if args.pool_alone:
        await pool_alone(args)
        return
    folder, numbers = exchange_folder(args.photo_chats + args.text_chats)
    api = await AnswerBotAPI().start()
    content = phone_photo()
    photo = api.add_file(content)
    print(f"{args.photo_chats} chats send {args.photos} photo(s) each ({len(content) // 1024} KB, 2448×3264 JPEG) "
          f"while {args.text_chats} send /balance every {args.pause:g} s; {args.backend}; {os.cpu_count()} cores")
    print(f"{'workers':>7} {'quiet text p50/p99 ms':>22} {'flood text p50/p99 ms':>22} {'texts':>6} "
          f"{'photo p50/p99 ms':>17} {'read/unsure/busy/other':>23} {'errors':>6} {'flood s':>8}  "
          f"RSS/peak MB at rest (bot + each process under it) -> after the flood")
    try:
        for workers in (int(value) for value in args.workers.split(",")):
            r = await flood(workers, args, api, folder, numbers, photo)
            print(f"{r['workers']:>7} {r['quiet']:>22} {r['text']:>22} {r['texts']:>6} {r['photo']:>17} "
                  f"{r['outcomes']:>23} {r['errors']:>6} {r['seconds']:>8.1f}  {r['at_rest']} -> {r['peak']}",
                  flush=True)
    finally:
        await api.close()
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["postgresql", "sqlite"], default="postgresql")
    parser.add_argument("--workers", default="2,0", help="comma-separated KABINET_RECOGNITION_WORKERS, one run each")
    parser.add_argument("--photo-chats", type=int, default=30)
    parser.add_argument("--text-chats", type=int, default=30)
    parser.add_argument("--photos", type=int, default=1, help="photos each photo chat sends, one after the other")
    parser.add_argument("--pause", type=float, default=0.2, help="seconds a text chat waits after each answer")
    parser.add_argument("--quiet", type=float, default=5.0, help="seconds of text turns alone before the photos")
    parser.add_argument("--pool-alone", action="store_true",
                        help="no bot: read --photo-chats photos at once straight through a RecognitionPool")
    asyncio.run(main(parser.parse_args()))
