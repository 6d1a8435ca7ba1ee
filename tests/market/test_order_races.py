"""Order edits racing takes on one order, through the real market functions, each call in its own
transaction, run concurrently: 改人数 against 30 接, 取消招工 against 30 接 (or 报名), 退 against 不要.

SQLite serialises writers, so there these only check the bookkeeping; on PostgreSQL (READ
COMMITTED) a read-then-write edit loses the takes' version increments, writes a stale status,
trips the ``confirmed <= headcount`` CHECK, misses a worker who took meanwhile, or gives one place
back twice. Each of these tests failed on PostgreSQL before the edits became conditional UPDATEs.

Every change of the order row adds one to ``version``, so the versions tell the story: version
``v`` of a successful 改人数 means ``v - 1`` earlier changes, of which those not made by 改人数
were takes. Hence the workers told of that change must be exactly that many, each once.
"""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from market import orders, texts
from market.errors import UserFacingError
from storage.db import Database
from storage.models import Assignment, Order, OutboxRow
from tests.market import factory

NOW = datetime(2026, 11, 26, 0, 0, tzinfo=UTC)
WORKERS = 30
ROUNDS = 4
START = 6
CHANGES = (9, 4, 14, 12, 20, 11, 26, 23, 30)
"""The employer's 改人数, one after another: the much lower ones are refused once enough have taken;
the slightly lower ones race the takes (lowered, or refused when the takes got there first)."""


async def _round(db: Database, boss: int, workers: list[int], r: int) -> None:
    async with db.transaction() as s:
        o = await factory.order(s, boss, NOW, headcount=START)
        code, order_id = o.code, o.id

    employer_done = asyncio.Event()

    async def take(w: int) -> int | None:
        while True:  # 已满 may be open again after the next 改人数: ask again till the employer is done
            last_try = employer_done.is_set()
            try:
                async with db.transaction() as s:
                    return (await orders.take(s, code, w, NOW, factory.TZ)).assignment_id
            except orders.OrderFull:
                if last_try:
                    return None
                await asyncio.sleep(0.002)

    async def employer() -> list[tuple[int, int, int, str] | None]:
        done: list[tuple[int, int, int, str] | None] = []
        for h in CHANGES:
            try:
                async with db.transaction() as s:
                    changed = await orders.change_headcount(s, code, boss, h, NOW, factory.TZ)
                    done.append((changed.version, changed.headcount, changed.confirmed, changed.status))
            except UserFacingError as exc:
                assert re.fullmatch(texts.HEADCOUNT_BELOW_CONFIRMED.replace("{confirmed}", r"\d+"), str(exc)), exc
                done.append(None)
            await asyncio.sleep(0.002)
        employer_done.set()
        return done

    *took, changes = await asyncio.gather(*(take(w) for w in workers), employer())
    taken = {a for a in took if a is not None}
    made = [c for c in changes if c is not None]

    async with db.reader() as s:
        o = await s.get(Order, order_id)
        assert o is not None
        confirmed = set(
            (await s.execute(
                select(Assignment.id).where(Assignment.order_id == order_id, Assignment.status == "confirmed")
            )).scalars()
        )
        notes = list((await s.execute(
            select(OutboxRow.idempotency_key, OutboxRow.text).where(
                OutboxRow.idempotency_key.like(f"notify:headcount:{order_id}:%")
            )
        )).all())

    where = f"round {r}: order {o.headcount=} {o.confirmed=} {o.status=} {o.version=}; changes {changes}"
    # Nobody taken beyond the headcount; the row agrees with the assignments and with itself.
    assert confirmed == taken, where
    assert o.confirmed == len(taken) <= o.headcount, where
    assert o.status == ("full" if o.confirmed >= o.headcount else "open"), where
    last = next((c for c in reversed(made)), None)
    assert last is None or o.headcount == last[1], where
    # No lost increment: one per successful take and per successful 改人数.
    assert o.version == 1 + len(taken) + len(made), where
    versions = [v for v, *_ in made]
    assert versions == sorted(set(versions)), where
    for v, h, c, status in made:
        before = v - 2 - sum(1 for w, *_ in made if w < v)  # takes ordered before this change
        assert c == before <= h and status == ("full" if c >= h else "open"), (v, where)

    # Every worker taken before a change was told of it exactly once, nobody else.
    told: dict[int, set[int]] = {}
    per_worker: Counter[int] = Counter()
    for key, text in notes:
        _, _, _, v, aid = key.split(":")
        told.setdefault(int(v), set()).add(int(aid))
        per_worker[int(aid)] += 1
        h = next(h for w, h, *_ in made if w == int(v))
        assert f"人数改为{h}人" in text, (key, text)
    seen: set[int] = set()
    for v, _h, c, _status in made:
        now_told = told.get(v, set())
        assert len(now_told) == c and seen <= now_told <= taken, (v, len(now_told), c, where)
        seen = now_told
    assert sum(per_worker.values()) == sum(c for _v, _h, c, _s in made), where


async def test_headcount_changes_racing_takes_keep_the_order_consistent(db: Database) -> None:
    async with db.transaction() as s:
        boss = await factory.employer(s, "boss", NOW)
        workers = [await factory.worker(s, f"w{i}", NOW) for i in range(WORKERS)]
    for r in range(ROUNDS):
        await _round(db, boss, workers, r)


async def _cancel_round(db: Database, boss: int, workers: list[int], mode: str, r: int) -> None:
    async with db.transaction() as s:
        o = await factory.order(s, boss, NOW, headcount=WORKERS, mode=mode)
        code, order_id = o.code, o.id

    refusals: list[str] = []

    async def take(w: int, i: int) -> int | None:
        await asyncio.sleep(0.0005 * i)
        try:
            async with db.transaction() as s:
                return (await orders.take(s, code, w, NOW, factory.TZ)).assignment_id
        except UserFacingError as exc:
            refusals.append(str(exc))
            return None

    async def cancel() -> int:
        await asyncio.sleep(0.005)
        async with db.transaction() as s:
            return await orders.cancel_order(s, code, boss, NOW)

    *took, told = await asyncio.gather(*(take(w, i) for i, w in enumerate(workers)), cancel())
    taken = {a for a in took if a is not None}
    async with db.reader() as s:
        o = await s.get(Order, order_id)
        assert o is not None
        statuses = Counter(
            (await s.execute(select(Assignment.status).where(Assignment.order_id == order_id))).scalars()
        )
        keys = list((await s.execute(
            select(OutboxRow.idempotency_key).where(OutboxRow.idempotency_key.like(f"notify:cancel:{order_id}:%"))
        )).scalars())
    where = f"round {r}: {len(taken)} taken, {told} told, {statuses}, {o.status=} {o.confirmed=}"
    assert o.status == "cancelled" and statuses == Counter({"cancelled": len(taken)} if taken else {}), where
    assert told == len(taken) == len(keys), where
    assert {int(k.rsplit(":", 1)[1]) for k in keys} == taken, where
    assert o.confirmed == (len(taken) if mode == "first_come" else 0), where
    assert all("已取消" in m for m in refusals), refusals  # not 已满: there were places left


@pytest.mark.parametrize("mode", ["first_come", "pick"])
async def test_cancel_racing_takes_tells_everyone_taken(db: Database, mode: str) -> None:
    """取消招工 while 30 workers take (or apply): whoever got in is told once and let go; nobody
    is left taken on a cancelled order."""
    async with db.transaction() as s:
        boss = await factory.employer(s, "boss", NOW)
        workers = [await factory.worker(s, f"w{i}", NOW) for i in range(WORKERS)]
    for r in range(ROUNDS):
        await _cancel_round(db, boss, workers, mode, r)


async def _withdraw_round(db: Database, boss: int, workers: list[int], r: int) -> None:
    async with db.transaction() as s:
        o = await factory.order(s, boss, NOW, headcount=WORKERS)
        code, order_id = o.code, o.id
        for w in workers:
            await orders.take(s, code, w, NOW, factory.TZ)
        version = (await orders.by_code(s, code)).version
    contested = list(range(0, WORKERS, 2))  # workers[i] is applicant number i + 1

    async def withdraw(i: int) -> bool:
        try:
            async with db.transaction() as s:
                await orders.withdraw(s, code, workers[i], NOW)
                return True
        except UserFacingError:
            return False

    async def decline(i: int) -> bool:
        try:
            async with db.transaction() as s:
                await orders.decline(s, code, boss, i + 1, NOW)
                return True
        except UserFacingError:
            return False

    done = await asyncio.gather(*(withdraw(i) for i in contested), *(decline(i) for i in contested))
    async with db.reader() as s:
        o = await s.get(Order, order_id)
        assert o is not None
        statuses = Counter(
            (await s.execute(select(Assignment.status).where(Assignment.order_id == order_id))).scalars()
        )
    where = f"round {r}: {sum(done)} succeeded, {statuses}, {o.confirmed=} {o.status=} {o.version=}"
    assert sum(done) == len(contested), where
    assert statuses["withdrawn"] + statuses["declined"] == len(contested), where
    assert o.confirmed == statuses["confirmed"] == WORKERS - len(contested) and o.status == "open", where
    assert o.version == version + len(contested), where


async def test_withdraw_racing_decline_gives_a_place_back_once(db: Database) -> None:
    """退 by the worker and 不要 by the employer at the same moment, for half the workers of a full
    order: each place comes back once, whoever wins; the others stay taken."""
    async with db.transaction() as s:
        boss = await factory.employer(s, "boss", NOW)
        workers = [await factory.worker(s, f"w{i}", NOW) for i in range(WORKERS)]
    for r in range(ROUNDS):
        await _withdraw_round(db, boss, workers, r)
