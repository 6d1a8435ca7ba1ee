from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import bindparam, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.base import UTCDateTime
from storage.models import OutboxRow
from storage.repositories._upsert import insert_ignore
from storage.sqlite.hot import HotStatement

# The passive-answer statements of the WeChat callbacks run on every message: hot statements.
_OUT = OutboxRow.__table__
_NOW = bindparam("p_now", type_=UTCDateTime())
_CLAIM = HotStatement(
    update(_OUT)
    .where(
        # Checked again on the row itself (PostgreSQL: the sender may have taken it meanwhile),
        # as an expression so that SQLite finds the rows by id, not by scanning every queued row.
        func.coalesce(_OUT.c.status, "") == "queued",
        _OUT.c.id.in_(
            select(_OUT.c.id)
            .where(
                _OUT.c.status == "queued",
                _OUT.c.channel == bindparam("p_channel"),
                _OUT.c.chat_id == bindparam("p_chat"),
                # waiting for a channel — not a message scheduled for later (a reminder)
                or_(_OUT.c.attempts > 0, _OUT.c.next_attempt_at <= _NOW),
            )
            .order_by(_OUT.c.id)
            .limit(20)
            .scalar_subquery()
        ),
    )
    .values(status="sent", sent_at=_NOW, lease_until=None, passive_for=bindparam("p_for"))
    .returning(_OUT.c.id, _OUT.c.text)
)
_UNCLAIM = HotStatement(
    update(_OUT)
    .where(_OUT.c.id == bindparam("p_row"), _OUT.c.status == "sent")
    .values(status="queued", sent_at=None, passive_for=None)
)
_ANSWERED = HotStatement(
    select(_OUT.c.text)
    .where(
        _OUT.c.channel == bindparam("p_channel"),
        _OUT.c.chat_id == bindparam("p_chat"),
        _OUT.c.status == "sent",
        _OUT.c.passive_for == bindparam("p_for"),
    )
    .order_by(_OUT.c.id)
)


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

    async def claim_passive(
        self, *, channel: str, chat_id: str, passive_for: str, now: datetime
    ) -> list[tuple[int, str]]:
        """Mark the person's deliverable queued rows sent — they go in the HTTP answer to the
        message ``passive_for``, noted on each row — and return their ``(id, text)``; at most 20,
        in no promised order. One conditional ``UPDATE … WHERE status='queued' RETURNING``: a row
        the sender has claimed meanwhile is left to the sender. Rows scheduled for later (a
        reminder not yet due, never tried) stay queued."""
        params = {"p_channel": channel, "p_chat": chat_id, "p_now": now, "p_for": passive_for}
        return (await _CLAIM.execute(self.session, params)).rows

    async def unclaim_passive(self, row_id: int) -> None:
        """A claimed row that did not fit in the passive answer goes back to the sender."""
        await _UNCLAIM.execute(self.session, {"p_row": row_id})

    async def passive_answer(self, *, channel: str, chat_id: str, passive_for: str) -> list[str]:
        """The texts a passive answer to the message ``passive_for`` delivered, in order."""
        params = {"p_channel": channel, "p_chat": chat_id, "p_for": passive_for}
        return [text for (text,) in (await _ANSWERED.execute(self.session, params)).rows]

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
