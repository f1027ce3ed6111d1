"""E-mail (issue 19.3): a chat's confirmed address, the confirmation codes mailed for a new one, and the paper
invoice choice per account. Mixed into storage.repositories.SqlTransaction, whose `session` and `dialect` it uses."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, select, update

from core.email_address import DEFAULT_EMAIL_NOTICES, ChatEmail, PaperInvoiceChoice, PendingCode
from storage.dialect import insert_for
from storage.models import AccountRow, ChatEmailRow, EmailCodeRow, PaperInvoiceRow


def to_chat_email(row: ChatEmailRow) -> ChatEmail:
    return ChatEmail(row.address, row.confirmed_at, frozenset(row.notices or ()), row.refused_at)


def _open_codes(channel: str, external_id: str) -> tuple:
    """The chat's code still waiting to be typed back (one at most: a new code closes the last)."""
    return (EmailCodeRow.channel == channel, EmailCodeRow.external_id == external_id, EmailCodeRow.closed_at.is_(None))


class EmailQueries:

    # ----- the confirmed address

    async def chat_email(self, chat_id: int) -> ChatEmail | None:
        row = await self.session.get(ChatEmailRow, chat_id, populate_existing=True)
        return to_chat_email(row) if row is not None else None

    async def confirm_email(self, chat_id: int, address: str, at: datetime) -> ChatEmail:
        """The chat's address is now `address` (a new one replaces the old and clears a refusal); the notices
        it had chosen stay, a first address takes DEFAULT_EMAIL_NOTICES."""
        statement = insert_for(self.dialect)(ChatEmailRow).values(
            chat_id=chat_id, address=address, confirmed_at=at, notices=list(DEFAULT_EMAIL_NOTICES), refused_at=None)
        await self.session.execute(statement.on_conflict_do_update(
            index_elements=["chat_id"],
            set_={"address": address, "confirmed_at": at, "refused_at": None},
        ))
        return await self.chat_email(chat_id)

    async def set_email_notices(self, chat_id: int, notices: frozenset[str]) -> None:
        await self.session.execute(
            update(ChatEmailRow).where(ChatEmailRow.chat_id == chat_id).values(notices=sorted(notices)))

    async def remove_email(self, chat_id: int) -> str | None:
        """Forgets the chat's address; returns it (None: there was none)."""
        removed = await self.session.execute(
            delete(ChatEmailRow).where(ChatEmailRow.chat_id == chat_id).returning(ChatEmailRow.address))
        return removed.scalar_one_or_none()

    async def refuse_email(self, chat_id: int, address: str, at: datetime) -> None:
        """The address's server refused it for good; a newer address the consumer gave meanwhile is untouched."""
        await self.session.execute(
            update(ChatEmailRow).where(ChatEmailRow.chat_id == chat_id, ChatEmailRow.address == address)
            .values(refused_at=at))

    async def forget_chat_email(self, chat_id: int) -> None:
        """/forget: the address goes; the account's paper invoice choice stays (the utility's record), unsigned.
        The chat's codes stay a day, by its identity, so the limits hold across /forget (sweep_email_codes)."""
        await self.session.execute(delete(ChatEmailRow).where(ChatEmailRow.chat_id == chat_id))
        await self.session.execute(
            update(PaperInvoiceRow).where(PaperInvoiceRow.chat_id == chat_id).values(chat_id=None))

    # ----- confirmation codes, by the chat's identity in its messenger (they outlive /forget, as link attempts do)

    async def save_email_code(self, channel: str, external_id: str, address: str, digest: str, at: datetime) -> None:
        """The code just mailed; an earlier one still open is closed (only the last code counts)."""
        await self._close_email_codes(channel, external_id, at)
        self.session.add(EmailCodeRow(channel=channel, external_id=external_id, address=address, digest=digest,
                                      sent_at=at, tries=0))
        await self.session.flush()

    async def pending_email_code(self, channel: str, external_id: str) -> PendingCode | None:
        row = await self.session.scalar(
            select(EmailCodeRow)
            .where(*_open_codes(channel, external_id))
            .order_by(EmailCodeRow.sent_at.desc(), EmailCodeRow.id.desc()).limit(1))
        return PendingCode(row.address, row.digest, row.sent_at, row.tries) if row is not None else None

    async def spend_email_code_tries(self, channel: str, external_id: str, tries: int) -> None:
        """The open code has now had `tries` wrong tries (core.email_address.check_code)."""
        await self.session.execute(
            update(EmailCodeRow)
            .where(*_open_codes(channel, external_id))
            .values(tries=tries))

    async def close_email_code(self, channel: str, external_id: str, at: datetime) -> None:
        """The open code is done with: confirmed, or the consumer gave up."""
        await self._close_email_codes(channel, external_id, at)

    async def _close_email_codes(self, channel: str, external_id: str, at: datetime) -> None:
        await self.session.execute(
            update(EmailCodeRow)
            .where(*_open_codes(channel, external_id))
            .values(closed_at=at))

    async def email_codes_sent_by(self, channel: str, external_id: str, since: datetime) -> list[datetime]:
        """When codes were mailed for this chat since `since`, to any address (core.email_address.code_limit)."""
        return list(await self.session.scalars(
            select(EmailCodeRow.sent_at)
            .where(EmailCodeRow.channel == channel, EmailCodeRow.external_id == external_id,
                   EmailCodeRow.sent_at > since)))

    async def email_codes_sent_to(self, address: str, since: datetime) -> list[datetime]:
        """When codes were mailed to this address since `since`, from any chat."""
        return list(await self.session.scalars(
            # In any letter case: mail services deliver Name@ and name@ to one mailbox, so the limit counts them as one.
            select(EmailCodeRow.sent_at).where(func.lower(EmailCodeRow.address) == address.lower(),
                                               EmailCodeRow.sent_at > since)))

    async def sweep_email_codes(self, before: datetime) -> int:
        """Retention: codes mailed before `before` (a day back is all the limits look at)."""
        swept = await self.session.execute(delete(EmailCodeRow).where(EmailCodeRow.sent_at < before))
        return swept.rowcount or 0

    # ----- paper invoice, per account

    async def choose_paper_invoice(self, account_id: int, paper: bool, chat_id: int | None, at: datetime) -> None:
        statement = insert_for(self.dialect)(PaperInvoiceRow).values(account_id=account_id, paper=paper, chat_id=chat_id,
                                                         chosen_at=at)
        await self.session.execute(statement.on_conflict_do_update(
            index_elements=["account_id"], set_={"paper": paper, "chat_id": chat_id, "chosen_at": at}))

    async def paper_invoice(self, account_id: int) -> bool | None:
        """The account's last choice; None: nobody chose, the utility's own default holds."""
        return await self.session.scalar(select(PaperInvoiceRow.paper).where(PaperInvoiceRow.account_id == account_id))

    async def paper_invoice_choices(self, since: datetime | None = None) -> list[PaperInvoiceChoice]:
        """For the export to the utility: every account's choice (made since `since`), by account number."""
        statement = _paper_invoice_choices(since).order_by(AccountRow.number)
        return [PaperInvoiceChoice(*row) for row in await self.session.execute(statement)]

    async def paper_invoice_page(self, since: datetime | None, after: int | None,
                                 limit: int) -> list[tuple[int, PaperInvoiceChoice]]:
        """The export's choices by the account's id (the admin API's pages): (account id, choice)."""
        statement = (_paper_invoice_choices(since).add_columns(PaperInvoiceRow.account_id)
                     .order_by(PaperInvoiceRow.account_id).limit(limit))
        if after is not None:
            statement = statement.where(PaperInvoiceRow.account_id > after)
        return [(account_id, PaperInvoiceChoice(number, paper, chosen_at))
                for number, paper, chosen_at, account_id in await self.session.execute(statement)]


def _paper_invoice_choices(since: datetime | None):
    statement = (select(AccountRow.number, PaperInvoiceRow.paper, PaperInvoiceRow.chosen_at)
                 .join(AccountRow, AccountRow.id == PaperInvoiceRow.account_id))
    return statement if since is None else statement.where(PaperInvoiceRow.chosen_at >= since)
