"""The photo store each account uses (the quota on meter photos): SqlTransaction's part for it."""
from __future__ import annotations

from sqlalchemy import func, select

from storage.models import ChatAccountRow, PhotoRow


class PhotoQueries:
    async def photo_store_used(self, chat_id: int) -> int:
        """The bytes of kept photos counted against the fullest account linked to the chat: an account counts
        the photos of every chat linked to it (a chat's photo thus counts for each of its accounts)."""
        links, account_chats = ChatAccountRow.__table__, ChatAccountRow.__table__.alias("account_chats")
        photos = PhotoRow.__table__
        used = (
            select(func.coalesce(func.sum(photos.c.size), 0))
            .select_from(photos.join(account_chats, account_chats.c.chat_id == photos.c.chat_id))
            .where(account_chats.c.account_id == links.c.account_id)
            .correlate(links).scalar_subquery()
        )
        sizes = await self.session.scalars(select(used).where(links.c.chat_id == chat_id))
        return max((int(size) for size in sizes), default=0)
