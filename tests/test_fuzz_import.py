"""Bad input at volume for the billing import: the demo folder with cells, rows and bytes damaged at random.

An import either succeeds (and importing the same folder again changes nothing) or raises ImportRefused
naming file and line, never another exception, and a refused import leaves the database as it was.
"""
from __future__ import annotations

import csv
import io
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from storage.exchange import FILES, ImportRefused, import_folder
from tests.support.demo import DEMO
from tests.support.faults import snapshot

DEMO_FILES = {name: list(csv.reader(io.StringIO((DEMO / name).read_text(encoding="utf-8"))))
              for name in FILES if (DEMO / name).is_file()}

# Cells a utility's export might really hold when something upstream goes wrong.
odd_cells = st.sampled_from([
    "", " ", "0", "-0", "-1", "00000", "1e5", "1E+400", "NaN", "inf", "0.0000001", "99999999999999", "1.23456",
    "12,5", "2026-02-30", "2026-13-01", "0000-01-01", "9999-12-31", "26-11-01", "2026-11-16T09:00:00",
    "0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00", "2026-11-16T09:00:00+02:00", "2026-13",
    "household", "business", "planned", "emergency", "telegram", "4", "9", "10", "3", "1-15;17;19А", ";;",
    "62Z4815162342001", "62Z48151623420O1", "010000012345", "٠١٢٣٤٥٦٧٨٩", "²³⁴⁵⁶", "Шевченко", "O'Brien",
    "\"", "a,b", "line\nbreak", "\u200b", "\ufeff", "x" * 301, "../outside.pdf", "/etc/passwd",
    "999999999999", "999999999999.9999", "1.2345", "a\x00b", "x" * 140_000,
])
any_cell = st.one_of(odd_cells, st.text(max_size=30))


@st.composite
def damaged_folder(draw) -> dict[str, bytes]:
    """The demo folder, some files left out, some cells, rows or bytes changed."""
    names = draw(st.lists(st.sampled_from(sorted(DEMO_FILES)), min_size=1, max_size=len(DEMO_FILES), unique=True))
    files = {name: [list(row) for row in DEMO_FILES[name]] for name in names}
    for _ in range(draw(st.integers(1, 4))):
        name = draw(st.sampled_from(names))
        rows = files[name]
        kind = draw(st.sampled_from(["cell", "cell", "cell", "header", "extra", "short", "repeat", "drop"]))
        line = draw(st.integers(1, max(len(rows) - 1, 1)))
        if kind == "cell" and len(rows) > 1 and rows[line]:
            column = draw(st.integers(0, len(rows[line]) - 1))
            rows[line][column] = draw(any_cell)
        elif kind == "header" and rows and rows[0]:
            rows[0][draw(st.integers(0, len(rows[0]) - 1))] = draw(st.sampled_from(["", "Account", "account ", "x"]))
        elif kind == "extra" and len(rows) > 1:
            rows[line].append(draw(any_cell))
        elif kind == "short" and len(rows) > 1 and rows[line]:
            rows[line] = rows[line][: draw(st.integers(0, len(rows[line]) - 1))]
        elif kind == "repeat" and len(rows) > 1:
            rows.insert(line, list(rows[line]))
        elif kind == "drop" and len(rows) > 1:
            del rows[line]
    folder = {}
    for name, rows in files.items():
        out = io.StringIO()
        csv.writer(out, lineterminator=draw(st.sampled_from(["\n", "\r\n"]))).writerows(rows)
        data = out.getvalue().encode("utf-8")
        damage = draw(st.sampled_from(["none", "none", "none", "bom", "cut", "latin1", "bytes"]))
        if damage == "bom":
            data = b"\xef\xbb\xbf" + data
        elif damage == "cut":
            data = data[: draw(st.integers(0, len(data)))]
        elif damage == "latin1":
            data = out.getvalue().encode("cp1251", errors="replace")
        elif damage == "bytes":
            at = draw(st.integers(0, len(data)))
            data = data[:at] + draw(st.binary(min_size=1, max_size=8)) + data[at:]
        folder[name] = data
    return folder


async def run_import(database, folder: Path):
    async with database.session() as session:
        return await import_folder(session, folder)


@settings(max_examples=120, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(damaged_folder())
async def test_a_damaged_folder_is_imported_or_refused_line_by_line_and_a_refusal_changes_nothing(
        demo_database, files):
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        for file, data in files.items():
            (folder / file).write_bytes(data)
        before = await snapshot(demo_database)
        try:
            await run_import(demo_database, folder)
        except ImportRefused as refusal:
            assert refusal.problems
            assert all(problem.file in files and problem.line >= 0 and problem.reason for problem in refusal.problems)
            assert await snapshot(demo_database) == before
            return
        imported = await snapshot(demo_database)
        await run_import(demo_database, folder)
        assert await snapshot(demo_database) == imported  # idempotent


# ----- what the fuzz found (each crashed the import, or lost data, before it was refused by line)


def demo_with(tmp_path: Path, name: str, line: int, column: str, value: str) -> Path:
    folder = tmp_path / "folder"
    shutil.copytree(DEMO, folder)
    rows = list(csv.reader(io.StringIO((folder / name).read_text(encoding="utf-8"))))
    rows[line][rows[0].index(column)] = value
    with open(folder / name, "w", newline="", encoding="utf-8") as out:
        csv.writer(out).writerows(rows)
    return folder


FOUND = [
    pytest.param("outages.csv", 1, "starts_at", "0001-01-01T00:00:00+05:00", id="timestamp-before-year-1-in-utc"),
    pytest.param("outages.csv", 1, "ends_at", "9999-12-31T23:59:59-05:00", id="timestamp-after-9999-in-utc"),
    pytest.param("accounts.csv", 1, "full_name", "x" * 140_000, id="cell-over-128-kib"),
    pytest.param("invoices.csv", 1, "pdf", "receipt\x00.pdf", id="nul-in-pdf-path"),
    pytest.param("accounts.csv", 2, "eic", "62Z4815162342001", id="eic-of-another-account"),
    # Not crashes but silent losses: the format allows 4 decimals, the columns keep 3 (K) and 2 (money).
    pytest.param("meters.csv", 1, "k_factor", "0.0004", id="k-factor-rounded-to-zero"),
    pytest.param("payments.csv", 1, "amount", "300.004", id="amount-rounded-to-cents"),
]
POSTGRESQL_ONLY = [
    pytest.param("invoices.csv", 1, "kwh", "999999999999", id="kwh-wider-than-numeric-14-3"),
    pytest.param("accounts.csv", 1, "balance", "999999999999.995", id="balance-rounds-past-numeric-14-2"),
    pytest.param("accounts.csv", 1, "full_name", "Шев\x00ченко", id="nul-in-text"),
]


@pytest.mark.parametrize("name, line, column, value", FOUND + POSTGRESQL_ONLY)
async def test_found_by_the_fuzz_is_refused_with_file_and_line(database, tmp_path, name, line, column, value):
    folder = demo_with(tmp_path, name, line, column, value)
    if (name, column) == ("accounts.csv", "eic"):
        async with database.session() as session:
            await import_folder(session, DEMO)
    before = await snapshot(database)
    with pytest.raises(ImportRefused) as refused:
        async with database.session() as session:
            await import_folder(session, folder)
    assert [(p.file, p.line) for p in refused.value.problems] == [(name, line + 1)]
    assert await snapshot(database) == before

