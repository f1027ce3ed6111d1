"""Reading and checking an exchange folder: every file read, every bad row reported, before anything is written."""
from __future__ import annotations

import csv
import io
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.invoice_files import NotAnInvoicePdf, copy_pdf, open_pdf
from storage.exchange.columns import FILES, NATURAL_KEYS, BadValue, Column, ImportRefused, RowProblem


@dataclass
class ParsedFile:
    name: str
    rows: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    # Rows refused as malformed (their cells by column), and whether the file was read to its end: what other
    # files name in them is not reported "not known" as well.
    refused: list[dict[str, str]] = field(default_factory=list)
    complete: bool = True

    def refused_keys(self, *columns: str) -> set[tuple[str, ...]]:
        return {tuple(row.get(column, "") for column in columns) for row in self.refused}


def read_file(path: Path, columns: list[Column], problems: list[RowProblem]) -> ParsedFile:
    parsed = ParsedFile(path.name)
    try:
        content = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        problems.append(RowProblem(path.name, 0, f"not UTF-8 ({exc.reason} at byte {exc.start})"))
        parsed.complete = False
        return parsed
    reader = csv.reader(io.StringIO(content, newline=""))
    try:
        header = next(reader, None)
    except csv.Error as exc:
        problems.append(RowProblem(path.name, 1, f"not readable as CSV: {exc}"))
        parsed.complete = False
        return parsed
    if header is None:
        problems.append(RowProblem(path.name, 1, "empty file, the header row is missing"))
        parsed.complete = False
        return parsed
    header = [name.strip() for name in header]
    missing = [c.name for c in columns if c.name not in header and not c.added]
    unknown = [name for name in header if name not in {c.name for c in columns}]
    if missing or unknown:
        reason = "; ".join(filter(None, [
            f"missing column(s): {', '.join(missing)}" if missing else "",
            f"unknown column(s): {', '.join(unknown)}" if unknown else "",
        ]))
        problems.append(RowProblem(path.name, 1, reason))
        parsed.complete = False
        return parsed
    position = {name: index for index, name in enumerate(header)}
    line = reader.line_num
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:  # e.g. a field over the csv module's size limit: the rest cannot be read
            problems.append(RowProblem(path.name, line + 1, f"not readable as CSV: {exc}"))
            parsed.complete = False
            break
        row_line, line = line + 1, reader.line_num
        if not any(cell.strip() for cell in cells):
            continue
        raw = {name: cells[index].strip() for name, index in position.items() if index < len(cells)}
        if len(cells) != len(header):
            problems.append(RowProblem(path.name, row_line, f"{len(cells)} fields, the header has {len(header)}"))
            parsed.refused.append(raw)
            continue
        if any("\x00" in cell for cell in cells):
            problems.append(RowProblem(path.name, row_line, "contains a NUL character"))
            parsed.refused.append(raw)
            continue
        values: dict[str, Any] = {}
        for column in columns:
            cell = cells[position[column.name]].strip() if column.name in position else ""
            if not cell:
                if column.optional:
                    values[column.name] = None
                    continue
                problems.append(RowProblem(path.name, row_line, f"{column.name} is empty"))
                parsed.refused.append(raw)
                break
            try:
                values[column.name] = column.parse(cell)
            except BadValue as exc:
                problems.append(RowProblem(path.name, row_line, f"{column.name}: {exc}"))
                parsed.refused.append(raw)
                break
        else:
            parsed.rows.append((row_line, values))
    return parsed


def read_folder(folder: Path, attachments: Path | None = None) -> tuple[dict[str, ParsedFile], list[RowProblem]]:
    """Every file read and checked: the rows that are well-formed, and the problems of the others. With
    `attachments` and no problem, the invoices' PDFs are copied there (see import_folder)."""
    if not folder.is_dir():
        raise ImportRefused([RowProblem(str(folder), 0, "not a folder")])
    problems: list[RowProblem] = []
    files = {
        name: read_file(folder / name, columns, problems)
        for name, columns in FILES.items()
        if (folder / name).is_file()
    }
    if not files:
        problems.append(RowProblem(str(folder), 0, f"none of {', '.join(FILES)} is there"))
    for name, parsed in files.items():
        _check_unique(parsed, NATURAL_KEYS[name], problems)
        if name == "accounts.csv":
            _check_unique(parsed, ("eic",), problems, only=lambda row: bool(row["eic"]))
        if name == "invoices.csv":
            for line, row in parsed.rows:
                if row["pdf"] and (reason := _pdf_problem(folder, row["pdf"])):
                    problems.append(RowProblem(name, line, f"pdf: {row['pdf']!r} {reason}"))
        if name == "services.csv":
            for line, row in parsed.rows:
                if (reason := _service_problem(row)) is not None:
                    problems.append(RowProblem(name, line, reason))
        if name == "outages.csv":
            for line, row in parsed.rows:
                if row["ends_at"] and row["ends_at"] < row["starts_at"]:
                    problems.append(RowProblem(name, line, "ends_at is before starts_at"))
    if not problems and "invoices.csv" in files:
        _take_pdfs(folder, files["invoices.csv"], attachments, problems)
    return files, problems


def _service_problem(row: dict[str, Any]) -> str | None:
    """A paid service awaits payment and a free one never does; a price needs the payment step to be asked."""
    paid, _ = row["price"]
    steps = row["statuses"] or frozenset()
    if paid and "awaiting_payment" not in steps:
        return "a paid service goes through awaiting_payment: add it to statuses"
    if not paid and "awaiting_payment" in steps:
        return "a free service never awaits payment: drop awaiting_payment from statuses or give a price"
    return None


def _check_unique(parsed: ParsedFile, key: tuple[str, ...], problems: list[RowProblem],
                  only: Callable[[dict], bool] = lambda row: True) -> None:
    """A row repeating an earlier one's key (among the rows `only` picks) is a problem, and is dropped: one
    upsert statement may not touch a row twice."""
    seen: dict[tuple, int] = {}
    kept = []
    for line, row in parsed.rows:
        value = tuple(row[name] for name in key)
        if only(row) and value in seen:
            problems.append(RowProblem(parsed.name, line, f"repeats line {seen[value]} ({', '.join(key)})"))
            continue
        if only(row):
            seen[value] = line
        kept.append((line, row))
    parsed.rows = kept


def _inside(folder: Path, relative: str) -> bool:
    target = (folder / relative).resolve()
    return target.is_file() and folder.resolve() in target.parents


def _pdf_problem(folder: Path, relative: str) -> str | None:
    """Why the invoice's `pdf` cell cannot be sent to a consumer, or None: only a PDF file of the folder can."""
    if not relative.casefold().endswith(".pdf"):
        return "is not a .pdf file"
    path = folder / relative
    # A link is refused by open_pdf; a folder on the way must not lead out of the exchange folder.
    if not _inside(folder, relative) and not path.is_symlink():
        return "is not a file in the folder"
    try:
        os.close(open_pdf(path))
    except NotAnInvoicePdf as exc:
        return str(exc)
    return None


def _take_pdfs(folder: Path, invoices: ParsedFile, attachments: Path | None, problems: list[RowProblem]) -> None:
    """Point each invoice at its PDF: a copy under `attachments` (same relative path), or the file in place
    when `attachments` is None (the admin zip's folder, which is Kabinet's own copy already)."""
    for line, row in invoices.rows:
        if not row["pdf"]:
            continue
        source = folder / row["pdf"]
        if attachments is None:
            row["pdf"] = str(source.resolve())
            continue
        target = attachments / source.resolve().relative_to(folder.resolve())
        try:
            if not target.exists():  # two invoices may share one PDF
                copy_pdf(source, target)
        except (NotAnInvoicePdf, OSError) as exc:
            problems.append(RowProblem(invoices.name, line, f"pdf: {row['pdf']!r} cannot be copied ({exc})"))
            continue
        row["pdf"] = str(target.resolve())
