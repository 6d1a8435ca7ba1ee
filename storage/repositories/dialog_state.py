from __future__ import annotations

import copy
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import flag_modified

from storage.models import DialogStateRow


class DialogStateRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, channel: str, chat_id: str, user_id: str) -> DialogStateRow | None:
        stmt = select(DialogStateRow).where(
            DialogStateRow.channel == channel,
            DialogStateRow.chat_id == chat_id,
            DialogStateRow.user_id == user_id,
        )
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def save(
        self,
        row: DialogStateRow | None,
        *,
        channel: str,
        chat_id: str,
        user_id: str,
        dialog: str,
        state: str,
        data: dict[str, Any],
        expires_at: datetime,
        now: datetime,
    ) -> DialogStateRow:
        if row is None:
            row = DialogStateRow(
                channel=channel, chat_id=chat_id, user_id=user_id, version=0, data={}
            )
            self.session.add(row)
        row.dialog = dialog
        row.state = state
        row.data = copy.deepcopy(data)
        flag_modified(row, "data")
        row.version = (row.version or 0) + 1
        row.expires_at = expires_at
        row.updated_at = now
        await self.session.flush()
        return row

    async def clear(self, row: DialogStateRow | None) -> None:
        if row is not None:
            await self.session.delete(row)
            await self.session.flush()

    async def expired(self, now: datetime, limit: int = 500) -> list[DialogStateRow]:
        stmt = (
            select(DialogStateRow)
            .where(DialogStateRow.expires_at <= now)
            .order_by(DialogStateRow.expires_at)
            .limit(limit)
        )
        return list((await self.session.execute(stmt)).scalars())

    async def delete_if_version(self, row_id: int, version: int) -> bool:
        """Delete a row only if nobody moved it on meanwhile (optimistic check)."""
        result = await self.session.execute(
            delete(DialogStateRow).where(
                DialogStateRow.id == row_id, DialogStateRow.version == version
            )
        )
        return bool(result.rowcount)
