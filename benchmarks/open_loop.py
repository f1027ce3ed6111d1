"""Open-loop load for benchmarks/load.py (`--open-loop RATE,...`, `--find-knee`, `--photos-per-second`): updates
arrive at a set rate, as Telegram sends them, whether or not the bot has answered the ones before.

Arrivals are a Poisson process by default (exponential gaps, seeded): a bot's updates come from many consumers
acting independently, and the sum of many independent streams is Poisson; its bursts are what a p99 meets.
`--arrivals fixed` spaces them evenly instead. Telegram sends one chat's updates one at a time (the next after
the last is answered) and different chats' in parallel: each arrival goes to the chat that has been idle the
longest, which keeps a chat's updates as far apart as the rate and the number of chats allow; when every chat
is still waiting for an answer the arrival waits for the first one freed. A text chat sends the text mix of the
closed loop in order (/balance; /reading, a value below the last, the confirm button). Each photo arrival goes
to a chat of its own stream that sends a phone-sized meter photo and, a second after the answer, presses
"yes" (that press is a text turn, on top of the rate).

Latency is counted from the moment an update was due to the webhook's answer (which waits until the replies
are sent to the stand-in Bot API): from the moment it was sent, as the closed loop does, it would leave out
the waits of a generator that falls behind. "late p99" says how late the updates were sent: when it is more
than a few milliseconds, the harness or the machine, not the bot, set the pace.
"""
from __future__ import annotations

import asyncio
import io
import math
import os
import random
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter, ImageFont

from benchmarks.load import (
    Process, QuietBotAPI, VirtualUser, bot_environment, exchange_folder, machine_busy_seconds, start_bots,
    virtual_users,
)
from benchmarks.photo_flood import descendants, memory
from benchmarks.scratch import cpu_seconds, scratch_database

KNEE_MS = 250
ROOT = Path(__file__).resolve().parent.parent
# What the scheduler runs beside the turns over a day, run once in each soak window: the retention job and the daily
# reminder plans (the event jobs run inside the bots every minute).
SOAK_JOBS = ["retention", "reading-window", "invoices", "debts"]
THINK_SECONDS = 1.0  # a consumer's pause before pressing "yes" under the reading read from the photo
PHOTO_READING = "12345"  # above the accounts' last readings (benchmarks/load.py, exchange_folder)
DRAIN_SECONDS = 60  # how long the updates still unanswered after the last arrival may take


def meter_photo(reading: str, seed: int) -> bytes:
    """A 3264×2448 JPEG of a meter face filling the frame, as a phone takes it: the counter, print, a tilt, blur
    and sensor noise (the bot reads it: a photo it could not read would cost less than one it can)."""
    from tests.test_recognition import draw_counter

    rng = random.Random(seed)
    width, height = 2448, 3264
    face = Image.new("RGB", (width, height), tuple(rng.randint(170, 235) for _ in range(3)))
    draw = ImageDraw.Draw(face)
    counter = draw_counter(reading, seed=seed, height=90)
    scale = rng.uniform(0.4, 0.55) * width / counter.width
    counter = counter.resize((int(counter.width * scale), int(counter.height * scale)), Image.Resampling.BICUBIC)
    left, top = (width - counter.width) // 2, height // 3
    face.paste(counter, (left, top))
    ink = (rng.randint(0, 60),) * 3
    font = "/usr/share/fonts/truetype/dejavu/DejaVuSansCondensed-Bold.ttf"
    small, big = ImageFont.truetype(font, height // 40), ImageFont.truetype(font, height // 22)
    draw.text((left, top + counter.height + 20), "kWh", fill=ink, font=big)
    draw.text((width // 12, height // 12), "GAMA 100", fill=ink, font=big)
    draw.text((width // 12, height - height // 6), f"No {rng.randint(10**7, 10**9 - 1)}", fill=ink, font=small)
    draw.text((width // 2, height - height // 6), "2019  220V 5-60A  50Hz", fill=ink, font=small)
    face = face.rotate(rng.uniform(-5, 5), resample=Image.Resampling.BICUBIC, fillcolor=(40, 40, 40))
    face = face.filter(ImageFilter.GaussianBlur(1.5))
    face = Image.blend(face, Image.effect_noise((width, height), 24).convert("RGB"), 0.12)
    out = io.BytesIO()
    face.save(out, "JPEG", quality=85)
    return out.getvalue()


def quantile(ordered: list[float], q: float) -> float:
    """The nearest-rank quantile of sorted values, in milliseconds."""
    if not ordered:
        return math.nan
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))] * 1000


@dataclass
class Tally:
    """What the updates due in the measured window met."""

    text: list[float] = field(default_factory=list)
    photo: list[float] = field(default_factory=list)
    late: list[float] = field(default_factory=list)
    answered_at: list[float] = field(default_factory=list)
    errors: int = 0


class TextChat:
    """A chat sending the text mix in order, one update per arrival; with `history` (`--mix full`) /history too.

    Each chat starts at a step of its own (`phase`): the arrivals go round the chats in turn, so chats that all
    started at /balance would move through the mix in step, every arrival of a quarter of a minute the same
    command (at 60/s, 16 s of /history alone, its heaviest turn, every 83 s), which no consumers do."""

    def __init__(self, user: VirtualUser, history: bool = False, phase: int = 0) -> None:
        self.steps = 5 if history else 4
        self.user, self.step = user, phase % self.steps

    def next_update(self) -> dict:
        step, self.step = self.step % self.steps, self.step + 1
        if step == 4:
            return self.user.text("/history")
        if step == 0:
            return self.user.text("/balance")
        if step == 1:
            self.user.value -= 1  # as the closed loop: a value one lower each round (above the billed 11650)
            return self.user.text("/reading")
        if step == 2:
            return self.user.text(str(self.user.value))
        return self.user.press("reading:confirm")


class Stream:
    """The chats of one kind of arrival, the longest idle first."""

    def __init__(self, chats: list) -> None:
        self.idle: asyncio.Queue = asyncio.Queue()
        for chat in chats:
            self.idle.put_nowait(chat)


async def deliver(user: VirtualUser, update: dict, due: float, latencies: list[float] | None, tally: Tally) -> None:
    """One update due at `due` (perf_counter); its latency goes to `latencies` unless that is None (warm-up)."""
    if latencies is not None:
        tally.late.append(time.perf_counter() - due)
    errors = user.errors
    try:
        latency = await user.post(update, due)
    except asyncio.TimeoutError:
        user.errors, latency = user.errors + 1, None
    if latency is not None:
        tally.answered_at.append(time.perf_counter())
    if latencies is not None:
        tally.errors += user.errors - errors
        if latency is not None:
            latencies.append(latency)


async def text_turn(stream: Stream, due: float, tally: Tally, measured: bool) -> None:
    chat = await stream.idle.get()
    try:
        await deliver(chat.user, chat.next_update(), due, tally.text if measured else None, tally)
    finally:
        stream.idle.put_nowait(chat)


async def photo_turn(stream: Stream, due: float, tally: Tally, measured: bool) -> None:
    user = await stream.idle.get()
    try:
        await deliver(user, user.photo(), due, tally.photo if measured else None, tally)
        await asyncio.sleep(THINK_SECONDS)
        await deliver(user, user.press("photo:yes"), time.perf_counter(), tally.text if measured else None, tally)
    finally:
        stream.idle.put_nowait(user)


async def arrivals(rate: float, seconds: float, spacing: str, rng: random.Random, start: float, arrive) -> set:
    """Calls arrive(due) as a task at each arrival in [start, start + seconds); returns the tasks still running."""
    running: set[asyncio.Task] = set()
    offset = 0.0
    while True:
        offset += rng.expovariate(rate) if spacing == "poisson" else 1 / rate
        if offset >= seconds:
            return running
        delay = start + offset - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        task = asyncio.create_task(arrive(start + offset))
        running.add(task)
        task.add_done_callback(running.discard)


async def at_rate(rate: float, args, text: Stream, photos: Stream | None, rng: random.Random,
                  processes: list[Process]) -> dict:
    """`--warm-up` seconds at `rate` (not counted), then `--seconds` measured; the figures of the measured ones."""
    tally = Tally()
    start = time.perf_counter() + 0.05
    measured_from = start + args.warm_up
    until = measured_from + args.seconds
    total = args.warm_up + args.seconds

    def text_arrival(due: float):
        return text_turn(text, due, tally, due >= measured_from)

    def photo_arrival(due: float):
        return photo_turn(photos, due, tally, due >= measured_from)

    generators = [arrivals(rate, total, args.arrivals, rng, start, text_arrival)]
    if photos is not None:
        generators.append(arrivals(args.photos_per_second, total, args.arrivals, rng, start, photo_arrival))
    cpu_before: list[float] = []
    machine_before = harness_before = 0.0

    async def mark_window() -> None:
        nonlocal cpu_before, machine_before, harness_before
        await asyncio.sleep(max(0.0, measured_from - time.perf_counter()))
        cpu_before, machine_before = [tree_cpu(p) for p in processes], machine_busy_seconds()
        harness_before = time.process_time()

    marker = asyncio.create_task(mark_window())
    running = set().union(*await asyncio.gather(*generators))
    await marker
    cpu = [tree_cpu(p) - before for p, before in zip(processes, cpu_before)]
    machine = machine_busy_seconds() - machine_before
    harness = time.process_time() - harness_before
    window = time.perf_counter() - measured_from
    if running:
        _, unanswered = await asyncio.wait(running, timeout=DRAIN_SECONDS)
        for task in unanswered:
            task.cancel()
        tally.errors += len(unanswered)
    texts, pictures, late = sorted(tally.text), sorted(tally.photo), sorted(tally.late)
    answered = sum(measured_from <= at <= until for at in tally.answered_at)
    return {
        "rate": rate, "achieved": answered / args.seconds, "updates": len(texts) + len(pictures),
        "p50": quantile(texts, 0.5), "p99": quantile(texts, 0.99), "p999": quantile(texts, 0.999),
        "photos": len(pictures), "photo_p50": quantile(pictures, 0.5), "photo_p99": quantile(pictures, 0.99),
        "errors": tally.errors, "late": quantile(late, 0.99),
        "cpu": "/".join(f"{c / window:.0%}" for c in cpu), "machine": machine / (window * (os.cpu_count() or 1)),
        "harness": harness / window,
    }


def tree_cpu(process: Process) -> float:
    """CPU seconds of a bot and the processes under it (the recognition workers) so far, those that ended too:
    a retired worker's seconds move to its parent (the forkserver) when it is waited for."""
    seconds = 0.0
    for pid in (process.popen.pid, *descendants(process.popen.pid)):
        try:
            seconds += cpu_seconds(pid, reaped=True)
        except OSError:  # ended meanwhile
            continue
    return seconds


def photo_chat_count(args) -> int:
    """Chats for the photo stream: each is busy for a photo turn, the pause and the press; four times enough."""
    return math.ceil(args.photos_per_second * (THINK_SECONDS + 2) * 4)


def memory_of(processes: list[Process], label: str) -> dict[str, list[tuple[float, float]]]:
    """(RSS, peak RSS) in MB of each process by kind: the bots and the processes under them (recognition workers)."""
    kinds: dict[str, list[tuple[float, float]]] = {label: [], "recognition worker": []}
    for process in processes:
        for pid, kind in [(process.popen.pid, label), *((child, "recognition worker")
                                                         for child in descendants(process.popen.pid))]:
            try:
                figures = memory(pid)
            except OSError:  # ended meanwhile
                continue
            kinds[kind].append((figures["VmRSS"], figures["VmHWM"]))
    return kinds


def describe_memory(at_rest: dict, at_end: dict) -> str:
    """"kind: RSS at rest -> RSS after the last rate (peak), ..." for each process, in MB."""
    parts = []
    for kind, figures in at_end.items():
        if not figures:
            continue
        rest = at_rest.get(kind, [])
        each = ", ".join(f"{rest[n][0]:.0f}" if n < len(rest) else "–" for n in range(len(figures)))
        after = ", ".join(f"{rss:.0f} ({peak:.0f})" for rss, peak in figures)
        parts.append(f"{len(figures)} × {kind}: {each} -> {after}")
    return "; ".join(parts)


async def run_config(name: str, rates, args, api: QuietBotAPI, folder: Path, numbers: list[str],
                     photo_files: list[tuple[str, int]], on_result) -> list[dict]:
    """Starts the config's bots once, warms them up, then runs each rate `rates` yields (it is told each result)."""
    backend, count = name.rsplit("-", 1)
    count = int(count)
    photo_chats = photo_chat_count(args)
    data_dir = Path(tempfile.mkdtemp(prefix="kabinet-open-data-"))
    # The photo stream's dozen accounts would fill their photo store (50 MB each, 65 photos) within a quarter of
    # an hour, and every photo after it is refused at once unread: a soak measures reading, not the quota.
    settings = {"KABINET_PHOTO_QUOTA_MB": "0"}
    if args.recognition_workers is not None:
        settings["KABINET_RECOGNITION_WORKERS"] = str(args.recognition_workers)
    async with scratch_database("postgresql" if backend == "postgresql" else "sqlite") as url:
        env = bot_environment(url, data_dir, api, **settings)
        if args.tracemalloc:  # benchmarks/traced_bot.py: heap snapshots at start-up and after each soak window
            env.update(TRACEMALLOC_SNAPSHOTS=str(args.tracemalloc),
                       TRACEMALLOC_EVERY=str(args.soak_window * 60 if args.soak else args.seconds))
        processes, ids = await start_bots(backend, count, env, api, folder, numbers, args.chats + photo_chats)
        label = "echo bot" if backend == "echo" else "kabinet run"
        try:
            async with virtual_users(processes, ids, photo_files, api, timeout=60) as users:
                for user in users[:count]:  # each process: the first turns build caches (and load the models)
                    warm = [user.text("/balance"), user.text("/cancel")]
                    if photo_chats:
                        warm[1:1] = [user.photo()]
                    for update in warm:
                        await user.post(update, time.perf_counter())
                await asyncio.sleep(1)
                at_rest = memory_of(processes, label)
                phases = random.Random(args.seed + 1)
                text = Stream([TextChat(user, args.mix == "full", phases.randrange(5)) for user in users[:args.chats]])
                photos = Stream(users[args.chats:]) if photo_chats else None
                rng = random.Random(args.seed)
                results = []
                rate = next(rates)
                while rate is not None:
                    jobs = asyncio.create_task(run_jobs(env, SOAK_JOBS)) if args.soak else None
                    result = dict(await at_rate(rate, args, text, photos, rng, processes), config=name)
                    if jobs is not None:
                        result["jobs"] = await jobs
                        result["memory"] = memory_of(processes, label)
                    results.append(result)
                    rate = rates.send(on_result(result))
                print(f"  memory MB of {name}, RSS at rest -> after the last rate (peak): "
                      f"{describe_memory(at_rest, memory_of(processes, label))}", flush=True)
                return results
        finally:
            for process in processes:
                process.stop()
            shutil.rmtree(data_dir, ignore_errors=True)


def soak_rates(rate: float, windows: int):
    """`--soak`: the one rate, window after window."""
    for _ in range(windows):
        yield rate
    yield None


async def run_jobs(env: dict, names: list[str]) -> list[str]:
    """`kabinet jobs run NAME` for each job against the bots' database, as the scheduler runs them; their last lines."""
    said = []
    for name in names:
        job = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "jobs", "run", name, env=env, cwd=str(ROOT),
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
        output, _ = await job.communicate()
        lines = output.decode(errors="replace").strip().splitlines()
        said.append(f"{name}: " + (lines[-1] if lines else f"exit {job.returncode}") if job.returncode
                    else (lines[-1] if lines else name))
    return said


def given_rates(rates: list[float]):
    """The rates of `--open-loop`, one after the other."""
    for rate in rates:
        yield rate
    yield None


def rising_rates(start: float, step: float, limit: float):
    """Rates from `start` by `step` until one's p99 (text turns) crosses KNEE_MS or the bot falls behind."""
    rate = start
    while rate <= limit:
        result = yield rate
        if result["p99"] > KNEE_MS or result["achieved"] < 0.9 * rate:
            break
        rate += step
    yield None


def row(result: dict, photos: bool) -> str:
    line = (f"{result['config']:14} {result['rate']:>8g} {result['achieved']:>9.1f} {result['updates']:>8} "
            f"{result['p50']:>7.1f} {result['p99']:>7.1f} {result['p999']:>8.1f} {result['errors']:>7} "
            f"{result['late']:>9.1f}")
    if photos:
        line += f" {result['photos']:>7} {result['photo_p50']:>10.0f} {result['photo_p99']:>10.0f}"
    return line + f" {result['cpu']:>11} {result['harness']:>8.0%} {result['machine']:>8.0%}"


def knee(results: list[dict]) -> str:
    below = [r for r in results if r["p99"] <= KNEE_MS and r["achieved"] >= 0.9 * r["rate"]]
    above = [r for r in results if r not in below]
    if not above:
        return f"p99 under {KNEE_MS} ms up to {results[-1]['rate']:g}/s (the highest rate tried)"
    crossed = above[0]
    if not below:
        return f"p99 {crossed['p99']:.0f} ms already at {crossed['rate']:g}/s"
    last = below[-1]
    return (f"p99 crosses {KNEE_MS} ms between {last['rate']:g}/s ({last['p99']:.0f} ms) and "
            f"{crossed['rate']:g}/s ({crossed['p99']:.0f} ms, {crossed['achieved']:.0f}/s answered)")


def side_by_side(summaries: list[tuple[str, list[dict]]]) -> None:
    """Each rate's p50/p99/p99.9 of every config on one line."""
    print(f"{'offered':>8} " + " ".join(f"{name + ' p50/p99/p99.9':>30}" for name, _ in summaries))
    for rate in sorted({result["rate"] for _, results in summaries for result in results}):
        cells = []
        for _, results in summaries:
            found = [r for r in results if r["rate"] == rate]
            cells.append(f"{found[0]['p50']:.0f}/{found[0]['p99']:.0f}/{found[0]['p999']:.0f}" if found else "–")
        print(f"{rate:>8g} " + " ".join(f"{cell:>30}" for cell in cells))


async def main(args, configs: list[str]) -> None:
    folder, numbers = exchange_folder(args.chats + photo_chat_count(args))
    api = await QuietBotAPI().start()
    photo_files = []
    if args.photos_per_second:
        for seed in range(1, 4):
            content = meter_photo(PHOTO_READING, seed)
            photo_files.append((api.add_file(content), len(content)))
    else:
        photo_files.append(("no-photo", 0))
    if args.soak:
        args.warm_up, args.seconds = 0, args.soak_window * 60
    mode = (f"rising from {args.knee_start:g}/s by {args.knee_step:g} until p99 > {KNEE_MS} ms" if args.find_knee
            else f"soak at {args.open_loop[0]:g} updates/s for {args.soak:g} min, in windows of {args.soak_window:g} "
                 f"min, each with the jobs {', '.join(SOAK_JOBS)} run beside it" if args.soak
            else "at " + ", ".join(f"{rate:g}" for rate in args.open_loop) + " updates/s")
    size = sum(size for _, size in photo_files) // len(photo_files) // 1024
    photos = (f", and {args.photos_per_second:g} photo/s (2448×3264 JPEG, about {size} KB)"
              if args.photos_per_second else "")
    args.mix = args.mix or "text"
    print(f"open loop, {args.arrivals} arrivals: {args.mix} mix {mode}{photos}; {args.chats} chats; "
          f"{args.warm_up:g} s warm-up + {args.seconds:g} s per rate; {os.cpu_count()} cores")
    print(f"{'config':14} {'offered':>8} {'answered':>9} {'updates':>8} {'p50 ms':>7} {'p99 ms':>7} {'p99.9 ms':>8} "
          f"{'errors':>7} {'late p99':>9}" + (f" {'photos':>7} {'photo p50':>10} {'photo p99':>10}"
                                               if args.photos_per_second else "")
          + f" {'CPU/bot':>11} {'harness':>8} {'machine':>8}")
    print("  (offered and answered: updates/s; latencies in ms, of the text turns when photos are sent; CPU of each "
          "bot process with the processes under it, and of this one: the load generator and the stand-in Bot API)")
    summaries = []
    try:
        for name in configs:
            rates = rising_rates(args.knee_start, args.knee_step, args.knee_max) if args.find_knee \
                else soak_rates(args.open_loop[0], windows(args)) if args.soak else given_rates(args.open_loop)

            def show(result: dict) -> dict:
                print(row(result, bool(args.photos_per_second)), flush=True)
                if args.soak:
                    print(f"    jobs: {'; '.join(result['jobs'])}; memory MB: "
                          f"{describe_memory(result['memory'], result['memory'])}", flush=True)
                return result

            results = await run_config(name, rates, args, api, folder, numbers, photo_files, show)
            summaries.append((name, results))
        if len(summaries) > 1:
            side_by_side(summaries)
        if args.find_knee:
            for name, results in summaries:
                print(f"knee of {name}: {knee(results)}")
        if args.soak:
            for name, results in summaries:
                print(drift(name, results))
    finally:
        await api.close()
        shutil.rmtree(folder, ignore_errors=True)


def windows(args) -> int:
    return max(1, round(args.soak / args.soak_window))


def drift(name: str, results: list[dict]) -> str:
    """The soak's verdict: the first window against the last, for p99 and each kind of process's RSS."""
    first, last = results[0], results[-1]
    parts = [f"p99 {first['p99']:.0f} -> {last['p99']:.0f} ms (highest {max(r['p99'] for r in results):.0f})",
             f"errors {sum(r['errors'] for r in results)}"]
    for kind, figures in last["memory"].items():
        before = first["memory"].get(kind, [])
        for n, (rss, _) in enumerate(figures):
            if n < len(before):
                parts.append(f"{kind} {n + 1}: {before[n][0]:.0f} -> {rss:.0f} MB ({rss / before[n][0] - 1:+.1%})")
    return f"soak of {name}, first window -> last: " + "; ".join(parts)


def rates(text: str) -> list[float]:
    """`--open-loop`'s value: comma-separated updates per second."""
    values = [float(value) for value in text.split(",")]
    if any(value <= 0 for value in values):
        raise ValueError(text)
    return values


def add_arguments(parser) -> None:
    group = parser.add_argument_group("open loop (updates at a set rate instead of a closed loop of users)")
    group.add_argument("--open-loop", type=rates, metavar="RATE[,RATE...]",
                       help="updates/s of the text mix, one run each (after --warm-up, --seconds measured)")
    group.add_argument("--find-knee", action="store_true",
                       help=f"raise the rate by --knee-step until p99 crosses {KNEE_MS} ms; print that rate")
    group.add_argument("--knee-start", type=float, default=50)
    group.add_argument("--knee-step", type=float, default=50)
    group.add_argument("--knee-max", type=float, default=3000)
    group.add_argument("--arrivals", choices=["poisson", "fixed"], default="poisson")
    group.add_argument("--warm-up", type=float, default=3, help="seconds at each rate before the measured ones")
    group.add_argument("--chats", type=int, default=1000, help="text chats the arrivals are spread over")
    group.add_argument("--photos-per-second", type=float, default=0,
                       help="also this many phone-sized meter photos a second, each from a chat of its own")
    group.add_argument("--recognition-workers", type=int,
                       help="KABINET_RECOGNITION_WORKERS of the bots (default: the bot's own default)")
    group.add_argument("--seed", type=int, default=20)
    group.add_argument("--soak", type=float, metavar="MINUTES",
                       help="run the first --open-loop rate this long, reporting each --soak-window (latency, RSS of "
                            "every process, errors) and running the retention and reminder jobs in each window")
    group.add_argument("--soak-window", type=float, default=5, metavar="MINUTES")
    group.add_argument("--tracemalloc", type=Path, metavar="DIR",
                       help="run the bots with tracemalloc, a heap snapshot into DIR at start-up and after each "
                            "window (benchmarks/traced_bot.py --compare shows what grew); slows the bots")
