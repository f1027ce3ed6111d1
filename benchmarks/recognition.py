"""Meter-photo recognition benchmark: Kabinet's reader beside plain pytesseract on labelled sets.

Makes the sets with ../shared/tools/make_meter_set.py (strip and scene levels), red_drums.py (red-*, half-*,
near-*: the last drum 0.1-0.2 or 0.8-0.9 of the way to the next digit, read as the lower)
and meter_photos.py (photo: whole phone photos; frame: a fixed camera's frames) unless given folders, then
prints a markdown table: exact readings, wrong readings, 'not sure', CPU time per image, and the reading
process's peak resident memory while reading any one image (plain pytesseract: its tesseract processes', taken
with GNU time).

  .venv/bin/python benchmarks/recognition.py --shared ../shared --n 200 --seed 101
  .venv/bin/python benchmarks/recognition.py --set strip=/tmp/strips --set scene=/tmp/scenes
  .venv/bin/python benchmarks/recognition.py --levels red-strip,red-scene --n 100 --seed 33   # fraction drums
  .venv/bin/python benchmarks/recognition.py --levels photo,frame --n 100 --seed 101          # whole photos
  .venv/bin/python benchmarks/recognition.py --levels photo,telegram --n 100 --seed 101       # as Telegram sends them

--engine lines (the default reader: PP-OCR text-line models) or templates (the font-template engine).
--sweep reads each photo once and prints a row per acceptance threshold; choose thresholds on development
sets only (other seeds than the reported ones):

  .venv/bin/python benchmarks/recognition.py --set strip=/tmp/dev12_strip --sweep 0.5,0.8,0.9 --no-baseline

For the template engine, --scene-scoring sets the templates averaged and the softmax sharpness of counters
found in a whole-meter photo, and --sweep applies to whole-meter photos only:

  .venv/bin/python benchmarks/recognition.py --engine templates --set scene=/tmp/scenes9 --scene-scoring 1,20 --sweep 0.995,0.9995
"""

from __future__ import annotations

import argparse
import csv
import os
import re
import statistics
import subprocess
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

os.environ.setdefault("OMP_THREAD_LIMIT", "1")  # one core for tesseract too

import pytesseract  # noqa: E402
from PIL import Image  # noqa: E402

from benchmarks.meter_photos import make_set as make_photo_set  # noqa: E402
from benchmarks.red_drums import HALF_WAY, NEARLY  # noqa: E402
from benchmarks.red_drums import make_set as make_red_set  # noqa: E402
from core.recognition import PhotoRejected, default_reader  # noqa: E402
from core.recognition.engine import FOUND_COUNTER, STRIP_ASPECT, MeterPhotoReader, Scoring  # noqa: E402
from core.recognition.lines import ACCEPT, FRACTION_PRIOR, LineMeterReader  # noqa: E402


@dataclass
class Tally:
    exact: int = 0
    wrong: int = 0
    unsure: int = 0
    seconds: list[float] = field(default_factory=list)
    peak_mb: float = 0.0  # the reading process's peak resident memory while reading any one photo
    wrong_by_meter: Counter = field(default_factory=Counter)
    exact_by_meter: Counter = field(default_factory=Counter)
    total_by_meter: Counter = field(default_factory=Counter)

    def add(self, reading: str | None, truth: str, meter: str, seconds: float, peak_mb: float = 0.0) -> None:
        self.seconds.append(seconds)
        self.peak_mb = max(self.peak_mb, peak_mb)
        self.total_by_meter[meter] += 1
        if reading is None:
            self.unsure += 1
        elif reading == truth:
            self.exact += 1
            self.exact_by_meter[meter] += 1
        else:
            self.wrong += 1
            self.wrong_by_meter[meter] += 1

    def row(self, name: str) -> str:
        n = len(self.seconds)
        secs = sorted(self.seconds)
        p95 = secs[min(n - 1, int(round(0.95 * (n - 1))))]
        return (
            f"| {name} | {n} | {100 * self.exact / n:.1f}% | {100 * self.wrong / n:.1f}% | "
            f"{100 * self.unsure / n:.1f}% | {statistics.median(secs):.3f} s | {p95:.3f} s | {self.peak_mb:.0f} MB |"
        )


def cpu_seconds() -> float:
    """CPU time of this process and its finished children (tesseract), so other load on the machine does not count."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def reset_peak_memory() -> None:
    """Start the process's peak resident memory (VmHWM) afresh from what it holds now (Linux)."""
    with open("/proc/self/clear_refs", "w") as fh:
        fh.write("5")


def peak_memory_mb() -> float:
    """The process's peak resident memory since reset_peak_memory."""
    with open("/proc/self/status") as fh:
        return next(int(line.split()[1]) for line in fh if line.startswith("VmHWM:")) / 1024


class TesseractPeak:
    """The peak resident memory of each tesseract run, taken by GNU time around it (pytesseract calls a wrapper).

    A child's own figure (RUSAGE_CHILDREN) would count the benchmark's memory too: a forked child starts as it.
    """

    def __init__(self, folder: Path):
        self.log = folder / "tesseract-peaks"
        wrapper = folder / "tesseract"
        wrapper.write_text(f'#!/bin/sh\nexec /usr/bin/time -f %M -a -o "{self.log}" tesseract "$@"\n')
        wrapper.chmod(0o755)
        self.available = Path("/usr/bin/time").exists()
        if self.available:
            pytesseract.pytesseract.tesseract_cmd = str(wrapper)

    def last_mb(self) -> float:
        if not self.available or not self.log.exists():
            return 0.0
        return int(self.log.read_text().split()[-1]) / 1024


def plain_tesseract(path: Path, digits: int) -> str | None:
    """What plain pytesseract says: the digit run of the meter's length, if it finds one."""
    text = pytesseract.image_to_string(Image.open(path), config="--psm 6 -c tessedit_char_whitelist=0123456789")
    runs = re.findall(r"\d+", text)
    fitting = [r for r in runs if len(r) == digits]
    if fitting:
        return fitting[0]
    joined = "".join(runs)
    return joined or None


def run_set(
    folder: Path, limit: int | None, baseline: bool, reader: MeterPhotoReader | LineMeterReader | None = None
) -> tuple[Tally, Tally | None, list[tuple[float, str | None, str, str, float]]]:
    """Our tally, plain tesseract's, and per photo (confidence, reading given, truth, meter, CPU seconds, peak MB)."""
    reader = reader or default_reader()
    reader.read_photo(Image.new("RGB", (300, 80)), digits=5, previous=12345)  # builds templates, loads models
    ours, plain = Tally(), Tally() if baseline else None
    tesseract_peak = TesseractPeak(Path(tempfile.mkdtemp()))
    seen: list[tuple[float, str | None, str, str, float, float]] = []
    with open(folder / "labels.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))[:limit]
    for row in rows:
        path = folder / row["file"]
        digits, previous = int(row["digits"]), int(row["previous"])
        meter = row.get("meter_type", "")
        data = path.read_bytes()
        reset_peak_memory()
        start = cpu_seconds()
        try:
            result = reader.read(data, digits=digits, previous=previous)
            reading, confidence = result.reading, result.confidence
        except PhotoRejected:
            reading, confidence = None, 0.0
        seconds = cpu_seconds() - start
        peak = peak_memory_mb()
        ours.add(reading, row["reading"], meter, seconds, peak)
        seen.append((confidence, reading, row["reading"], meter, seconds, peak))
        if plain is not None:
            start = cpu_seconds()
            said = plain_tesseract(path, digits)
            plain.add(said, row["reading"], meter, cpu_seconds() - start, tesseract_peak.last_mb())
    return ours, plain, seen


def sweep(folder: Path, limit: int | None, neighbours: int, sharpness: float, thresholds: list[float]) -> dict[float, Tally]:
    """Reads a set of whole-meter photos once, giving every found counter's reading, then tallies per threshold."""
    with open(folder / "labels.csv", newline="") as fh:
        for row in list(csv.DictReader(fh))[:limit]:
            with Image.open(folder / row["file"]) as im:
                if im.width >= STRIP_ASPECT * im.height:
                    raise SystemExit(f"--sweep is for whole-meter photos; {row['file']} may be the counter alone")
    reader = MeterPhotoReader(Scoring(neighbours, sharpness, accept=0.0))
    _, _, seen = run_set(folder, limit, False, reader)
    return {threshold: tally_at(seen, threshold) for threshold in thresholds}


def tally_at(seen: list[tuple[float, str | None, str, str, float, float]], threshold: float) -> Tally:
    """The tally of photos read with every reading given (run_set's `seen`), had readings needed `threshold`."""
    tally = Tally()
    for confidence, reading, truth, meter, seconds, peak in seen:
        tally.add(reading if confidence >= threshold else None, truth, meter, seconds, peak)
    return tally


def make_sets(shared: Path, n: int, seed: int, out: Path, meters: str, levels: list[str]) -> list[tuple[str, Path]]:
    tool = shared / "tools" / "make_meter_set.py"
    sets = []
    for level in levels:
        folder = out / level
        if level in ("photo", "telegram", "frame"):  # phone photos (as taken, as Telegram passes them), frames
            make_photo_set(folder, n, level, seed, shared)
            sets.append((level, folder))
            continue
        if level.startswith(("red-", "half-", "near-")):  # red fraction drums, or a turned last drum: red_drums.py
            # half-: the last drum 0.3-0.7 of the way to the next digit; near-: 0.1-0.2 or 0.8-0.9 of it
            kind, _, composed = level.partition("-")
            make_red_set(folder, n, composed, seed, shared, half=0.0 if kind == "red" else 1.0,
                         tenths=NEARLY if kind == "near" else HALF_WAY)
            sets.append((level, folder))
            continue
        cmd = [sys.executable, str(tool), "--digits", str(shared / "data" / "meter-digits"), "--out", str(folder)]
        cmd += ["--n", str(n), "--level", level, "--seed", str(seed)]
        if meters:
            cmd += ["--meters", meters]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        sets.append((level, folder))
    return sets


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shared", type=Path, default=Path(__file__).resolve().parents[2] / "shared")
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--seed", type=int, default=101)
    ap.add_argument("--meters", default="", help="meter types to compose from (default: all)")
    ap.add_argument("--set", action="append", default=[], metavar="NAME=DIR", help="use an existing labelled set")
    ap.add_argument("--levels", default="strip,scene",
                    help="of strip, scene, red-strip, red-scene, half-strip, half-scene, near-strip, near-scene, "
                    "photo, telegram, frame")
    ap.add_argument("--fraction", type=float, default=FRACTION_PRIOR,
                    help="prior of a line going on past the reading (fraction drums not cut off)")
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--no-baseline", action="store_true")
    ap.add_argument("--by-meter", action="store_true", help="also break our results down by meter type")
    ap.add_argument("--keep", type=Path, help="keep the generated sets in this folder")
    ap.add_argument("--engine", choices=("lines", "templates"), default="lines")
    ap.add_argument(
        "--scene-scoring",
        metavar="NEIGHBOURS,SHARPNESS",
        help=f"score found counters by the mean of each digit's NEIGHBOURS nearest templates with this softmax "
        f"sharpness (default: {FOUND_COUNTER.neighbours},{FOUND_COUNTER.sharpness:g})",
    )
    ap.add_argument("--sweep", metavar="T1,T2,...", help="whole-meter sets: a row per found-counter acceptance threshold")
    args = ap.parse_args()
    neighbours, sharpness = FOUND_COUNTER.neighbours, FOUND_COUNTER.sharpness
    if args.scene_scoring:
        n_text, s_text = args.scene_scoring.split(",")
        neighbours, sharpness = int(n_text), float(s_text)

    with tempfile.TemporaryDirectory() as tmp:
        sets = [(s.split("=", 1)[0], Path(s.split("=", 1)[1])) for s in args.set]
        if not sets:
            levels = args.levels.split(",")
            sets = make_sets(args.shared, args.n, args.seed, args.keep or Path(tmp), args.meters, levels)
        print("| set | n | exact | wrong | not sure | median CPU time | p95 CPU time | peak memory |")
        print("|---|---|---|---|---|---|---|---|")
        for name, folder in sets:
            if args.engine == "lines":
                run_lines(name, folder, args)
                continue
            if args.sweep:
                thresholds = [float(t) for t in args.sweep.split(",")]
                for threshold, tally in sweep(folder, args.limit, neighbours, sharpness, thresholds).items():
                    print(tally.row(f"{name}: {neighbours} nearest, sharpness {sharpness:g}, accept {threshold:g}"))
                    if args.by_meter:
                        print_by_meter(name, tally)
                continue
            found = Scoring(neighbours, sharpness, FOUND_COUNTER.accept)
            ours, plain, _ = run_set(folder, args.limit, not args.no_baseline, MeterPhotoReader(found))
            print(ours.row(f"{name}: Kabinet"), flush=True)
            if plain is not None:
                print(plain.row(f"{name}: plain pytesseract"), flush=True)
            if args.by_meter:
                print_by_meter(name, ours)
    return 0


def run_lines(name: str, folder: Path, args) -> None:
    """The text-line engine on one set: one row, or with --sweep a row per acceptance threshold."""
    thresholds = [float(t) for t in args.sweep.split(",")] if args.sweep else []
    reader = LineMeterReader(accept=0.0 if thresholds else ACCEPT, fraction=args.fraction)
    ours, plain, seen = run_set(folder, args.limit, not args.no_baseline, reader)
    if not thresholds:
        print(ours.row(f"{name}: Kabinet"), flush=True)
        if args.by_meter:
            print_by_meter(name, ours)
    for threshold in thresholds:
        tally = tally_at(seen, threshold)
        print(tally.row(f"{name}: Kabinet, accept {threshold:g}"), flush=True)
        if args.by_meter:
            print_by_meter(name, tally)
    if plain is not None:
        print(plain.row(f"{name}: plain pytesseract"), flush=True)


def print_by_meter(name: str, tally: Tally) -> None:
    for meter in sorted(tally.total_by_meter):
        total = tally.total_by_meter[meter]
        print(
            f"|  {name} {meter} | {total} | {100 * tally.exact_by_meter[meter] / total:.0f}% | "
            f"{100 * tally.wrong_by_meter[meter] / total:.0f}% | | | | |"
        )


if __name__ == "__main__":
    raise SystemExit(main())
