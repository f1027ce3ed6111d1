"""Exporting what consumers submitted through a chat: readings with their photos, and the paper invoice choices
(paper_invoices.csv), as CSV or JSON."""
from __future__ import annotations

import csv
import json
from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import Any, TextIO

from sqlalchemy import literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.email_address import PaperInvoiceChoice
from core.readings import CHAT_SOURCES
from storage.models import AccountRow, MeterRow, PhotoRow, ReadingRow, ReplacedReadingRow, UtcDateTime

EXPORT_COLUMNS = (
    "id", "account", "eic", "meter", "zone", "taken_on", "value", "source", "submitted_at", "photo", "replaced_at",
)


async def submitted_readings(session: AsyncSession, since: date | None) -> list[dict[str, Any]]:
    """Readings consumers submitted through a chat, oldest first, as the export prints them: each submission,
    the replaced ones (a later one of the same meter, zone, day and channel took their place) with the time
    they were replaced and the id of the reading that holds the value now."""
    def submissions(table, replaced_at):
        query = (
            select(ReadingRow.id, AccountRow.number, AccountRow.eic, MeterRow.serial, ReadingRow.zone,
                   ReadingRow.taken_on, table.value, ReadingRow.source, table.submitted_at, PhotoRow.path,
                   replaced_at.label("replaced_at"))
            .select_from(ReadingRow)
            .join(MeterRow, MeterRow.id == ReadingRow.meter_id)
            .join(AccountRow, AccountRow.id == MeterRow.account_id)
            .where(ReadingRow.source.in_(CHAT_SOURCES))
        )
        if table is not ReadingRow:
            query = query.join(table, table.reading_id == ReadingRow.id)
        query = query.outerjoin(PhotoRow, PhotoRow.id == table.photo_id)
        return query.where(ReadingRow.taken_on >= since) if since is not None else query

    rows = [*await session.execute(submissions(ReadingRow, literal(None, UtcDateTime()))),
            *await session.execute(submissions(ReplacedReadingRow, ReplacedReadingRow.replaced_at))]
    rows.sort(key=lambda row: (row.submitted_at or _NEVER, row.id, row.replaced_at is None))
    return [{
        "id": row.id, "account": row.number, "eic": row.eic or "", "meter": row.serial, "zone": row.zone,
        "taken_on": row.taken_on.isoformat(), "value": row.value, "source": row.source,
        "submitted_at": row.submitted_at.isoformat() if row.submitted_at else "", "photo": row.path or "",
        "replaced_at": row.replaced_at.isoformat() if row.replaced_at else "",
    } for row in rows]


_NEVER = datetime.min.replace(tzinfo=UTC)

# paper_invoices.csv: whether the utility still posts a paper invoice for an account, as a consumer last chose it.
PAPER_INVOICE_COLUMNS = ("account", "paper_invoice", "chosen_at")


def paper_invoice_rows(choices: Iterable[PaperInvoiceChoice]) -> list[dict[str, Any]]:
    return [{"account": choice.account, "paper_invoice": "yes" if choice.paper else "no",
             "chosen_at": choice.chosen_at.isoformat()} for choice in choices]


def write_export(rows: Iterable[dict[str, Any]], out: TextIO, fmt: str,
                 columns: tuple[str, ...] = EXPORT_COLUMNS) -> None:
    if fmt == "json":
        json.dump(list(rows), out, ensure_ascii=False, indent=1)
        out.write("\n")
        return
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
