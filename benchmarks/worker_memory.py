"""A long-lived recognition worker's memory: N phone-sized meter photos read one after another by one
RecognitionPool worker, its resident memory (RSS) printed every `--every` photos, with its CPU per photo.

The photos are open_loop.py's `meter_photo` (3264 x 2448, the counter, print, tilt, blur, noise), a few drawn
once and each photo a random crop of one of them (70-100 % of each side, JPEG 85): every photo gives the models
lines of another size, as consumers' photos do, without drawing an 8 MP photo each time.

  .venv/bin/python benchmarks/worker_memory.py --photos 400
  .venv/bin/python benchmarks/worker_memory.py --photos 400 --arena off --mem-pattern off
  .venv/bin/python benchmarks/worker_memory.py --photos 400 --worker-photos 200

--arena / --mem-pattern force onnxruntime's `enable_cpu_mem_arena` / `enable_mem_pattern` on every session the
worker opens (default: as the code sets them). --worker-photos / --worker-mb set the pool's worker replacement
(default 0: never, to see the growth); the longest wait for an answer shows whether a replacement made a photo wait.
"""
from __future__ import annotations

import argparse
import asyncio
import functools
import io
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from PIL import Image  # noqa: E402

from benchmarks.open_loop import meter_photo  # noqa: E402
from benchmarks.photo_flood import memory  # noqa: E402
from benchmarks.scratch import cpu_seconds  # noqa: E402
from core.recognition import MeterReader, RecognitionPool  # noqa: E402

BASES = 12  # photos drawn whole; the rest are crops of them


def reader_with(arena: str, pattern: str) -> MeterReader:
    """The default reader, every onnxruntime session opened with the arena and memory pattern forced (in a worker)."""
    import onnxruntime

    from core.recognition import default_reader

    original = onnxruntime.SessionOptions

    class Forced(original):  # type: ignore[misc, valid-type]  # a pybind11 class: subclassing is how to wrap it
        def __init__(self) -> None:
            super().__init__()
            if arena != "code":
                self.enable_cpu_mem_arena = arena == "on"
            if pattern != "code":
                self.enable_mem_pattern = pattern == "on"

        def __setattr__(self, name: str, value: object) -> None:
            forced = {"enable_cpu_mem_arena": arena, "enable_mem_pattern": pattern}.get(name, "code")
            super().__setattr__(name, forced == "on" if forced != "code" else value)

    onnxruntime.SessionOptions = Forced
    return default_reader("lines")


def photos(count: int, seed: int) -> list[tuple[bytes, str]]:
    """`count` photos (JPEG bytes) and the readings they show."""
    rng = random.Random(seed)
    bases = []
    for k in range(BASES):
        reading = str(rng.randint(1000, 99999)).zfill(5)
        bases.append((Image.open(io.BytesIO(meter_photo(reading, seed * 100 + k))), reading))
    out = []
    for _ in range(count):
        base, reading = rng.choice(bases)
        w, h = base.size
        cw, ch = round(w * rng.uniform(0.7, 1.0)), round(h * rng.uniform(0.7, 1.0))
        # Around the counter (a third of the way down, in the middle), so it stays in the photo.
        left = rng.randint(max(0, w // 2 - cw // 2 - w // 10), min(w - cw, w // 2 - cw // 2 + w // 10))
        top = rng.randint(max(0, h // 3 - ch // 2), min(h - ch, h // 3)) if ch < h else 0
        data = io.BytesIO()
        base.crop((left, top, left + cw, top + ch)).save(data, "JPEG", quality=85)
        out.append((data.getvalue(), reading))
    return out


def workers_cpu(pool: RecognitionPool) -> dict[int, float]:
    """CPU seconds of each worker so far (a successor loading its models counts too: it is the cost of replacing)."""
    seconds = {}
    for pid in pool.pids():
        try:
            seconds[pid] = cpu_seconds(pid)
        except OSError:  # ended meanwhile
            pass
    return seconds


async def run(args: argparse.Namespace) -> None:
    from benchmarks import worker_memory  # pickled by its module's name, which a worker can import: not __main__

    make = functools.partial(worker_memory.reader_with, args.arena, args.mem_pattern)
    pool = RecognitionPool(1, make_reader=make, worker_photos=args.worker_photos, worker_mb=args.worker_mb)
    print(f"drawing {args.photos} photos...", file=sys.stderr, flush=True)
    work = photos(args.photos, args.seed)
    print(f"arena {args.arena}, memory pattern {args.mem_pattern}, worker photos {args.worker_photos}, "
          f"worker MB {args.worker_mb:g}")
    print("| photos | workers: pid RSS / peak MB | CPU per photo, median of the last | longest wait for an answer "
          "| read right |")
    print("|---|---|---|---|---|")
    async with pool:
        seconds: list[float] = []
        waits: list[float] = []
        right = 0
        pids = set()
        for n, (content, reading) in enumerate(work, 1):
            before, started = workers_cpu(pool), time.monotonic()
            answer = await pool.read(content, digits=5, previous=max(0, int(reading) - 300))
            waits.append(time.monotonic() - started)
            after = workers_cpu(pool)
            seconds.append(sum(after[pid] - before[pid] for pid in before.keys() & after.keys()))
            right += answer.reading == reading
            pids.update(pool.pids())
            if n % args.every == 0 or n == len(work):
                held = {pid: memory(pid) for pid in sorted(pool.pids())}
                workers = ", ".join(f"{pid} {mb['VmRSS']:.0f} / {mb['VmHWM']:.0f}" for pid, mb in held.items())
                print(f"| {n} | {workers} | "
                      f"{statistics.median(seconds[-args.every:]):.2f} s | {max(waits[-args.every:]):.2f} s | "
                      f"{right} / {n} |", flush=True)
    print(f"workers seen: {len(pids)}; median CPU per photo {statistics.median(seconds):.2f} s")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--photos", type=int, default=400)
    ap.add_argument("--every", type=int, default=50)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--arena", choices=("code", "on", "off"), default="code")
    ap.add_argument("--mem-pattern", choices=("code", "on", "off"), default="code")
    ap.add_argument("--worker-photos", type=int, default=0)
    ap.add_argument("--worker-mb", type=float, default=0)
    asyncio.run(run(ap.parse_args()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
