from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import InboundRecord
from storage.repositories._upsert import insert_ignore


class InboundRepository:
    """Message ids already handled (the dedupe of repeated deliveries) and their outcome."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def record_once(
        self, *, channel: str, message_id: str, chat_id: str, user_id: str, received_at: datetime
    ) -> int | None:
        """Record a message id; None when it was already recorded (a repeated delivery)."""
        return await insert_ignore(
            self.session,
            InboundRecord.__table__,
            {
                "channel": channel,
                "message_id": message_id,
                "chat_id": chat_id,
                "user_id": user_id,
                "received_at": received_at,
            },
            InboundRecord.id,
        )

    async def set_outcome(self, record_id: int, outcome: str) -> None:
        row = await self.session.get(InboundRecord, record_id)
        if row is not None:
            row.outcome = outcome
