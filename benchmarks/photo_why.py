"""Why whole photos were not read exactly: each place's reading, and the rule that refused it, photo by photo.

For every photo of a labelled set (benchmarks/meter_photos.py) that the line reader does not read exactly, prints
each place it read (source, size, reading or candidates, confidence, evidence), the drum rule that refused a reading
sure enough to be given (half: a drum caught between two digits; arriving: a last digit lower than the others;
window: nearly arrived, judged in its own window; parts: two ink parts and a last digit no model is sure of;
uneven: a dropped drum; x9: X9 against X0), the larger decode's and the second cut's readings, and a cause:

  nowhere     no place reads the right reading, even among its candidates
  unsure      the band read best reads it first, under the acceptance
  rule:NAME   the band read best reads it surely, refused by a drum rule
  rival       read, and another place reads another reading close to it
  candidate   among the best band's candidates, not first
  wrong       read wrong

  .venv/bin/python benchmarks/photo_why.py --set /tmp/sets/photo-303/photo [--cuts /tmp/why303] [--all]
"""

from __future__ import annotations

import argparse
import csv
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.recognition import drums  # noqa: E402
from core.recognition.counter import cut_searched  # noqa: E402
from core.recognition.decode import Decoded  # noqa: E402
from core.recognition.engine import digit_counts  # noqa: E402
from core.recognition.lines import (  # noqa: E402
    LineMeterReader, dropped_drum, integer_drums, reading_drums, squeeze_gaps,
)
from core.recognition.photo import load_detail, load_photo  # noqa: E402
from core.recognition.scene import Place  # noqa: E402


def refusals(reader: LineMeterReader, picture, decoded: Decoded, digits: int) -> list[str]:
    """The rules that refuse (or would refuse) this place's likeliest reading, when it is sure enough to be given: the
    drum signs on the whole line, then (after "cut:") on the line cut to the reading's drums (reading_drums)."""
    found = decoded.recognition
    ranked = ([found.reading] if found.reading else []) + list(found.candidates)
    if not ranked or found.confidence < reader.accept:
        return []
    likeliest = ranked[0]
    raw = [model.frames(picture) for model in reader.models()]
    frames = [squeeze_gaps(f) for f in raw]
    names = list(drums.last_drum_signs(picture, len(likeliest), frames))
    cut = reading_drums(picture, raw, len(likeliest))
    if cut is not picture:
        names += [f"cut{cut.width}:"] + list(drums.last_drum_signs(cut, len(likeliest), frames))
    if dropped_drum(raw, likeliest):
        names.append("uneven")
    if len(ranked) > 1 and drums.advanced_before_last(*ranked[:2]):
        names.append("x9")
    return names


def describe(place: Place, decoded: Decoded, names: list[str]) -> str:
    found = decoded.recognition
    said = found.reading or "-"
    others = ",".join(found.candidates[:3])
    rules = f" refused:{'+'.join(names)}" if names else ""
    return (f"  {place.source:5} {place.picture.width}x{place.picture.height} read {said} ({others}) "
            f"conf {found.confidence:.2f} evidence {decoded.evidence:.1f}{rules}")


def cause(read: list[tuple[Place, Decoded, list[str]]], truth: str, answer: str | None) -> str:
    if answer is not None:
        return "wrong" if answer != truth else "exact"
    bands = [(place, decoded, names) for place, decoded, names in read if place.source != "text"]
    if not any(truth in (decoded.recognition.reading, *decoded.recognition.candidates) for _, decoded, _ in read):
        return "nowhere"
    if not bands:
        return "nowhere"
    _, best, names = max(bands, key=lambda item: item[1].evidence)
    found = best.recognition
    if found.reading == truth:
        return "rival"
    if found.reading is None and found.candidates[:1] == (truth,):
        return f"rule:{'+'.join(names)}" if names else "unsure"
    return "candidate" if truth in found.candidates else "nowhere"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--set", type=Path, required=True, help="a folder with labels.csv")
    ap.add_argument("--cuts", type=Path, help="save each place's cut here (PNG) for the photos described")
    ap.add_argument("--all", action="store_true", help="describe the photos read exactly too")
    ap.add_argument("--only", default="", help="comma-separated file names to look at")
    args = ap.parse_args()
    reader = LineMeterReader()
    with open(args.set / "labels.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    only = set(filter(None, args.only.split(",")))
    causes: Counter[str] = Counter()
    for row in rows:
        if only and row["file"] not in only:
            continue
        data = (args.set / row["file"]).read_bytes()
        digits, previous, truth = int(row["digits"]), int(row["previous"]), row["reading"]
        photo = load_photo(data)
        answer = reader.read_photo(photo, digits=digits, previous=previous, detail=lambda data=data: load_detail(data))
        if answer.reading == truth and not args.all:
            causes["exact"] += 1
            continue
        found = reader.places(photo, [digits] if digits else digit_counts(previous))
        read = [(place, decoded, refusals(reader, place.picture, decoded, digits))
                for place, decoded in reader.read_places(found, digits=digits, previous=previous)]
        why = cause(read, truth, answer.reading)
        causes[why] += 1
        print(f"{row['file']} truth {truth} answer {answer.reading or '-'} ({','.join(answer.candidates[:3])}) "
              f"conf {answer.confidence:.2f}: {why}")
        for place, decoded, names in read:
            print(describe(place, decoded, names))
        pairs = [(place, decoded) for place, decoded, _ in read]
        sharper = reader._sharper(pairs, photo, lambda data=data: load_detail(data))
        extra = []
        if sharper is not None:
            extra.append(sharper)
        bands = [(place, decoded) for place, decoded in pairs if place.searched is not None]
        if bands:
            place = max(bands, key=lambda item: item[1].evidence)[0]
            if place.searched is not None:
                extra.append(Place(integer_drums(cut_searched(photo, place.searched)), "cut2", place.thickness))
        for place, decoded in reader.read_places(extra, digits=digits, previous=previous):
            tag = "large" if place is sharper else "cut2"
            print(describe(Place(place.picture, tag, place.thickness), decoded,
                           refusals(reader, place.picture, decoded, digits)))
        if args.cuts:
            args.cuts.mkdir(parents=True, exist_ok=True)
            stem = Path(row["file"]).stem
            for k, place in enumerate([place for place, _, _ in read] + extra):
                place.picture.save(args.cuts / f"{stem}-{k}-{place.source}.png")
        sys.stdout.flush()
    print(" ".join(f"{name} {count}" for name, count in causes.most_common()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
