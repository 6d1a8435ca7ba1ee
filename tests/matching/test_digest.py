"""DigestIndex.top is exactly brute-force score() + sort (issue 6); rotation; point-to-point."""

from __future__ import annotations

import gc
import random
from collections import Counter
from collections.abc import Collection
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from matching.digest import DigestIndex, first_look_until, rotate, workers_for_order
from matching.score import CUTOFF, Match, OrderFacts, WorkerFacts, score
from matching.timeparse import CHINA_TZ

NOW = datetime(2025, 5, 16, 0, 30, tzinfo=UTC)  # Friday 08:30 China time
TRADES = [
    "helper",
    "mason",
    "tiler",
    "painter",
    "cleaner",
    "hourly_help",
    "cook",
    "kitchen_helper",
    "dishwasher",
    "excavator",
    "zz_custom",
]
ORDER_TOWNS = ["夏茂镇", "高桥", "富口镇", "湖源乡", "凤岗街道", "", "三明市"]
WORKER_TOWNS = ["夏茂", "高桥镇", "富口镇", "湖源乡", "凤岗街道", "三明市"]  # short or full names
UNITS = ["day", "day", "hour", "half_day", "piece", "week", "month", "total"]
CERTS = ["健康证", "电工证", "B2驾照", "C1驾照", "驾照"]


def brute(
    orders: list[OrderFacts],
    w: WorkerFacts,
    n: int,
    exclude: Collection[int] = frozenset(),
    **kw: Any,
) -> list[Match]:
    found = [m for o in orders if o.id not in exclude and (m := score(w, o, NOW, CHINA_TZ, **kw))]
    return sorted(found)[:n]


# -- random populations ---------------------------------------------------------------------------
def _requirements(draw_or_rng: Any) -> dict[str, Any]:
    rng = draw_or_rng
    req: dict[str, Any] = {}
    if rng.random() < 0.3:
        req["age_min"] = rng.choice([None, 18, 30])
        req["age_max"] = rng.choice([None, 45, 60])
    if rng.random() < 0.2:
        req["gender"] = rng.choice(["male", "female"])
    if rng.random() < 0.15:
        req["certificates"] = [rng.choice(CERTS)]
    if rng.random() < 0.15:
        req["level"] = rng.choice(["skilled", "helper"])
    if rng.random() < 0.05:
        req["experience"] = True
    return req


def random_order(rng: random.Random, oid: int) -> OrderFacts:
    unit = rng.choice(UNITS)
    fen = {
        "hour": rng.choice([1800, 2500, 3000]),
        "piece": 150,
        "total": 300000,
        "month": rng.choice([400000, 650000]),
        "week": 150000,
        "half_day": rng.choice([9000, 15000]),
    }.get(unit, rng.choice([15000, 22000, 35000, 45000]))
    # few distinct times so that equal scores (ties) are common
    start = NOW + timedelta(hours=rng.choice([-1, 2, 10, 26, 50, 150, 400]))
    created = NOW - timedelta(minutes=rng.choice([5, 45, 300, 3000]))
    return OrderFacts(
        id=oid,
        code=f"C{oid}",
        trade_id=rng.choice(TRADES),
        town=rng.choice(ORDER_TOWNS),
        wage_fen=fen,
        wage_unit=unit,
        start_at=start,
        created_at=created,
        requirements=_requirements(rng),
        employer_on_time_rate=rng.choice([None, 0.5, 0.9, 1.0]),
        places_left=rng.choice([0, 1, 1, 3]),
    )


def random_worker(rng: random.Random, wid: int) -> WorkerFacts:
    return WorkerFacts(
        id=wid,
        trades=tuple(rng.sample(TRADES, rng.choice([0, 1, 1, 2, 3]))),
        towns=tuple(rng.sample(WORKER_TOWNS, rng.choice([0, 1, 1, 2]))),
        availability=rng.choice(["any", "any", "weekdays", "weekends", "half_day", "evenings"]),
        min_wage_fen=rng.choice([0, 0, 2000, 18000, 30000]),
        min_wage_unit=rng.choice(["day", "day", "hour"]),
        age=rng.choice([None, 25, 55, 65]),
        gender=rng.choice([None, "male", "female"]),
        certificates=tuple(rng.sample(CERTS, rng.choice([0, 0, 1]))),
        priority=rng.random() < 0.2,
    )


@st.composite
def populations(draw: st.DrawFn) -> tuple[list[OrderFacts], list[WorkerFacts], dict[str, Any]]:
    rng = random.Random(draw(st.integers(0, 2**32 - 1)))
    orders = [
        random_order(rng, oid) for oid in rng.sample(range(1, 10_000), draw(st.integers(0, 60)))
    ]
    workers = [random_worker(rng, wid) for wid in range(draw(st.integers(1, 12)))]
    params = {
        "cutoff": draw(st.sampled_from([0.0, 40.0, CUTOFF, 75.0])),
        "priority_boost": draw(st.sampled_from([0.0, 8.0, 20.0, -5.0])),
        "first_look": draw(
            st.sampled_from([timedelta(0), timedelta(minutes=30), timedelta(hours=6)])
        ),
    }
    return orders, workers, params


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    pop=populations(),
    n=st.integers(1, 12),
    step=st.sampled_from([1, 2, 8]),
    exclude_seed=st.integers(0, 1000),
)
def test_top_equals_brute_force(pop: Any, n: int, step: int, exclude_seed: int) -> None:
    orders, workers, params = pop
    idx = DigestIndex(orders, NOW, CHINA_TZ, step=step, **params)
    rng = random.Random(exclude_seed)
    for w in workers:
        exclude = {o.id for o in orders if rng.random() < 0.1}
        assert idx.top(w, n, exclude=exclude) == brute(orders, w, n, exclude, **params)
        assert idx.top(w, n) == brute(orders, w, n, **params)  # shared lists were reused


def test_top_equals_brute_force_larger_population() -> None:
    rng = random.Random(6)
    orders = [random_order(rng, oid) for oid in range(1, 701)]
    workers = [random_worker(rng, wid) for wid in range(150)]
    idx = DigestIndex(orders, NOW, CHINA_TZ)
    got = idx.top_many(workers, 8)
    for w, matches in zip(workers, got, strict=True):
        assert matches == brute(orders, w, 8)
    assert sum(bool(m) for m in got) > 50  # the population does produce matches


def test_nothing_good_today_is_an_empty_list() -> None:
    rng = random.Random(1)
    orders = [random_order(rng, oid) for oid in range(1, 80)]
    idx = DigestIndex(orders, NOW, CHINA_TZ)
    assert idx.top(WorkerFacts(1, ("tutor",), ("夏茂镇",), "any", 0, "day")) == []
    assert idx.top(WorkerFacts(2, (), (), "any", 0, "day")) == []
    assert (
        DigestIndex([], NOW, CHINA_TZ).top(WorkerFacts(3, ("mason",), (), "any", 0, "day")) == []
    )
    # only a weak fit exists: far away, entry level in the same category, three weeks out
    weak = OrderFacts(
        1,
        "W1",
        "dishwasher",
        "青州镇",
        10000,
        "day",
        NOW + timedelta(days=21),
        NOW - timedelta(days=3),
        employer_on_time_rate=0.3,
    )
    waiter = WorkerFacts(4, ("waiter",), ("湖源乡",), "any", 0, "day")
    assert DigestIndex([weak], NOW, CHINA_TZ).top(waiter) == []
    assert DigestIndex([weak], NOW, CHINA_TZ, cutoff=0).top(waiter) != []


def test_top_many_matches_top_and_restores_gc() -> None:
    rng = random.Random(3)
    orders = [random_order(rng, oid) for oid in range(1, 200)]
    workers = [random_worker(rng, wid) for wid in range(40)]
    idx = DigestIndex(orders, NOW, CHINA_TZ)
    exclude = {w.id: {o.id for o in orders[:30]} for w in workers[:10]}
    assert gc.isenabled()
    many = idx.top_many(workers, 5, exclude=exclude)
    assert gc.isenabled()
    assert many == [idx.top(w, 5, exclude=exclude.get(w.id, set())) for w in workers]
    assert idx.top(workers[0], 0) == []


def test_index_rejects_duplicate_ids_and_counts_offerable() -> None:
    rng = random.Random(2)
    o = random_order(rng, 1)
    with pytest.raises(ValueError, match="duplicate"):
        DigestIndex([o, o], NOW, CHINA_TZ)
    started = OrderFacts(2, "S", "mason", "夏茂镇", 30000, "day", NOW - timedelta(hours=1), NOW)
    full = OrderFacts(
        3, "F", "mason", "夏茂镇", 30000, "day", NOW + timedelta(hours=1), NOW, places_left=0
    )
    assert len(DigestIndex([started, full], NOW, CHINA_TZ)) == 0


def test_first_look_until() -> None:
    o = OrderFacts(1, "A", "mason", "夏茂镇", 30000, "day", NOW + timedelta(hours=5), NOW)
    assert first_look_until(o) == NOW + timedelta(minutes=30)
    assert first_look_until(o, timedelta(minutes=5)) == NOW + timedelta(minutes=5)
    idx = DigestIndex([o], NOW + timedelta(minutes=10), CHINA_TZ)
    plain = WorkerFacts(1, ("mason",), ("夏茂镇",), "any", 0, "day")
    prio = WorkerFacts(2, ("mason",), ("夏茂镇",), "any", 0, "day", priority=True)
    assert idx.top(plain) == [] and len(idx.top(prio)) == 1
    assert len(DigestIndex([o], NOW + timedelta(minutes=30), CHINA_TZ).top(plain)) == 1


# -- fairness -------------------------------------------------------------------------------------
T0 = datetime(2025, 5, 1, tzinfo=UTC)


def test_rotate_prefers_least_recently_offered_among_equals() -> None:
    scores = [(1, 80.0), (2, 80.0), (3, 80.0), (4, 60.0)]
    last = {1: T0 + timedelta(days=2), 2: T0 + timedelta(days=1)}
    assert rotate(scores, last, 3) == [3, 2, 1]  # never offered, then oldest offer
    assert rotate(scores, last, 4) == [3, 2, 1, 4]
    assert rotate(scores, last, 0) == []
    assert rotate([], last, 3) == []


def test_rotate_epsilon_bands_and_clear_winners() -> None:
    scores = [(1, 80.0), (2, 79.6), (3, 70.0)]
    last = {1: T0 + timedelta(days=1)}
    assert rotate(scores, last, 1) == [2]  # within epsilon: equally fitting
    assert rotate(scores, last, 1, epsilon=0.1) == [1]  # a clearly better worker stays first
    assert rotate([(5, 90.0), (6, 50.0)], {5: T0 + timedelta(days=9)}, 1) == [5]


def test_rotation_spreads_offers_over_rounds() -> None:
    equal = [(wid, 75.0) for wid in range(1, 7)]
    last: dict[int, datetime] = {}
    offered: Counter[int] = Counter()
    for day in range(9):
        for wid in rotate(equal, last, 2):
            offered[wid] += 1
            last[wid] = T0 + timedelta(days=day)
    assert set(offered.values()) == {3}  # six workers, two slots a day, nine days


# -- point to point -------------------------------------------------------------------------------
def test_workers_for_order_priority_first_and_rotated() -> None:
    o = OrderFacts(1, "P1", "mason", "夏茂镇", 38000, "day", NOW + timedelta(hours=4), NOW)
    workers = [
        WorkerFacts(1, ("mason",), ("夏茂镇",), "any", 0, "day"),
        WorkerFacts(2, ("mason",), ("夏茂镇",), "any", 0, "day"),
        WorkerFacts(3, ("helper",), ("高桥镇",), "any", 0, "day", priority=True),  # no fit
        WorkerFacts(4, ("tiler",), ("湖源乡",), "any", 0, "day", priority=True),
        WorkerFacts(5, ("mason",), ("夏茂镇",), "any", 50000, "day", priority=True),  # wage
        WorkerFacts(6, ("mason",), ("夏茂镇",), "weekends", 0, "day"),  # Friday start
    ]
    got = workers_for_order(o, workers, 10, now=NOW, tz=CHINA_TZ, cutoff=0)
    assert [wid for wid, _ in got] == [4, 1, 2]
    assert all(m.order_id == 1 for _, m in got)
    assert got[0][1].explanation.startswith("夏茂 · 泥水工")
    rotated = workers_for_order(
        o, workers, 2, now=NOW, tz=CHINA_TZ, cutoff=0, last_offered={1: NOW - timedelta(hours=1)}
    )
    assert [wid for wid, _ in rotated] == [4, 2]
    # the window is for priority workers; the order itself is offered to them at once
    assert workers_for_order(o, workers, 0, now=NOW, tz=CHINA_TZ) == []


@pytest.mark.parametrize("priority", [False, True])
@pytest.mark.parametrize("trades", [("mason",), ("mason", "cook")])
def test_score_exactly_at_the_cutoff_is_offered(priority: bool, trades: tuple[str, ...]) -> None:
    o = OrderFacts(
        1, "A", "mason", "夏茂镇", 30000, "day", NOW + timedelta(days=3), NOW - timedelta(hours=5)
    )
    w = WorkerFacts(1, trades, ("高桥镇",), "any", 0, "day", priority=priority)
    m = score(w, o, NOW, CHINA_TZ, cutoff=0)
    assert m is not None
    at = DigestIndex([o], NOW, CHINA_TZ, cutoff=m.score)
    above = DigestIndex([o], NOW, CHINA_TZ, cutoff=m.score + 0.01)
    assert at.top(w) == [m] == brute([o], w, 5, cutoff=m.score)
    assert above.top(w) == [] == brute([o], w, 5, cutoff=m.score + 0.01)
