"""Demo data: a few registered workers and employers of several trades and towns, each with a
web-chat persona, so a newcomer can pick one and see the bot with a populated market.

Loading is idempotent (fixed persona ids); it goes through the same market functions as chat.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from market.money import yuan_to_fen
from market.orders import OrderDraft, publish_order
from market.people import register_employer, register_worker
from matching.gazetteer import find_town
from matching.taxonomy import load_taxonomy
from storage.db import Database
from storage.models import Order
from storage.repositories import UserRepository, WebChatRepository


@dataclass(frozen=True)
class DemoWorker:
    """A demo worker and their web persona."""

    persona: str
    name: str
    phone: str
    trades: tuple[str, ...]
    towns: tuple[str, ...]
    availability: str
    min_wage_yuan: int


@dataclass(frozen=True)
class DemoEmployer:
    """A demo employer and their web persona."""

    persona: str
    name: str
    phone: str
    company: str
    town: str


WORKERS = (
    DemoWorker("demo-w-zhang", "张师傅", "13905981234", ("mason", "tiler"), ("夏茂镇",), "any", 300),
    DemoWorker(
        "demo-w-li", "李姐", "13805982345", ("cleaner", "kitchen_helper"), ("凤岗街道", "虬江街道"), "half_day", 120
    ),
    DemoWorker("demo-w-chen", "陈阿姨", "15959803456", ("tea_picker", "farm_hand"), ("高砂镇", "南阳乡"), "any", 0),
    DemoWorker("demo-w-wang", "王小工", "18650984567", ("helper", "loader"), (), "any", 180),
    DemoWorker("demo-w-lin", "林师傅", "13605985678", ("electrician", "plumber"), ("凤岗街道",), "weekdays", 350),
)
@dataclass(frozen=True)
class DemoOrder:
    """A demo job order, posted by a demo employer."""

    employer: str
    code: str
    trade: str
    headcount: int
    wage_yuan: int
    unit: str
    start_in_days: int
    hour: int
    town: str
    place: str
    perks: tuple[str, ...] = ()
    mode: str = "first_come"
    insurance: str = "basic"


EMPLOYERS = (
    DemoEmployer("demo-e-huang", "黄老板", "13959806789", "夏茂建筑队", "夏茂镇"),
    DemoEmployer("demo-e-zheng", "郑姐", "13859807890", "沙县小吃城阿郑店", "凤岗街道"),
    DemoEmployer("demo-e-luo", "罗场长", "15080988901", "高砂茶场", "高砂镇"),
)


ORDERS = (
    DemoOrder("demo-e-huang", "2601", "mason", 3, 380, "day", 1, 7, "夏茂镇", "东街自建房", ("包午饭",)),
    DemoOrder("demo-e-huang", "2602", "helper", 2, 220, "day", 1, 7, "夏茂镇", "东街自建房", ("包午饭",)),
    DemoOrder("demo-e-zheng", "2603", "kitchen_helper", 1, 25, "hour", 1, 10, "凤岗街道", "小吃城", ("包餐",), "pick"),
    DemoOrder(
        "demo-e-luo", "2604", "tea_picker", 6, 150, "day", 2, 6, "高砂镇", "高砂茶场", ("接送",), "first_come", ""
    ),
)


def _check() -> None:
    """Demo data must use real taxonomy ids and gazetteer towns (fail loudly if they drift)."""
    tax = load_taxonomy()
    for w in WORKERS:
        for t in w.trades:
            if tax.get(t) is None:
                raise ValueError(f"demo worker {w.name}: unknown trade {t}")
        for town in w.towns:
            found = find_town(town)
            if found is None or found.name != town:
                raise ValueError(f"demo worker {w.name}: unknown town {town}")
    for e in EMPLOYERS:
        found = find_town(e.town)
        if found is None or found.name != e.town:
            raise ValueError(f"demo employer {e.name}: unknown town {e.town}")
    for o in ORDERS:
        if tax.get(o.trade) is None:
            raise ValueError(f"demo order {o.code}: unknown trade {o.trade}")


async def load_demo(db: Database, now: datetime, tz: ZoneInfo) -> int:
    """Create what is missing; returns how many personas were added."""
    _check()
    added = 0
    async with db.transaction() as session:
        web = WebChatRepository(session)
        users = UserRepository(session)
        for w in WORKERS:
            if await web.persona(w.persona) is not None:
                continue
            await web.add_persona(w.persona, w.name, "worker", now)
            user = await users.get_or_create("web", w.persona, w.name, now)
            await register_worker(
                session,
                user,
                name=w.name,
                phone=w.phone,
                trades=list(w.trades),
                towns=list(w.towns),
                availability=w.availability,
                min_wage_fen=yuan_to_fen(w.min_wage_yuan),
                min_wage_unit="day",
                now=now,
            )
            added += 1
        for e in EMPLOYERS:
            if await web.persona(e.persona) is not None:
                continue
            await web.add_persona(e.persona, e.name, "employer", now)
            user = await users.get_or_create("web", e.persona, e.name, now)
            await register_employer(
                session, user, name=e.name, phone=e.phone, company=e.company, town=e.town, now=now
            )
            added += 1
        for o in ORDERS:
            if await session.scalar(select(Order.id).where(Order.code == o.code)) is not None:
                continue
            employer = await users.by_identity("web", o.employer)
            assert employer is not None
            local = now.astimezone(tz) + timedelta(days=o.start_in_days)
            order = await publish_order(
                session,
                employer.id,
                OrderDraft(
                    trade_id=o.trade,
                    headcount=o.headcount,
                    wage_fen=yuan_to_fen(o.wage_yuan),
                    wage_unit=o.unit,
                    start_at=local.replace(hour=o.hour, minute=0, second=0, microsecond=0),
                    duration_text="",
                    town=o.town,
                    place=o.place,
                    perks=list(o.perks),
                    mode=o.mode,
                    insurance=o.insurance,
                    source="web",
                ),
                now,
            )
            order.code = o.code
    return added
