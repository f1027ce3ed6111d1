"""`kabinet recognize IMAGE...`: read meter photos and print one JSON line per image."""

from __future__ import annotations

import argparse
import csv
import json
import sys
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
    parser.add_argument(
        "--manifest", type=Path, help="CSV with columns file, digits, previous (file relative to the CSV)"
    )
    parser.add_argument("--json", action="store_true", help="JSON lines (the default and only format)")
    parser.add_argument("--engine", choices=ENGINES, help="lines (the default; KABINET_RECOGNIZER) or templates")
    parser.set_defaults(func=run)


def _jobs(args) -> list[tuple[Path, int | None, int | None]]:
    jobs = [(path, args.digits, args.previous) for path in args.images]
    if args.manifest:
        with open(args.manifest, newline="", encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                path = Path(row["file"])
                if not path.is_absolute():
                    path = args.manifest.parent / path
                jobs.append((path, _number(row.get("digits")), _number(row.get("previous"))))
    return jobs


def _number(text: str | None) -> int | None:
    text = (text or "").strip()
    return int(text) if text else None


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
    for path, digits, previous in jobs:
        line: dict[str, object] = {"file": str(path)}
        try:
            result = reader.read(path.read_bytes(), digits=digits, previous=previous)
            line.update(reading=result.reading, confidence=round(result.confidence, 4), candidates=list(result.candidates))
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
