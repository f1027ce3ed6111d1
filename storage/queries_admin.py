"""What the operator side (the admin API) reads and writes: pages of readings, orders, appeals and
outages by id (keyset: `after` is the last id of the previous page), outages by code, and the counts."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.readings import CHAT_SOURCES
from storage import plans
from storage.models import (
    AccountRow, AppealRow, ChatAccountRow, ChatRow, MeterRow, OutageRow, OutboxRow, PhotoRow, ReadingRow,
    ReplacedReadingRow, ServiceOrderEventRow, ServiceOrderRow, stored_node_key, stored_place_key,
)


async def readings_page(session: AsyncSession, since: date | None, after: int | None, limit: int) -> list[tuple]:
    """Readings consumers submitted through a chat, by id: (reading, meter serial, account, eic, has photo)."""
    query = (
        select(ReadingRow, MeterRow.serial, AccountRow.number, AccountRow.eic, PhotoRow.id.is_not(None))
        .join(MeterRow, MeterRow.id == ReadingRow.meter_id)
        .join(AccountRow, AccountRow.id == MeterRow.account_id)
        .outerjoin(PhotoRow, PhotoRow.id == ReadingRow.photo_id)
        .where(ReadingRow.source.in_(CHAT_SOURCES))
        .order_by(ReadingRow.id)
        .limit(limit)
    )
    if since is not None:
        query = query.where(ReadingRow.taken_on >= since)
    if after is not None:
        query = query.where(ReadingRow.id > after)
    return list((await session.execute(query)).all())


async def replaced_of(session: AsyncSession, reading_ids: list[int]) -> dict[int, list[tuple]]:
    """The submissions each reading replaced, oldest first: reading id -> [(replaced row, has photo)]."""
    found: dict[int, list[tuple]] = {reading_id: [] for reading_id in reading_ids}
    if reading_ids:
        rows = await session.execute(
            select(ReplacedReadingRow, PhotoRow.id.is_not(None))
            .outerjoin(PhotoRow, PhotoRow.id == ReplacedReadingRow.photo_id)
            .where(ReplacedReadingRow.reading_id.in_(reading_ids))
            .order_by(ReplacedReadingRow.id)
        )
        for replaced, has_photo in rows:
            found[replaced.reading_id].append((replaced, has_photo))
    return found


async def reading_photo(session: AsyncSession, reading_id: int, replaced_id: int | None = None) -> str | None:
    """The path of the photo of a reading, or of a submission it replaced."""
    if replaced_id is None:
        return await session.scalar(
            select(PhotoRow.path).join(ReadingRow, ReadingRow.photo_id == PhotoRow.id)
            .where(ReadingRow.id == reading_id)
        )
    return await session.scalar(
        select(PhotoRow.path).join(ReplacedReadingRow, ReplacedReadingRow.photo_id == PhotoRow.id)
        .where(ReplacedReadingRow.id == replaced_id, ReplacedReadingRow.reading_id == reading_id)
    )


def _page(query, id_column, after: int | None, limit: int):
    if after is not None:
        query = query.where(id_column > after)
    return query.order_by(id_column).limit(limit)


async def _with_account_page(session: AsyncSession, table, status: str | None, after: int | None,
                             limit: int) -> list[tuple]:
    """(row, account number) of service orders, by id, optionally of one status."""
    query = select(table, AccountRow.number).join(AccountRow, AccountRow.id == table.account_id)
    if status is not None:
        query = query.where(table.status == status)
    return list((await session.execute(_page(query, table.id, after, limit))).all())


async def _with_account(session: AsyncSession, table, row_id: int) -> tuple | None:
    """(row, account number) of one service order, or None."""
    found = (await session.execute(
        select(table, AccountRow.number).join(AccountRow, AccountRow.id == table.account_id).where(table.id == row_id)
    )).first()
    return tuple(found) if found else None


async def orders_page(session: AsyncSession, status: str | None, after: int | None, limit: int) -> list[tuple]:
    return await _with_account_page(session, ServiceOrderRow, status, after, limit)


def _appeals():
    """(appeal, account number, chat's channel): an appeal from a chat with no account linked has no number."""
    return (select(AppealRow, AccountRow.number, ChatRow.channel)
            .outerjoin(AccountRow, AccountRow.id == AppealRow.account_id)
            .outerjoin(ChatRow, ChatRow.id == AppealRow.chat_id))


async def appeals_page(session: AsyncSession, status: str | None, after: int | None, limit: int) -> list[tuple]:
    query = _appeals()
    if status is not None:
        query = query.where(AppealRow.status == status)
    return list((await session.execute(_page(query, AppealRow.id, after, limit))).all())


async def order(session: AsyncSession, order_id: int) -> tuple | None:
    return await _with_account(session, ServiceOrderRow, order_id)


async def appeal(session: AsyncSession, appeal_id: int) -> tuple | None:
    found = (await session.execute(_appeals().where(AppealRow.id == appeal_id))).first()
    return tuple(found) if found else None


async def order_events(session: AsyncSession, order_id: int) -> list[ServiceOrderEventRow]:
    return list(await session.scalars(
        select(ServiceOrderEventRow).where(ServiceOrderEventRow.order_id == order_id).order_by(ServiceOrderEventRow.id)
    ))


async def outages_page(session: AsyncSession, after: int | None, limit: int) -> list[OutageRow]:
    return list(await session.scalars(_page(select(OutageRow), OutageRow.id, after, limit)))


async def add_outage(session: AsyncSession, values: dict) -> OutageRow:
    """A new outage, its id given (the code is checked free first: outage_by_code)."""
    row = OutageRow(**values)
    session.add(row)
    await session.flush()
    return row


async def outage_by_code(session: AsyncSession, code: str, *, lock: bool = False) -> OutageRow | None:
    query = select(OutageRow).where(OutageRow.code == code)
    return await session.scalar(query.with_for_update() if lock else query)


async def settlement_names(session: AsyncSession, wanted: str) -> list[str]:
    """The accounts' spellings of a settlement, compared the way outages compare them ("м. Київ" is "Київ")."""
    names = await session.scalars(
        select(AccountRow.settlement).where(AccountRow.place_key == stored_place_key(wanted)).distinct())
    return list(names)


async def grid_node_names(session: AsyncSession, wanted: str) -> list[str]:
    key = stored_node_key(wanted)
    if key is None:
        return []
    names = await session.scalars(select(AccountRow.grid_node).where(AccountRow.node_key == key).distinct())
    return list(names)


async def _counts(session: AsyncSession, column) -> dict[str, int]:
    rows = await session.execute(select(column, func.count()).group_by(column))
    return {str(key): count for key, count in rows}


async def stats(session: AsyncSession, day_start: datetime, window_start: datetime | None) -> dict:
    """The counts GET /admin/stats shows; readings are counted by when they were submitted."""
    linked = (
        select(ChatRow.channel, func.count(func.distinct(ChatRow.id)))
        .join(ChatAccountRow, ChatAccountRow.chat_id == ChatRow.id)
        .where(ChatRow.active.is_(True))
        .group_by(ChatRow.channel)
    )

    async def submitted(since: datetime) -> int:
        return await session.scalar(
            select(func.count()).select_from(ReadingRow)
            .where(ReadingRow.source.in_(CHAT_SOURCES), ReadingRow.submitted_at >= since)
        ) or 0

    return {
        "accounts": await session.scalar(select(func.count()).select_from(AccountRow)) or 0,
        "linked_chats": {channel: count for channel, count in await session.execute(linked)},
        "readings": {
            "today": await submitted(day_start),
            "window": await submitted(window_start) if window_start is not None else None,
        },
        "orders": await _counts(session, ServiceOrderRow.status),
        "appeals": await _counts(session, AppealRow.status),
        "outbox": await _counts(session, OutboxRow.status),
        "planning": await plans.unfinished(session),
    }
