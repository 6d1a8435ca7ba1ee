"""Messages a service sends to a person on its own (not as a reply): through the outbox, in the
caller's transaction, to the channel where the person was last known."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Identity
from storage.repositories import OutboxRepository


async def notify_user(
    session: AsyncSession, user_id: int, text: str, *, key: str, now: datetime
) -> int | None:
    """Queue ``text`` for the person; ``key`` makes the notification happen once.

    Private chats are addressed by the person's id on that channel (web persona, openid,
    wechaty contact id). Returns the outbox row id, or None if the person has no channel or the
    key was used before.
    """
    stmt = (
        select(Identity.channel, Identity.external_id)
        .where(Identity.user_id == user_id)
        .order_by(Identity.id.desc())
        .limit(1)
    )
    row = (await session.execute(stmt)).first()
    if row is None:
        return None
    channel, external_id = row
    return await OutboxRepository(session).enqueue(
        channel=channel, chat_id=external_id, text=text, idempotency_key=f"notify:{key}", now=now
    )
