"""Labelled counters with red fraction drums: N black integer drums, then 1-3 red ones after a frame.

Built on ../shared/tools/make_meter_set.py (its digit crops, strip and scene): the integer strip as that tool
composes it, then a strip of fraction digits tinted red, side by side (`0000 2|0 8 4`). The label is the
integer part only, which is the reading.

  .venv/bin/python benchmarks/red_drums.py --out /tmp/red --n 100 --level strip --seed 31
  .venv/bin/python benchmarks/red_drums.py --out /tmp/near --n 60 --level strip --seed 61 --half 1 --nearly
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import random
from pathlib import Path

from PIL import Image, ImageOps, ImageStat

SHARED = Path(__file__).resolve().parents[2] / "shared"


def meter_set_tool(shared: Path = SHARED):
    """The shared generator as a module (it is a script, not a package)."""
    spec = importlib.util.spec_from_file_location("make_meter_set", shared / "tools" / "make_meter_set.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def red(strip: Image.Image, rng: random.Random) -> Image.Image:
    """The strip as fraction drums are often made: light digits on red drums (dark digits on light drums turned)."""
    grey = strip.convert("L")
    if ImageStat.Stat(grey).mean[0] > 128:
        grey = ImageOps.invert(grey)
    drum = (rng.randint(140, 210), rng.randint(5, 45), rng.randint(5, 45))
    ink = (rng.randint(235, 255), rng.randint(205, 240), rng.randint(200, 235))
    return ImageOps.colorize(ImageOps.autocontrast(grey, cutoff=2), drum, ink)


HALF_WAY = ("3", "4", "5", "6", "7")  # tenths of the way from one digit to the next: caught half-way
NEARLY = ("1", "2", "8", "9")  # just leaving the lower digit, or the next one nearly arrived


def half_turned(root: Path, tenths: tuple[str, ...] = HALF_WAY) -> dict[str, dict[int, list[Path]]]:
    """Meter type -> lower digit -> crops of a drum caught `tenths` of the way to the next digit (labels d.t)."""
    table: dict[str, dict[int, list[Path]]] = {}
    with open(root / "labels.csv", newline="") as fh:
        for row in csv.DictReader(fh):
            parts = Path(row["path"]).parts
            whole, _, tenth = row["label"].partition(".")
            if "powermeter" not in parts or not whole.isdigit() or tenth not in tenths:
                continue
            meter = parts[parts.index("powermeter") + 1]
            table.setdefault(meter, {}).setdefault(int(whole), []).append(root / row["path"])
    return table


def with_half_turned_last_drum(rng: random.Random, strip: Image.Image, reading: str, crops: list[Path]) -> Image.Image:
    """The strip with its last drum replaced by one caught between two digits (the reading keeps the lower)."""
    return with_last_drum(strip, reading, rng.choice(crops))


def with_last_drum(strip: Image.Image, reading: str, crop: Path) -> Image.Image:
    """The strip with its last drum replaced by this crop, framed as the strip's drums are."""
    cell = strip.width // len(reading)
    last = Image.open(crop).convert("RGB")
    frame = (strip.height - round(strip.height * 0.8)) // 2
    size = (max(8, cell - 2 * frame // 3), strip.height - 2 * frame)
    out = strip.copy()
    out.paste(last.resize(size), (strip.width - frame - size[0], frame))
    return out


def counter_with_fraction(tool, rng: random.Random, digits, reading: str, fraction: str, height: int) -> Image.Image:
    whole = tool.strip(rng, digits, reading, height)
    part = red(tool.strip(rng, digits, fraction, height), rng)
    part = part.resize((round(part.width * whole.height / part.height), whole.height))
    out = Image.new("RGB", (whole.width + part.width, whole.height))
    out.paste(whole, (0, 0))
    out.paste(part, (whole.width, 0))
    return out


def make_set(out: Path, n: int, level: str, seed: int, shared: Path = SHARED, half: float = 0.0,
             tenths: tuple[str, ...] = HALF_WAY) -> None:
    """half: the share of counters whose last integer drum is caught `tenths` of the way between two digits (no
    fraction drums); the label keeps the lower digit."""
    tool = meter_set_tool(shared)
    rng = random.Random(seed)
    table = tool.load_digits(shared / "data" / "meter-digits", None)
    halves = half_turned(shared / "data" / "meter-digits", tenths)
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "labels.csv", "w", newline="") as fh:
        rows = csv.writer(fh)
        rows.writerow(["file", "reading", "digits", "previous", "meter_type", "last_drum"])
        for i in range(n):
            meter = rng.choice(sorted(table))
            count = rng.choice([4, 5, 5, 6])
            reading = "".join(str(rng.randint(0, 9)) for _ in range(count))
            fraction = "".join(str(rng.randint(0, 9)) for _ in range(rng.choice([1, 1, 2, 3])))
            last_drum = ""  # the turned last drum's crop, its label saying how far it is turned
            if rng.random() < half and halves.get(meter, {}).get(int(reading[-1])):
                img = tool.strip(rng, table[meter], reading, rng.randint(60, 140))
                crop = rng.choice(halves[meter][int(reading[-1])])
                img = with_last_drum(img, reading, crop)
                last_drum = str(crop.relative_to(shared / "data" / "meter-digits"))
            else:
                img = counter_with_fraction(tool, rng, table[meter], reading, fraction, rng.randint(60, 140))
            if level == "scene":
                img = tool.scene(rng, img)
            previous = max(0, int(reading) - rng.randint(20, 900))
            name = f"{i:04d}.jpg"
            img.save(out / name, quality=rng.randint(55, 90))
            rows.writerow([name, reading, count, str(previous).zfill(count), meter, last_drum])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--n", type=int, default=100)
    parser.add_argument("--level", choices=("strip", "scene"), default="strip")
    parser.add_argument("--seed", type=int, default=31)
    parser.add_argument("--shared", type=Path, default=SHARED)
    parser.add_argument("--half", type=float, default=0.0,
                        help="share of counters whose last drum is caught between two digits, instead of fractions")
    parser.add_argument("--nearly", action="store_true",
                        help="the caught drum 0.1-0.2 or 0.8-0.9 of the way (just leaving, nearly arrived), not 0.3-0.7")
    args = parser.parse_args()
    make_set(args.out, args.n, args.level, args.seed, args.shared, args.half, NEARLY if args.nearly else HALF_WAY)


if __name__ == "__main__":
    main()
