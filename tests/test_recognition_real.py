"""Recognition on counters composed from real photographed meter digits (needs ../shared; skips without it)."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import pytest

from core.recognition import default_reader

SHARED = Path(__file__).resolve().parents[2] / "shared"
TOOL = SHARED / "tools" / "make_meter_set.py"
DIGITS = SHARED / "data" / "meter-digits"

pytestmark = pytest.mark.skipif(not (TOOL.exists() and DIGITS.exists()), reason="../shared meter digits are absent")


def _labelled_set(folder: Path, level: str, seed: int, n: int) -> list[dict]:
    cmd = [sys.executable, str(TOOL), "--digits", str(DIGITS), "--out", str(folder), "--n", str(n)]
    subprocess.run([*cmd, "--level", level, "--seed", str(seed)], check=True, stdout=subprocess.DEVNULL)
    with open(folder / "labels.csv", newline="") as fh:
        return list(csv.DictReader(fh))


# (level, seed, fewest exact readings of 40): the text-line engine read 36 strips and 39 scenes, 0 wrong
# (the template engine before it: 12 and 7).
@pytest.mark.parametrize(("level", "seed", "least_exact"), [("strip", 11, 32), ("scene", 12, 34)])
def test_real_digit_counters_are_read_or_left_unsure(tmp_path, level, seed, least_exact):
    rows = _labelled_set(tmp_path, level, seed, 40)
    reader = default_reader()
    exact = wrong = 0
    for row in rows:
        result = reader.read((tmp_path / row["file"]).read_bytes(), digits=int(row["digits"]), previous=int(row["previous"]))
        assert 0.0 <= result.confidence <= 1.0
        if result.reading is not None:
            assert len(result.reading) == int(row["digits"])
            exact += result.reading == row["reading"]
            wrong += result.reading != row["reading"]
    print(f"{level} seed {seed}: {exact} exact, {wrong} wrong of {len(rows)}")
    # A wrong reading costs the consumer more than 'not sure' (the goal is 2%; measured 0 and 0).
    assert wrong <= 1
    assert exact >= least_exact
