"""Build market state quickly through the real market functions (no chat)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from market import orders, work
from market.orders import OrderDraft
from market.people import register_employer, register_worker
from market.settings import MarketSettings
from storage.models import Order
from storage.repositories import UserRepository

TZ = ZoneInfo("Asia/Shanghai")


async def employer(s: AsyncSession, ext: str, now: datetime, town: str = "夏茂镇") -> int:
    u = await UserRepository(s).get_or_create("web", ext, ext, now)
    await register_employer(s, u, name=f"老板{ext}", phone="13900000000", company="", town=town, now=now)
    return u.id


async def worker(s: AsyncSession, ext: str, now: datetime) -> int:
    u = await UserRepository(s).get_or_create("web", ext, ext, now)
    await register_worker(
        s, u, name=f"工人{ext}", phone="13800000000", trades=["helper"], towns=[], availability="any",
        min_wage_fen=0, min_wage_unit="day", now=now,
    )
    return u.id


async def order(
    s: AsyncSession, employer_id: int, now: datetime, *, headcount: int = 1, wage_fen: int = 20000,
    trade: str = "helper", town: str = "夏茂镇", mode: str = "first_come", insurance: str = "",
) -> Order:
    return await orders.publish_order(
        s,
        employer_id,
        OrderDraft(
            trade_id=trade, headcount=headcount, wage_fen=wage_fen, wage_unit="day",
            start_at=now + timedelta(hours=20), town=town, mode=mode, insurance=insurance,
        ),
        now,
    )


async def completed_assignment(
    s: AsyncSession, employer_id: int, worker_id: int, now: datetime, *, wage_fen: int = 20000,
    quantity_milli: int = 1000, trade: str = "helper", town: str = "夏茂镇",
) -> int:
    o = await order(s, employer_id, now, wage_fen=wage_fen, trade=trade, town=town)
    taken = await orders.take(s, o.code, worker_id, now, TZ)
    await work.complete(s, taken.assignment_id, employer_id, quantity_milli, MarketSettings(), now)
    return taken.assignment_id
