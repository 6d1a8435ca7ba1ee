from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import OutboxRow
from storage.repositories._upsert import insert_ignore


class OutboxRepository:
    """The outbox: replies and pushes queued, claimed, sent or dead-lettered."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def enqueue(
        self,
        *,
        channel: str,
        chat_id: str,
        text: str,
        idempotency_key: str,
        mention_user_ids: Sequence[str] = (),
        now: datetime,
        not_before: datetime | None = None,
    ) -> int | None:
        """Queue a message; None if a row with this idempotency key already exists."""
        return await insert_ignore(
            self.session,
            OutboxRow.__table__,
            {
                "channel": channel,
                "chat_id": chat_id,
                "text": text,
                "mention_user_ids": list(mention_user_ids),
                "idempotency_key": idempotency_key,
                "status": "queued",
                "attempts": 0,
                "next_attempt_at": not_before or now,
                "created_at": now,
                "last_error": "",
            },
            OutboxRow.id,
        )

    def _due(self, channel: str, now: datetime):  # type: ignore[no-untyped-def]
        return (
            select(OutboxRow)
            .where(
                OutboxRow.channel == channel,
                or_(
                    (OutboxRow.status == "queued") & (OutboxRow.next_attempt_at <= now),
                    (OutboxRow.status == "sending") & (OutboxRow.lease_until <= now),
                ),
            )
            .order_by(OutboxRow.id)
        )

    async def lock_due(self, channel: str, now: datetime, limit: int) -> list[OutboxRow]:
        """Due rows of a channel, row-locked on PostgreSQL (SKIP LOCKED) for this transaction."""
        stmt = self._due(channel, now).limit(limit)
        if self.session.bind.dialect.name == "postgresql":
            stmt = stmt.with_for_update(skip_locked=True)
        return list((await self.session.execute(stmt)).scalars())

    async def claim(self, rows: list[OutboxRow], now: datetime, lease: timedelta) -> None:
        for row in rows:
            row.status = "sending"
            row.attempts += 1
            row.lease_until = now + lease
        await self.session.flush()

    async def mark_sent(self, row_id: int, now: datetime) -> None:
        await self.session.execute(
            update(OutboxRow)
            .where(OutboxRow.id == row_id)
            .values(status="sent", sent_at=now, lease_until=None)
        )

    async def mark_failed(
        self, row_id: int, *, error: str, retry_at: datetime | None
    ) -> None:
        values: dict[str, object] = {"last_error": error[:2000], "lease_until": None}
        if retry_at is None:
            values["status"] = "dead"
        else:
            values["status"] = "queued"
            values["next_attempt_at"] = retry_at
        await self.session.execute(update(OutboxRow).where(OutboxRow.id == row_id).values(**values))

    async def counts(self) -> dict[str, int]:
        stmt = select(OutboxRow.status, func.count()).group_by(OutboxRow.status)
        return {status: n for status, n in (await self.session.execute(stmt)).all()}

    async def for_chat(self, channel: str, chat_id: str) -> list[OutboxRow]:
        stmt = (
            select(OutboxRow)
            .where(OutboxRow.channel == channel, OutboxRow.chat_id == chat_id)
            .order_by(OutboxRow.id)
        )
        return list((await self.session.execute(stmt)).scalars())
