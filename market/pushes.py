"""The rules every push obeys: quiet hours, a weekly budget per person, once per key.

A push is a notification plus a ``push_log`` row with a unique key, written in the same
transaction: replaying a job (or a job killed half-way and run again) sends nothing twice.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from market.notify import notify_user
from market.settings import MarketSettings
from storage.models import PushRecord
from storage.repositories import PushLogRepository

BUDGETED = ("digest", "offer", "training")


def local_day(now: datetime, settings: MarketSettings) -> str:
    return now.astimezone(settings.tz).date().isoformat()


def in_quiet_hours(now: datetime, settings: MarketSettings) -> bool:
    hour = now.astimezone(settings.tz).hour
    start, end = settings.quiet_start, settings.quiet_end
    return hour >= start or hour < end if start > end else start <= hour < end


async def pushes_this_week(session: AsyncSession, user_id: int, now: datetime, settings: MarketSettings) -> int:
    since = (now - timedelta(days=7)).astimezone(settings.tz).date().isoformat()
    return int(
        await session.scalar(
            select(func.count())
            .select_from(PushRecord)
            .where(PushRecord.user_id == user_id, PushRecord.kind.in_(BUDGETED), PushRecord.local_day > since)
        )
        or 0
    )


async def push(
    session: AsyncSession,
    user_id: int,
    text: str,
    *,
    kind: str,
    key: str,
    now: datetime,
    settings: MarketSettings,
    ref: str = "",
    budgeted: bool = True,
) -> bool:
    """Send once per ``key``, outside quiet hours, within the weekly budget. True if queued."""
    if in_quiet_hours(now, settings):
        return False
    if (
        budgeted
        and kind in BUDGETED
        and await pushes_this_week(session, user_id, now, settings) >= settings.weekly_push_budget
    ):
        return False
    row = await PushLogRepository(session).record_once(
        user_id=user_id, kind=kind, key=key, local_day=local_day(now, settings), ref=ref[:200], now=now
    )
    if row is None:
        return False
    return await notify_user(session, user_id, text, key=f"push:{key}", now=now)
