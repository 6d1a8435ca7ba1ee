"""Demo data: a few registered workers and employers of several trades and towns, each with a
web-chat persona, so a newcomer can pick one and see the bot with a populated market.

Loading is idempotent (fixed persona ids); it goes through the same market functions as chat.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from market.money import yuan_to_fen
from market.people import register_employer, register_worker
from matching.gazetteer import find_town
from matching.taxonomy import load_taxonomy
from storage.db import Database
from storage.repositories import UserRepository, WebChatRepository


@dataclass(frozen=True)
class DemoWorker:
    persona: str
    name: str
    phone: str
    trades: tuple[str, ...]
    towns: tuple[str, ...]
    availability: str
    min_wage_yuan: int


@dataclass(frozen=True)
class DemoEmployer:
    persona: str
    name: str
    phone: str
    company: str
    town: str


WORKERS = (
    DemoWorker("demo-w-zhang", "张师傅", "13905981234", ("mason", "tiler"), ("夏茂镇",), "any", 300),
    DemoWorker("demo-w-li", "李姐", "13805982345", ("cleaner", "kitchen_helper"), ("凤岗街道", "虬江街道"), "half_day", 120),
    DemoWorker("demo-w-chen", "陈阿姨", "15959803456", ("tea_picker", "farm_hand"), ("高砂镇", "南阳乡"), "any", 0),
    DemoWorker("demo-w-wang", "王小工", "18650984567", ("helper", "loader"), (), "any", 180),
    DemoWorker("demo-w-lin", "林师傅", "13605985678", ("electrician", "plumber"), ("凤岗街道",), "weekdays", 350),
)
EMPLOYERS = (
    DemoEmployer("demo-e-huang", "黄老板", "13959806789", "夏茂建筑队", "夏茂镇"),
    DemoEmployer("demo-e-zheng", "郑姐", "13859807890", "沙县小吃城阿郑店", "凤岗街道"),
    DemoEmployer("demo-e-luo", "罗场长", "15080988901", "高砂茶场", "高砂镇"),
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


async def load_demo(db: Database, now: datetime) -> int:
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
    return added
