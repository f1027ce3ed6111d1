"""Outages, service orders with their events, appeals and chat settings: SqlTransaction's part for them."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import and_, delete, or_, select, true, update

from core.model import Appeal, ChatSettings, Contact, OrderChange, OrderFile, Outage, RecentTurn, Service, ServiceOrder
from core.outages import outage_touches
from core.preferences import settings_from_json, settings_to_json
from storage import outbox
from storage.dialect import insert_of
from storage.mappers import (
    to_account, to_appeal, to_change, to_order, to_order_file, to_outage, to_service, turns_to_json,
)
from storage.models import (
    AccountRow, AppealRow, ChatAccountRow, ChatSettingsRow, ContactRow, OutageRow, ServiceOrderEventRow,
    ServiceOrderFileRow, ServiceOrderRow, ServiceRow, stored_node_key, stored_place_key,
)

SENT = "sent"  # core.services.SENT; the status every order starts in


class ServiceQueries:
    """Mixed into storage.repositories.SqlTransaction, whose `session` it uses."""

    # ----- outages

    async def current_outages(self, at: datetime) -> list[Outage]:
        rows = await self.session.scalars(
            select(OutageRow)
            .where(or_(OutageRow.ends_at.is_(None), OutageRow.ends_at > at))
            .order_by(OutageRow.starts_at, OutageRow.id)
        )
        return [to_outage(row) for row in rows]

    async def outages_ended_between(self, since: datetime, until: datetime) -> list[Outage]:
        rows = await self.session.scalars(
            select(OutageRow).where(OutageRow.ends_at > since, OutageRow.ends_at <= until).order_by(OutageRow.id)
        )
        return [to_outage(row) for row in rows]

    async def contacts(self) -> list[Contact]:
        rows = await self.session.scalars(select(ContactRow).order_by(ContactRow.id))
        return [Contact(row.code, row.kind, row.label, row.value, row.hours) for row in rows]

    async def outage(self, code: str) -> Outage | None:
        row = await self.session.scalar(select(OutageRow).where(OutageRow.code == code))
        return to_outage(row) if row else None

    async def chats_touched_by(self, outage: Outage) -> list[int]:
        # Candidates by index on the normalised keys (migration 0004), then core's rule decides: house
        # lists and streets are compared after normalising them, which SQL on SQLite cannot do for Cyrillic.
        places = []
        nodes = [key for key in map(stored_node_key, (outage.grid_nodes or "").split(";")) if key]
        if nodes:
            places.append(AccountRow.node_key.in_(nodes))
        if outage.settlement:
            places.append(AccountRow.place_key == stored_place_key(outage.settlement))
        elif outage.street:
            places.append(true())  # a street named without its settlement: any account may be on it
        if not places:
            return []
        rows = await self.session.stream(
            select(ChatAccountRow.chat_id, AccountRow)
            .join(AccountRow, AccountRow.id == ChatAccountRow.account_id)
            .where(or_(*places))
            .order_by(ChatAccountRow.chat_id)
            .execution_options(yield_per=2000)
        )
        chats: list[int] = []
        async for chat_id, account in rows:
            if (not chats or chats[-1] != chat_id) and outage_touches(outage, to_account(account)):
                chats.append(chat_id)
        return chats

    # ----- service orders

    async def service_catalogue(self) -> list[Service]:
        return [to_service(row) for row in await self.session.scalars(select(ServiceRow).order_by(ServiceRow.id))]

    async def add_service_order(
        self, account_id: int, chat_id: int | None, service: str, phone: str, comment: str | None, at: datetime,
    ) -> ServiceOrder:
        row = ServiceOrderRow(
            account_id=account_id, chat_id=chat_id, service=service, phone=phone, comment=comment, status=SENT,
            created_at=at, updated_at=at,
        )
        self.session.add(row)
        await self.session.flush()
        self.session.add(ServiceOrderEventRow(order_id=row.id, status=SENT, previous=None, comment=None,
                                              by="consumer", at=at))
        await self.session.flush()
        return to_order(row)

    async def service_order(self, order_id: int) -> ServiceOrder | None:
        row = (await self.session.execute(
            select(ServiceOrderRow).where(ServiceOrderRow.id == order_id).with_for_update()
        )).scalar_one_or_none()
        return to_order(row) if row else None

    async def service_orders(self, account_ids: list[int], limit: int = 10) -> list[ServiceOrder]:
        if not account_ids:
            return []
        rows = await self.session.scalars(
            select(ServiceOrderRow).where(ServiceOrderRow.account_id.in_(account_ids))
            .order_by(ServiceOrderRow.created_at.desc(), ServiceOrderRow.id.desc()).limit(limit)
        )
        return [to_order(row) for row in rows]

    async def order_history(self, order_id: int) -> list[OrderChange]:
        rows = await self.session.execute(
            select(ServiceOrderEventRow, ServiceOrderRow)
            .join(ServiceOrderRow, ServiceOrderRow.id == ServiceOrderEventRow.order_id)
            .where(ServiceOrderEventRow.order_id == order_id)
            .order_by(ServiceOrderEventRow.id)
        )
        return [to_change(event, order) for event, order in rows]

    async def record_order_change(
        self, order_id: int, status: str, comment: str | None, at: datetime, by: str,
    ) -> OrderChange:
        order = await self.session.get(ServiceOrderRow, order_id, with_for_update=True)
        if order is None:
            raise LookupError(f"no service order {order_id}")
        event = ServiceOrderEventRow(order_id=order_id, status=status, previous=order.status, comment=comment,
                                     by=by, at=at)
        order.status, order.updated_at = status, at
        self.session.add(event)
        await self.session.flush()
        return to_change(event, order)

    async def order_changes_after(self, event_id: int, limit: int = 500) -> list[OrderChange]:
        rows = await self.session.execute(
            select(ServiceOrderEventRow, ServiceOrderRow)
            .join(ServiceOrderRow, ServiceOrderRow.id == ServiceOrderEventRow.order_id)
            .where(ServiceOrderEventRow.id > event_id)
            .order_by(ServiceOrderEventRow.id).limit(limit)
        )
        return [to_change(event, order) for event, order in rows]

    async def order_event(self, event_id: int) -> OrderChange | None:
        row = (await self.session.execute(
            select(ServiceOrderEventRow, ServiceOrderRow)
            .join(ServiceOrderRow, ServiceOrderRow.id == ServiceOrderEventRow.order_id)
            .where(ServiceOrderEventRow.id == event_id)
        )).first()
        return to_change(*row) if row else None

    async def set_order_amount(self, order_id: int, amount: Decimal) -> None:
        await self.session.execute(update(ServiceOrderRow).where(ServiceOrderRow.id == order_id).values(amount=amount))

    async def add_order_file(self, order_id: int, kind: str, path: str, sha256: str, size: int, mime_type: str,
                             chat_id: int | None, at: datetime) -> OrderFile:
        row = ServiceOrderFileRow(order_id=order_id, kind=kind, path=path, sha256=sha256, size=size,
                                  mime_type=mime_type, chat_id=chat_id, received_at=at)
        self.session.add(row)
        await self.session.flush()
        return to_order_file(row)

    async def order_files(self, order_id: int, kind: str | None = None) -> list[OrderFile]:
        query = select(ServiceOrderFileRow).where(ServiceOrderFileRow.order_id == order_id)
        if kind is not None:
            query = query.where(ServiceOrderFileRow.kind == kind)
        return [to_order_file(row) for row in await self.session.scalars(query.order_by(ServiceOrderFileRow.id))]

    # ----- appeals

    async def add_appeal(self, account_id: int | None, chat_id: int | None, kind: str, text: str, at: datetime,
                         turns: tuple[RecentTurn, ...] = ()) -> Appeal:
        row = AppealRow(account_id=account_id, chat_id=chat_id, kind=kind, text=text, status="new", answer=None,
                        created_at=at, updated_at=at, turns=turns_to_json(turns) if turns else None)
        self.session.add(row)
        await self.session.flush()
        return to_appeal(row)

    async def appeal(self, appeal_id: int) -> Appeal | None:
        row = (await self.session.execute(
            select(AppealRow).where(AppealRow.id == appeal_id).with_for_update()
        )).scalar_one_or_none()
        return to_appeal(row) if row else None

    async def appeals(self, account_ids: list[int], chat_id: int, limit: int = 10) -> list[Appeal]:
        own = and_(AppealRow.chat_id == chat_id, AppealRow.account_id.is_(None))
        rows = await self.session.scalars(
            select(AppealRow).where(or_(AppealRow.account_id.in_(account_ids), own) if account_ids else own)
            .order_by(AppealRow.created_at.desc(), AppealRow.id.desc()).limit(limit)
        )
        return [to_appeal(row) for row in rows]

    async def appeals_without_account(self, chat_id: int, since: datetime) -> list[datetime]:
        return list(await self.session.scalars(
            select(AppealRow.created_at)
            .where(AppealRow.chat_id == chat_id, AppealRow.account_id.is_(None), AppealRow.created_at >= since)
            .order_by(AppealRow.created_at)
        ))

    async def update_appeal(self, appeal_id: int, status: str, answer: str | None, at: datetime) -> Appeal:
        await self.session.execute(
            update(AppealRow).where(AppealRow.id == appeal_id).values(status=status, answer=answer, updated_at=at)
        )
        row = await self.session.get(AppealRow, appeal_id, populate_existing=True)
        if row is None:
            raise LookupError(f"no appeal {appeal_id}")
        return to_appeal(row)

    # ----- chat settings

    async def chat_settings(self, chat_id: int) -> ChatSettings:
        row = await self.session.get(ChatSettingsRow, chat_id)
        return settings_from_json(row.settings if row else None)

    async def save_chat_settings(self, chat_id: int, settings: ChatSettings, at: datetime) -> None:
        data = settings_to_json(settings)
        statement = insert_of(self.session)(ChatSettingsRow).values(chat_id=chat_id, settings=data, updated_at=at)
        await self.session.execute(statement.on_conflict_do_update(
            index_elements=["chat_id"], set_={"settings": data, "updated_at": at},
        ))
        await outbox.release_quiet_held(self.session, chat_id, at)

    async def chats_settings(self, chat_ids: list[int]) -> dict[int, ChatSettings]:
        found = {chat_id: ChatSettings() for chat_id in chat_ids}
        if chat_ids:
            rows = await self.session.execute(
                select(ChatSettingsRow.chat_id, ChatSettingsRow.settings).where(ChatSettingsRow.chat_id.in_(chat_ids))
            )
            for chat_id, data in rows:
                found[chat_id] = settings_from_json(data)
        return found

    async def forget_chat_services(self, chat_id: int) -> None:
        """/forget: the chat's settings go; its orders, their files and appeals stay with the account, no longer tied
        to it, and the chat's turns attached to an appeal go as its recent turns do; an appeal with no account was
        the chat's alone, and goes whole."""
        await self.session.execute(delete(AppealRow).where(AppealRow.chat_id == chat_id,
                                                           AppealRow.account_id.is_(None)))
        await self.session.execute(update(AppealRow).where(AppealRow.chat_id == chat_id).values(chat_id=None,
                                                                                                turns=None))
        for table in (ServiceOrderRow, ServiceOrderFileRow):
            await self.session.execute(update(table).where(table.chat_id == chat_id).values(chat_id=None))
        await self.session.execute(delete(ChatSettingsRow).where(ChatSettingsRow.chat_id == chat_id))
