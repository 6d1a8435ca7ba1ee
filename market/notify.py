"""Messages a service sends to a person on its own (not as a reply): through the outbox, in the
caller's transaction, to the channel where the person was last known.

Notifications are collected during the transaction and written to the outbox at its end — after
the replies of the message being handled (``flush_notifications``), so a person reads the answer
to what they typed before the news it triggered.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import before_commit
from storage.models import Identity
from storage.repositories import OutboxRepository

PENDING = "linggong_notifications"


@dataclass(frozen=True)
class _Note:
    channel: str
    chat_id: str
    text: str
    key: str
    now: datetime


async def notify_user(
    session: AsyncSession, user_id: int, text: str, *, key: str, now: datetime
) -> bool:
    """Queue ``text`` for the person; ``key`` makes the notification happen once.

    Private chats are addressed by the person's id on that channel (web persona, openid,
    wechaty contact id). Returns False if the person has no channel to reach them on.
    """
    stmt = (
        select(Identity.channel, Identity.external_id)
        .where(Identity.user_id == user_id)
        .order_by(Identity.id.desc())
        .limit(1)
    )
    row = (await session.execute(stmt)).first()
    if row is None:
        return False
    pending = session.info.get(PENDING)
    if pending is None:
        pending = session.info[PENDING] = []
        before_commit(session, flush_notifications)
    pending.append(_Note(row[0], row[1], text, f"notify:{key}", now))
    return True


async def flush_notifications(session: AsyncSession) -> int:
    """Write the collected notifications to the outbox, in the order they were made."""
    pending: list[_Note] = session.info.pop(PENDING, None) or []
    outbox = OutboxRepository(session)
    for note in pending:
        await outbox.enqueue(
            channel=note.channel, chat_id=note.chat_id, text=note.text, idempotency_key=note.key, now=note.now
        )
    return len(pending)


def discard_notifications(session: AsyncSession) -> None:
    """Forget notifications of work that was rolled back (a failed step)."""
    session.info.pop(PENDING, None)
