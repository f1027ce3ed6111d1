"""`kabinet run` with tracemalloc on, writing a snapshot of the Python heap into a folder every few minutes: what a
soak's growth of resident memory is made of, and then where it comes from.

    .venv/bin/python benchmarks/load.py --open-loop 30 --soak 30 --tracemalloc /tmp/heap   # starts the bots through this
    .venv/bin/python benchmarks/traced_bot.py --compare /tmp/heap/PID-001.snap /tmp/heap/PID-006.snap

The load benchmark starts this instead of `python -m bot run` when given `--tracemalloc DIR` (environment
TRACEMALLOC_SNAPSHOTS=DIR, TRACEMALLOC_EVERY=seconds, TRACEMALLOC_AFTER=seconds before tracing starts, 20 by
default: traced from the start, the imports took minutes). Tracing costs CPU (two to three times a turn's): measure
growth with it, latency without it. Snapshot 000 is taken as tracing starts, while the benchmark warms up; compare
the first one taken under load (001) with the last.
"""
from __future__ import annotations

import argparse
import os
import sys
import threading
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

FRAMES = 15


def snapshots(folder: Path, every: float, after: float) -> None:
    """Tracing from `after` seconds on (traced, the imports and start-up take minutes), then every `every` seconds
    the traced heap into FOLDER/PID-NNN.snap (traces of tracemalloc itself left out)."""
    time.sleep(after)
    tracemalloc.start(FRAMES)
    number = 0
    while True:
        snapshot = tracemalloc.take_snapshot().filter_traces([
            tracemalloc.Filter(False, tracemalloc.__file__),
        ])
        snapshot.dump(str(folder / f"{os.getpid()}-{number:03d}.snap"))
        number += 1
        time.sleep(every)


def run_traced() -> int:
    folder = Path(os.environ["TRACEMALLOC_SNAPSHOTS"])
    folder.mkdir(parents=True, exist_ok=True)
    every = float(os.environ.get("TRACEMALLOC_EVERY", "300"))
    after = float(os.environ.get("TRACEMALLOC_AFTER", "20"))
    threading.Thread(target=snapshots, args=(folder, every, after), name="heap-snapshots", daemon=True).start()
    from bot.cli import main

    return main(["run"])


def compare(first: Path, last: Path, top: int) -> None:
    """The allocation sites whose live memory grew most between two snapshots, with where they were called from."""
    before, after = tracemalloc.Snapshot.load(str(first)), tracemalloc.Snapshot.load(str(last))
    total = sum(stat.size for stat in after.statistics("filename")) - sum(
        stat.size for stat in before.statistics("filename"))
    print(f"traced heap {first.name} -> {last.name}: {total / 2**20:+.1f} MB")
    for stat in after.compare_to(before, "traceback")[:top]:
        print(f"\n{stat.size_diff / 1024:+.0f} KiB in {stat.count_diff:+d} blocks (now {stat.size / 1024:.0f} KiB)")
        for line in stat.traceback.format(limit=FRAMES, most_recent_first=True)[:2 * 8]:
            print("   ", line)


def main() -> int:
    if "--compare" not in sys.argv[1:]:
        return run_traced()
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--compare", nargs=2, type=Path, metavar=("FIRST", "LAST"), required=True)
    parser.add_argument("--top", type=int, default=15)
    args = parser.parse_args()
    compare(*args.compare, args.top)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
