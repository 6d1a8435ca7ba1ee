"""Digests for a seeded population: the right jobs in the right order, priority first, the
first-look window, budgets and quiet hours, nothing when nothing fits; still-hiring checks and
reminders; training pushes and sign-ups."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, update

from market import digests, orders, pushes, training
from market.errors import UserFacingError
from market.settings import MarketSettings
from storage.db import Database
from storage.models import Order, OutboxRow, PriorityOffer, PushRecord, WorkerProfile
from storage.repositories import UserRepository
from tests.market import factory

S = MarketSettings()
MORNING = datetime(2026, 11, 26, 0, 0, tzinfo=UTC)  # 08:00 in Sha County


async def _worker(s, ext: str, now, *, trades=("helper",), towns=(), min_wage=0, birth_year=None, flags=()):  # type: ignore[no-untyped-def]
    from market.people import register_worker

    u = await UserRepository(s).get_or_create("web", ext, ext, now)
    p = await register_worker(
        s, u, name=ext, phone="13800000000", trades=list(trades), towns=list(towns), availability="any",
        min_wage_fen=min_wage, min_wage_unit="day", now=now,
    )
    p.birth_year = birth_year
    p.priority_flags = list(flags)
    return u.id


async def _outbox(db: Database, chat: str) -> list[str]:
    async with db.reader() as s:
        stmt = select(OutboxRow.text).where(OutboxRow.chat_id == chat).order_by(OutboxRow.id)
        return list((await s.execute(stmt)).scalars())


async def _orders(db: Database, boss: int, now: datetime, specs) -> list[str]:  # type: ignore[no-untyped-def]
    codes = []
    async with db.transaction() as s:
        for trade, town, wage in specs:
            o = await factory.order(s, boss, now, trade=trade, town=town, wage_fen=wage)
            codes.append(o.code)
    return codes


async def test_digest_content_and_order(db: Database) -> None:
    now = MORNING - timedelta(hours=2)
    async with db.transaction() as s:
        boss = await factory.employer(s, "boss", now)
        await _worker(s, "near", now, trades=("helper",), towns=("夏茂镇",))
        await _worker(s, "picky", now, trades=("helper",), towns=("夏茂镇",), min_wage=30000)
        await _worker(s, "cook", now, trades=("cook",), towns=("凤岗街道",))
    same, far, cheap_far, mason = await _orders(
        db, boss, now,
        [("helper", "夏茂镇", 22000), ("helper", "湖源乡", 22000),
         ("helper", "郑湖乡", 15000), ("mason", "夏茂镇", 38000)],
    )
    async with db.transaction() as s:
        run = await digests.send_digests(s, S, MORNING)
    assert run.sent == 1 and run.nothing_fits == 2  # picky: nothing pays 300; cook: no cook jobs
    [text] = await _outbox(db, "near")
    assert text.index(same) < text.index(far)  # same town first
    assert mason not in text  # not the worker's trade
    assert "同镇" in text and "回「接 编号」" in text
    assert await _outbox(db, "picky") == [] and await _outbox(db, "cook") == []
    async with db.transaction() as s:  # once a day
        assert (await digests.send_digests(s, S, MORNING + timedelta(hours=3))).sent == 0
    await _orders(db, boss, MORNING + timedelta(hours=20), [("helper", "夏茂镇", 22000)])
    async with db.transaction() as s:  # the next day again, with the new order
        assert (await digests.send_digests(s, S, MORNING + timedelta(days=1))).sent == 1
    assert cheap_far in text  # 150 a day is fine for a worker with no minimum


async def test_quiet_hours_budget_and_unsubscribe(db: Database) -> None:
    now = MORNING - timedelta(hours=2)
    async with db.transaction() as s:
        boss = await factory.employer(s, "boss", now)
        w = await _worker(s, "w", now)
    await _orders(db, boss, now, [("helper", "夏茂镇", 20000)] * 3)
    night = datetime(2026, 11, 26, 14, 0, tzinfo=UTC)  # 22:00 local
    async with db.transaction() as s:
        assert (await digests.send_digests(s, S, night)).considered == 0
        assert pushes.in_quiet_hours(night, S)
    async with db.transaction() as s:  # spend the weekly budget
        for i in range(S.weekly_push_budget):
            s.add(PushRecord(user_id=w, kind="training", key=f"t{i}", local_day="2026-11-25", created_at=now))
    async with db.transaction() as s:
        run = await digests.send_digests(s, S, MORNING)
    assert run.sent == 0 and run.skipped == 1
    later = MORNING + timedelta(days=8)  # the budget has rolled over; new orders
    await _orders(db, boss, later - timedelta(hours=2), [("helper", "夏茂镇", 20000)])
    async with db.transaction() as s:
        await digests.set_subscription(s, w, False)
    async with db.transaction() as s:
        assert (await digests.send_digests(s, S, later)).considered == 0
        await digests.set_subscription(s, w, True)
    async with db.transaction() as s:
        assert (await digests.send_digests(s, S, later)).sent == 1


async def test_ignored_digests_pause_until_the_worker_writes(db: Database) -> None:
    now = MORNING - timedelta(hours=2)
    async with db.transaction() as s:
        boss = await factory.employer(s, "boss", now)
        w_id = await _worker(s, "w", now)
    for day in range(6):
        await _orders(db, boss, MORNING + timedelta(days=day) - timedelta(hours=1), [("helper", "夏茂镇", 20000)])
        async with db.transaction() as s:
            await digests.send_digests(s, S, MORNING + timedelta(days=day))
    assert len(await _outbox(db, "w")) == S.ignored_digest_limit
    async with db.transaction() as s:
        await digests.touch(s, w_id, MORNING + timedelta(days=6))
    await _orders(db, boss, MORNING + timedelta(days=7) - timedelta(hours=1), [("helper", "夏茂镇", 20000)])
    async with db.transaction() as s:
        assert (await digests.send_digests(s, S, MORNING + timedelta(days=7))).sent == 1


async def test_priority_first_look_and_point_to_point_offers(db: Database) -> None:
    now = MORNING
    async with db.transaction() as s:
        boss = await factory.employer(s, "boss", now - timedelta(days=30))
        older = await _worker(s, "older", now, birth_year=1968)  # 58
        flagged = await _worker(s, "flagged", now, flags=("disabled",))
        young = await _worker(s, "young", now, birth_year=2000)
        await _worker(s, "waiting", now - timedelta(days=20))  # registered 20 days ago, no work since
    async with db.transaction() as s:
        o = await factory.order(s, boss, now + timedelta(minutes=1))
        sent = await digests.offer_to_priority_workers(s, o, S, now + timedelta(minutes=1))
    assert sent == 3
    for who in ("older", "flagged", "waiting"):
        assert "优先推荐" in (await _outbox(db, who))[-1]
    assert await _outbox(db, "young") == []
    async with db.transaction() as s:
        offers = (await digests.priority_list(s, o))
        assert {w.name for _o, w in offers} == {"older", "flagged", "waiting"}
        # Within the first look, the order is hidden from the others' 找活 and digests.
        assert [x.order.code for x in await digests.matches_for(s, young, S, now + timedelta(minutes=5))] == []
        assert [x.order.code for x in await digests.matches_for(s, older, S, now + timedelta(minutes=5))] == [o.code]
        later = now + timedelta(minutes=S.first_look_minutes + 2)
        assert [x.order.code for x in await digests.matches_for(s, young, S, later)] == [o.code]
        await orders.take(s, o.code, flagged, now + timedelta(minutes=3), S.tz)
        report = await digests.priority_report(s)
    assert report["disabled"]["placements"] == 1 and report["older"]["offers"] == 1
    assert report["long_wait"]["avg_days_waited"] >= 20
    async with db.reader() as s:
        assert await s.scalar(select(func.count()).select_from(PriorityOffer)) == 3
    del young


async def test_still_hiring_and_reminders(db: Database) -> None:
    now = MORNING
    async with db.transaction() as s:
        boss = await factory.employer(s, "boss", now)
        w = await _worker(s, "w", now)
        o = await factory.order(s, boss, now)
        await s.execute(update(Order).where(Order.id == o.id).values(start_at=now + timedelta(days=5)))
        await orders.take(s, o.code, w, now, S.tz)
    async with db.transaction() as s:
        assert await digests.check_still_hiring(s, S, now + timedelta(hours=47)) == (0, 0)
    async with db.transaction() as s:
        assert await digests.check_still_hiring(s, S, now + timedelta(hours=49)) == (0, 0)  # full: not asked
        await orders.change_headcount(s, o.code, boss, 2, now, S.tz)
    async with db.transaction() as s:
        assert await digests.check_still_hiring(s, S, now + timedelta(hours=49)) == (1, 0)
    assert "还在招吗" in (await _outbox(db, "boss"))[-1]
    async with db.transaction() as s:
        await digests.confirm_still_hiring(s, o.code, boss, now + timedelta(hours=50))
        assert await digests.check_still_hiring(s, S, now + timedelta(hours=80)) == (0, 0)
    async with db.transaction() as s:
        assert await digests.check_still_hiring(s, S, now + timedelta(hours=99)) == (1, 0)
    async with db.transaction() as s:
        assert await digests.check_still_hiring(s, S, now + timedelta(hours=124)) == (0, 1)
        status = await s.scalar(select(Order.status).where(Order.id == o.id))
    assert status == "expired" and "下架" in (await _outbox(db, "w"))[-1]
    with pytest.raises(UserFacingError, match="已过期"):  # too late for 还招
        async with db.transaction() as s:
            await digests.confirm_still_hiring(s, o.code, boss, now + timedelta(hours=125))


async def test_start_reminder(db: Database) -> None:
    now = MORNING
    async with db.transaction() as s:
        boss = await factory.employer(s, "boss", now)
        w = await _worker(s, "w", now)
        o = await factory.order(s, boss, now)  # starts in 20 hours
        await orders.take(s, o.code, w, now, S.tz)
    async with db.transaction() as s:
        assert await digests.send_reminders(s, S, now) == (0, 0)
    async with db.transaction() as s:
        assert await digests.send_reminders(s, S, now + timedelta(hours=9)) == (1, 0)
        assert await digests.send_reminders(s, S, now + timedelta(hours=10)) == (0, 0)
    assert "签到" in (await _outbox(db, "w"))[-1]


async def test_training_push_and_signup(db: Database) -> None:
    now = MORNING
    async with db.transaction() as s:
        a = await _worker(s, "a", now, trades=("electrician",), towns=("凤岗街道",))
        b = await _worker(s, "b", now, trades=("cook",))
        t = await training.add_training(
            s, kind="training", title="低压电工证培训", starts_at=now + timedelta(days=3), place="区人社局三楼",
            trades=["electrician"], towns=[], capacity=1, subsidy="按规定发放培训补贴", now=now,
        )
    async with db.transaction() as s:
        assert await training.push_training(s, t.code, S, now) == 1
    assert "培训报名" in (await _outbox(db, "a"))[-1]
    async with db.transaction() as s:
        assert "报名成功" in await training.sign_up(s, t.code, a, S, now)
    async with db.reader() as s:
        [(tt, n)] = await training.signups(s)
    assert n == 1 and tt.code == t.code
    del b


async def test_group_digest_lists_orders_by_trade_without_phones(db: Database) -> None:
    now = MORNING - timedelta(hours=1)
    async with db.transaction() as s:
        boss = await factory.employer(s, "boss", now)
        await digests.remember_group(s, "web", "room-x", "夏茂群", now)
    await _orders(db, boss, now, [("helper", "夏茂镇", 20000), ("mason", "夏茂镇", 38000)])
    async with db.transaction() as s:
        assert await digests.send_group_digests(s, S, MORNING) == 1
        assert await digests.send_group_digests(s, S, MORNING + timedelta(hours=2)) == 0  # once a day
    [text] = await _outbox(db, "room-x")
    assert "小工" in text and "泥水工" in text and "1390" not in text


async def test_nothing_fits_means_no_digest(db: Database) -> None:
    async with db.transaction() as s:
        await _worker(s, "w", MORNING - timedelta(days=1))
    async with db.transaction() as s:
        run = await digests.send_digests(s, S, MORNING)
    assert run.sent == 0 and run.nothing_fits == 1
    async with db.reader() as s:
        assert await s.scalar(select(func.count()).select_from(WorkerProfile)) == 1


async def test_priority_workers_first_in_digests(db: Database) -> None:
    async with db.transaction() as s:
        boss = await factory.employer(s, "boss", MORNING - timedelta(days=1))
        await _worker(s, "regular", MORNING - timedelta(days=1), birth_year=1990)
        await _worker(s, "older", MORNING - timedelta(days=1), birth_year=1965)
    old, = await _orders(db, boss, MORNING - timedelta(hours=3), [("helper", "夏茂镇", 20000)])
    new, = await _orders(db, boss, MORNING - timedelta(minutes=10), [("helper", "夏茂镇", 26000)])
    async with db.transaction() as s:
        assert (await digests.send_digests(s, S, MORNING)).sent == 2
    async with db.reader() as s:
        rows = list((await s.execute(select(OutboxRow).order_by(OutboxRow.id))).scalars())
    assert [r.chat_id for r in rows] == ["older", "regular"]  # the priority worker's digest first
    older, regular = rows[0].text, rows[1].text
    assert new in older and old in older  # the first look: the new order only for the priority worker
    assert new not in regular and old in regular
