"""Signed WeChat callbacks seen once (``callback_nonces``), shared by every process: the same
timestamp, nonce and signature again inside the freshness window is a replay."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import CallbackNonce
from storage.repositories._upsert import insert_ignore

_TABLE = CallbackNonce.__table__


class CallbackNonceRepository:
    """The WeChat callbacks' spent signatures (replays refused)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def first_use(self, *, channel: str, key: str, expires_at: datetime) -> bool:
        """Record a signed request's key; False when it was recorded before (a replay).

        One insert-ignore on the primary key: on PostgreSQL a concurrent transaction holding the
        same key makes this one wait for its outcome, so two processes never both accept it."""
        made = await insert_ignore(
            self.session,
            _TABLE,
            {"channel": channel, "key": key, "expires_at": expires_at},
            _TABLE.c.key,
        )
        return made is not None

    async def delete_expired(self, now: datetime) -> int:
        """Forget keys past their window (their timestamps are refused as stale by then)."""
        result = await self.session.execute(
            delete(CallbackNonce)
            .where(CallbackNonce.expires_at <= now)
            .execution_options(synchronize_session=False)
        )
        return int(result.rowcount or 0)
