"""Electronic meters' displays read by Kabinet's reader, beside the drum-counter engine, on benchmarks/lcd_set.py's sets.

Prints a markdown table per set: exact / wrong / not sure readings (the integer part), the zone the display shows
(right, wrong, not seen), median and p95 CPU time per photo (one core, models loaded).

  .venv/bin/python benchmarks/lcd_reading.py --levels lcd-strip,lcd-photo --n 100 --seed 61
  .venv/bin/python benchmarks/lcd_reading.py --set lcd-photo=/tmp/lcd61p --sweep 0.5,0.8,0.9
  .venv/bin/python benchmarks/lcd_reading.py --levels lcd-strip,lcd-photo --n 100 --seed 61 --backlit 0.5

With --backlit SHARE that share of the generated displays is backlit; a row per backlit kind follows each set's.
--levels lcd-real,lcd-real-photo: displays composed from real photographed LCD digits (needs ../shared, see
lcd_set.py). With --causes a row per set counts why the photos not read exactly were not (Kabinet only):

  .venv/bin/python benchmarks/lcd_reading.py --levels lcd-real,lcd-real-photo --n 100 --seed 81 --causes

The drum engine (`LineMeterReader`, the default reader before electronic meters) is given the previous reading of
the zone the display is in, which the bot would not know for a multi-zone meter; --no-baseline leaves it out.
"""

from __future__ import annotations

import argparse
import csv
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.lcd_set import LEVELS, make_set  # noqa: E402
from benchmarks.recognition import Tally, cpu_seconds  # noqa: E402
from core.recognition import PhotoRejected, Recognition  # noqa: E402
from core.recognition.lcd import DisplayAwareReader, read_display  # noqa: E402
from core.recognition.lines import LineMeterReader  # noqa: E402
from core.recognition.photo import load_photo  # noqa: E402

CAUSES = ("no display found", "no decimal point seen", "fraction taken in", "digits misread", "unsure")


@dataclass
class Zones:
    right: int = 0
    wrong: int = 0
    unseen: int = 0  # the display shows a zone and the reader did not say one
    invented: int = 0  # the display shows none and the reader said one
    wrong_files: list[str] = field(default_factory=list)

    def add(self, said: int | None, truth: int | None, name: str) -> None:
        if truth is None:
            self.invented += said is not None
        elif said is None:
            self.unseen += 1
        elif said == truth:
            self.right += 1
        else:
            self.wrong += 1
            self.wrong_files.append(name)


def rows_of(folder: Path, limit: int | None) -> list[dict[str, str]]:
    with open(folder / "labels.csv", newline="") as fh:
        return list(csv.DictReader(fh))[:limit]


def read_all(reader, folder: Path, limit: int | None, display: bool) -> list[tuple[Recognition, float]]:
    """Every photo of the set read once: what the reader said and its CPU seconds."""
    out = []
    for row in rows_of(folder, limit):
        data = (folder / row["file"]).read_bytes()
        digits = int(row["digits"])
        zone_previous = tuple(int(v) for v in row["previous_zones"].split(";")) if int(row["zones"]) > 1 else ()
        start = cpu_seconds()
        try:
            if display:
                said = reader.read(data, digits=digits, previous=int(row["previous"]), meter_type=row["meter_type"],
                                   zone_previous=zone_previous)
            else:
                said = reader.read(data, digits=digits, previous=int(row["previous"]))
        except PhotoRejected:
            said = Recognition(None, 0.0)
        out.append((said, cpu_seconds() - start))
    return out


def tally(rows: list[dict[str, str]], seen: list[tuple[Recognition, float]], accept: float | None = None
          ) -> tuple[Tally, Zones]:
    readings, zones = Tally(), Zones()
    for row, (said, seconds) in zip(rows, seen):
        reading = said.reading
        if accept is not None:  # read with accept 0: every best candidate given, judged at this threshold
            best = said.reading or (said.candidates[0] if said.candidates else None)
            reading = best if said.confidence >= accept else None
        readings.add(reading, row["reading"], row["meter_type"], seconds)
        if reading is not None and reading != row["reading"]:
            print(f"  wrong: {row['file']} ({row.get('look', '')}) shows {row['shown']!r}, read {reading} "
                  f"({said.confidence:.3f})",
                  file=sys.stderr)
        zones.add(said.zone, int(row["zone"]) if row["zone"] else None, row["file"])
    return readings, zones


def cause(folder: Path, row: dict[str, str], said: Recognition) -> str | None:
    """Why a photo was not read exactly (None when it was): no display found, no decimal point seen (the display
    was found and not read), the fraction digit taken into the integer part (the reading is the integer part
    shifted one place left with the fraction's digit after it), other digits misread, or unsure."""
    if said.reading == row["reading"]:
        return None
    if said.reading is not None:
        whole, _, fraction = row["shown"].replace(" ", "0").partition(".")
        return "fraction taken in" if said.reading == (whole + fraction)[-len(whole):] else "digits misread"
    display = read_display(load_photo((folder / row["file"]).read_bytes()))
    if display is None:
        return "no display found"
    return "unsure" if display.point else "no decimal point seen"


def cause_row(name: str, folder: Path, rows: list[dict[str, str]], seen: list[tuple[Recognition, float]]) -> str:
    counts = dict.fromkeys(CAUSES, 0)
    for row, (said, _) in zip(rows, seen):
        why = cause(folder, row, said)
        if why is not None:
            counts[why] += 1
            print(f"  {why}: {row['file']} shows {row['shown']!r}, read {said.reading} "
                  f"({said.confidence:.3f}, candidates {said.candidates[:2]})", file=sys.stderr)
    return f"| {name} | " + " | ".join(str(counts[c]) for c in CAUSES) + " |"


def zone_cell(zones: Zones) -> str:
    return f"{zones.right} / {zones.wrong} / {zones.unseen} / {zones.invented}"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=100)
    ap.add_argument("--seed", type=int, default=61)
    ap.add_argument("--levels", default=",".join(LEVELS))
    ap.add_argument("--set", action="append", default=[], metavar="NAME=DIR", help="use an existing labelled set")
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--backlit", type=float, default=0.0, help="the share of backlit displays in generated sets")
    ap.add_argument("--keep", type=Path, help="keep the generated sets in this folder")
    ap.add_argument("--no-baseline", action="store_true")
    ap.add_argument("--causes", action="store_true", help="count why photos were not read exactly (Kabinet)")
    ap.add_argument("--sweep", metavar="T1,T2,...", help="a row per acceptance threshold (development sets only)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        sets = [(s.split("=", 1)[0], Path(s.split("=", 1)[1])) for s in args.set]
        if not sets:
            for level in args.levels.split(","):
                make_set((args.keep or Path(tmp)) / level, args.n, level, args.seed, args.backlit)
                sets.append((level, (args.keep or Path(tmp)) / level))
        print("| set | reader | n | exact | wrong | not sure | median CPU | p95 CPU | zone right / wrong / not seen / invented |")
        print("|---|---|---|---|---|---|---|---|---|")
        thresholds = [float(t) for t in args.sweep.split(",")] if args.sweep else []
        ours = DisplayAwareReader(accept=0.0) if thresholds else DisplayAwareReader()
        ours.warm()
        causes: list[str] = []
        for name, folder in sets:
            rows = rows_of(folder, args.limit)
            seen = read_all(ours, folder, args.limit, display=True)
            for accept in thresholds or [None]:
                readings, zones = tally(rows, seen, accept)
                label = "Kabinet" if accept is None else f"Kabinet, accept {accept:g}"
                print(f"{readings.row(f'{name} | {label}')} {zone_cell(zones)} |", flush=True)
                looks = {row.get("look") or "grey-green" for row in rows}
                for look in sorted(looks) if len(looks) > 1 else []:
                    mine = [k for k, row in enumerate(rows) if (row.get("look") or "grey-green") == look]
                    readings, zones = tally([rows[k] for k in mine], [seen[k] for k in mine], accept)
                    print(f"{readings.row(f'{name}, {look} | {label}')} {zone_cell(zones)} |", flush=True)
            if args.causes:
                causes.append(cause_row(name, folder, rows, seen))
            if not args.no_baseline:
                drums = LineMeterReader()
                readings, zones = tally(rows, read_all(drums, folder, args.limit, display=False))
                print(f"{readings.row(f'{name} | drum engine')} {zone_cell(zones)} |", flush=True)
        if causes:
            print("\n| set (Kabinet, not exact) | " + " | ".join(CAUSES) + " |")
            print("|---" * (len(CAUSES) + 1) + "|")
            print("\n".join(causes))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
