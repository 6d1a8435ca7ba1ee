"""Statistics by day, trade and town; the grouped figures add up to an independent SQL recount."""

from __future__ import annotations

from datetime import date, timedelta

from market import cases, orders, payments, statistics, work
from market.settings import MarketSettings
from storage.db import Database
from tests.market import factory

SETTINGS = MarketSettings()
COMPARED = (
    "orders_posted", "orders_filled", "completions", "amount_settled_fen", "disputes_opened",
    "disputes_resolved", "contracts_signed", "contracts_insured", "open_arrears", "open_arrears_fen",
)


async def test_breakdowns_add_up_to_totals(db: Database, clock) -> None:  # type: ignore[no-untyped-def]
    async with db.transaction() as s:
        boss = await factory.employer(s, "boss", clock())
        workers = [await factory.worker(s, f"w{i}", clock()) for i in range(6)]
    plan = [  # (day offset, trade, town, headcount, takers, complete, pay)
        (0, "helper", "夏茂镇", 2, 2, True, True),
        (0, "mason", "凤岗街道", 3, 1, True, False),
        (1, "helper", "凤岗街道", 1, 1, True, True),
        (1, "cleaner", "高砂镇", 2, 0, False, False),
        (2, "tea_picker", "高砂镇", 1, 1, False, False),
    ]
    first_code = ""
    for _day, trade, town, headcount, takers, complete, pay in plan:
        async with db.transaction() as s:
            o = await factory.order(s, boss, clock(), headcount=headcount, trade=trade, town=town, insurance="basic")
            aids = []
            for w in workers[:takers]:
                aids.append((await orders.take(s, o.code, w, clock(), SETTINGS.tz)).assignment_id)
            if complete:
                for aid in aids:
                    await work.complete(s, aid, boss, 1000, SETTINGS, clock())
            if pay:
                for aid in aids:
                    await payments.record_cash(s, aid, 20000, key=f"k{aid}", operator="op", now=clock())
            first_code = first_code or o.code
        clock.advance(days=1)
    async with db.transaction() as s:
        case = await cases.open_dispute(s, first_code, workers[0], "quality", "测试", SETTINGS, clock())
        await cases.resolve_by_operator(s, case.id, None, "已说明", "op", clock() + timedelta(hours=5))
    clock.advance(days=3)  # the unpaid mason job is now in arrears
    today = clock().astimezone(SETTINGS.tz).date()
    period = statistics.Period(today - timedelta(days=10), today, SETTINGS.tz)
    async with db.reader() as s:
        totals = await statistics.totals(s, period, clock())
        for group in statistics.GROUPS:
            merged = statistics.merge(await statistics.breakdown(s, period, group, clock()))
            for name in COMPARED:
                assert getattr(merged, name) == getattr(totals, name), (group, name)
        by_trade = await statistics.breakdown(s, period, "trade", clock())
        by_town = await statistics.breakdown(s, period, "town", clock())
    assert totals.orders_posted == 5
    assert totals.orders_filled == 3  # 2/2, 1/1 and 1/1 filled; 1/3 and 0/2 not
    assert totals.completions == 4
    assert totals.amount_settled_fen == 60000
    assert totals.open_arrears == 1 and totals.open_arrears_fen == 20000
    assert (totals.disputes_opened, totals.disputes_resolved) == (1, 1)
    assert by_trade["helper"].orders_posted == 2 and by_trade["helper"].fill_rate == 1.0
    assert by_town["高砂镇"].orders_posted == 2
    assert isinstance(date.fromisoformat(next(iter(await _days(db, period, clock)))), date)


async def _days(db: Database, period: statistics.Period, clock):  # type: ignore[no-untyped-def]
    async with db.reader() as s:
        return await statistics.breakdown(s, period, "day", clock())
