"""Where each conversation stands: read and written on every message, so the statements are
built once (Core, values as parameters — SQLAlchemy's compiled cache serves every call) and the
rows come back as small frozen snapshots instead of ORM objects."""

from __future__ import annotations

import copy
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import DialogStateRow
from storage.sqlite.hot import HotStatement

_T = DialogStateRow.__table__
_COLUMNS = (_T.c.id, _T.c.channel, _T.c.chat_id, _T.c.user_id, _T.c.dialog, _T.c.state, _T.c.data,
            _T.c.version, _T.c.expires_at)
_GET = HotStatement(
    select(*_COLUMNS).where(
        _T.c.channel == bindparam("p_channel"),
        _T.c.chat_id == bindparam("p_chat"),
        _T.c.user_id == bindparam("p_user"),
    )
)
_EXPIRED = (
    select(*_COLUMNS)
    .where(_T.c.expires_at <= bindparam("p_now", type_=_T.c.expires_at.type))
    .order_by(_T.c.expires_at)
    .limit(bindparam("p_limit"))
)
_INSERT = HotStatement(insert(_T).returning(_T.c.id))
_UPDATE = HotStatement(
    update(_T)
    .where(_T.c.id == bindparam("p_id"), _T.c.version == bindparam("p_version"))
    .values(
        dialog=bindparam("dialog"),
        state=bindparam("state"),
        data=bindparam("data", type_=_T.c.data.type),
        version=bindparam("version"),
        expires_at=bindparam("expires_at", type_=_T.c.expires_at.type),
        updated_at=bindparam("updated_at", type_=_T.c.updated_at.type),
    )
)
_DELETE = HotStatement(
    delete(_T).where(_T.c.id == bindparam("p_id"), _T.c.version == bindparam("p_version"))
)


class StaleDialogState(RuntimeError):
    """The row changed since it was read (someone else moved the conversation on)."""


class DialogState(NamedTuple):
    """One conversation's saved place, as read."""

    id: int
    channel: str
    chat_id: str
    user_id: str
    dialog: str
    state: str
    data: dict[str, Any]
    version: int
    expires_at: datetime


class DialogStateRepository:
    """Where each conversation stands (its flow, state and data), versioned."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, channel: str, chat_id: str, user_id: str) -> DialogState | None:
        row = (
            await _GET.execute(
                self.session, {"p_channel": channel, "p_chat": chat_id, "p_user": user_id}
            )
        ).first()
        return DialogState(*row) if row is not None else None

    async def save(
        self,
        row: DialogState | None,
        *,
        channel: str,
        chat_id: str,
        user_id: str,
        dialog: str,
        state: str,
        data: dict[str, Any],
        expires_at: datetime,
        now: datetime,
    ) -> DialogState:
        """Insert the conversation's place, or move the one read as ``row`` on (only if nobody
        else did meanwhile: ``StaleDialogState`` otherwise)."""
        values = {
            "dialog": dialog,
            "state": state,
            "data": copy.deepcopy(data),
            "expires_at": expires_at,
            "updated_at": now,
        }
        if row is None:
            version = 1
            new_id = (
                await _INSERT.execute(
                    self.session,
                    {"channel": channel, "chat_id": chat_id, "user_id": user_id,
                     "version": version, **values},
                )
            ).scalar_one()
        else:
            version = row.version + 1
            result = await _UPDATE.execute(
                self.session, {"p_id": row.id, "p_version": row.version, "version": version, **values}
            )
            if result.rowcount != 1:
                raise StaleDialogState(f"dialog state {row.id} moved on meanwhile")
            new_id = row.id
        return DialogState(new_id, channel, chat_id, user_id, dialog, state, values["data"],
                           version, expires_at)

    async def clear(self, row: DialogState | None) -> None:
        if row is not None:
            await self.delete_if_version(row.id, row.version)

    async def expired(self, now: datetime, limit: int = 500) -> list[DialogState]:
        result = await self.session.execute(_EXPIRED, {"p_now": now, "p_limit": limit})
        return [DialogState(*r) for r in result]

    async def delete_if_version(self, row_id: int, version: int) -> bool:
        """Delete a row only if nobody moved it on meanwhile (optimistic check)."""
        result = await _DELETE.execute(self.session, {"p_id": row_id, "p_version": version})
        return bool(result.rowcount)
