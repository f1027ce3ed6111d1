"""`kabinet recognize IMAGE...`: read meter photos and print one JSON line per image."""

from __future__ import annotations

import argparse
import csv
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from core.recognition import ENGINES, PhotoRejected, default_reader
from core.recognition.lines import ModelsMissing


def add_command(subparsers) -> None:
    parser = subparsers.add_parser(
        "recognize",
        help="read the counter value from meter photos",
        description="Read the counter value from meter photos; prints one JSON line per image.",
    )
    parser.add_argument("images", nargs="*", type=Path, metavar="IMAGE")
    parser.add_argument("--digits", type=int, help="the meter's number of digits")
    parser.add_argument("--previous", type=int, help="the meter's previous reading")
    parser.add_argument("--type", dest="meter_type", default="",
                        help="the meter's type as billing names it (NIK 2102, GAMA 100: its display is read first)")
    parser.add_argument("--zones", type=_zones_argument, default=(), metavar="PREV1,PREV2[,PREV3]",
                        help="a multi-zone meter: each zone's previous reading, T1 first (empty: not known)")
    parser.add_argument(
        "--manifest", type=Path,
        help="CSV with columns file, digits, previous, and optionally type, zones (file relative to the CSV)"
    )
    parser.add_argument("--json", action="store_true", help="JSON lines (the default and only format)")
    parser.add_argument("--engine", choices=ENGINES, help="lines (the default; KABINET_RECOGNIZER) or templates")
    parser.set_defaults(func=run)


@dataclass(frozen=True)
class Job:
    """One image and what billing knows of its meter."""

    path: Path
    digits: int | None
    previous: int | None
    meter_type: str = ""
    zone_previous: tuple[int | None, ...] = ()


def _jobs(args) -> list[Job]:
    jobs = [Job(path, args.digits, args.previous, args.meter_type, args.zones) for path in args.images]
    if args.manifest:
        with open(args.manifest, newline="", encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                path = Path(row["file"])
                if not path.is_absolute():
                    path = args.manifest.parent / path
                jobs.append(Job(path, _number(row.get("digits")), _number(row.get("previous")),
                                (row.get("type") or "").strip(), _zones(row.get("zones") or "")))
    return jobs


def _number(text: str | None) -> int | None:
    text = (text or "").strip()
    return int(text) if text else None


def _zones(text: str) -> tuple[int | None, ...]:
    """`23456,23300` (or `;`-separated, as a CSV cell may need): each zone's previous reading; empty: one zone."""
    if not text.strip():
        return ()
    zones = tuple(_number(part) for part in re.split("[,;]", text))
    if not 2 <= len(zones) <= 3:
        raise ValueError(f"zones takes the previous readings of 2 or 3 zones, not {text!r}")
    return zones


def _zones_argument(text: str) -> tuple[int | None, ...]:
    try:
        return _zones(text)
    except ValueError as exc:  # argparse names the option and exits 2 with this message
        raise argparse.ArgumentTypeError(str(exc)) from None


def run(args) -> int:
    try:
        jobs = _jobs(args)
    except (OSError, KeyError, ValueError) as exc:
        print(f"kabinet recognize: bad manifest: {exc}", file=sys.stderr)
        return 2
    if not jobs:
        print("kabinet recognize: give IMAGE paths or --manifest", file=sys.stderr)
        return 2
    try:
        reader = default_reader(args.engine)
    except ValueError as exc:
        print(f"kabinet recognize: {exc}", file=sys.stderr)
        return 2
    failed = False
    for job in jobs:
        line: dict[str, object] = {"file": str(job.path)}
        try:
            result = reader.read(job.path.read_bytes(), digits=job.digits, previous=job.previous,
                                 meter_type=job.meter_type, zone_previous=job.zone_previous)
            line.update(reading=result.reading, confidence=round(result.confidence, 4), candidates=list(result.candidates))
            if result.zone is not None:
                line.update(zone=result.zone)
        except PhotoRejected as exc:
            line.update(reading=None, confidence=0.0, error=exc.reason)
        except OSError as exc:
            line.update(reading=None, confidence=0.0, error="unreadable_file", detail=exc.strerror or str(exc))
            failed = True
        except ValueError as exc:
            line.update(reading=None, confidence=0.0, error="bad_arguments", detail=str(exc))
            failed = True
        except ModelsMissing as exc:
            print(f"kabinet recognize: {exc}", file=sys.stderr)
            return 2
        print(json.dumps(line, ensure_ascii=False), flush=True)
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="kabinet")
    add_command(parser.add_subparsers(required=True))
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    raise SystemExit(main())
