"""Scoring of (worker, order) pairs (issue 6): hard filters, units, places, explanation, cutoff."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from matching.score import (
    CUTOFF,
    PRIORITY_BOOST,
    Match,
    OrderFacts,
    WorkerFacts,
    first_look_until,
    per_day_fen,
    score,
    trade_fit,
)
from matching.timeparse import CHINA_TZ

# Monday 2025-05-12 08:30 China time
NOW = datetime(2025, 5, 12, 0, 30, tzinfo=UTC)


def china(day: int, hour: int, minute: int = 0) -> datetime:
    """A May 2025 China-time moment as UTC (12 = Monday, 17 = Saturday, 18 = Sunday)."""
    return datetime(2025, 5, day, hour, minute, tzinfo=CHINA_TZ).astimezone(UTC)


def worker(**kw: Any) -> WorkerFacts:
    base: dict[str, Any] = dict(
        id=1,
        trades=("mason",),
        towns=("夏茂镇",),
        availability="any",
        min_wage_fen=0,
        min_wage_unit="day",
    )
    base.update(kw)
    return WorkerFacts(**base)


def order(**kw: Any) -> OrderFacts:
    base: dict[str, Any] = dict(
        id=7,
        code="A7",
        trade_id="mason",
        town="夏茂镇",
        wage_fen=38000,
        wage_unit="day",
        start_at=china(12, 13),
        created_at=NOW - timedelta(hours=2),
    )
    base.update(kw)
    return OrderFacts(**base)


def sc(w: WorkerFacts, o: OrderFacts, **kw: Any) -> Match | None:
    return score(w, o, NOW, CHINA_TZ, **kw)


# -- explanations ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("w", "o", "text"),
    [
        (worker(), order(), "同镇 · 泥水工 · 日结380 · 今天开工"),
        (
            worker(trades=("helper",), towns=("高桥镇",)),
            order(trade_id="helper", wage_fen=2500, wage_unit="hour", start_at=china(13, 7)),
            "邻镇夏茂 · 小工 · 一小时25 · 明天开工",
        ),
        (
            worker(towns=("湖源乡",)),
            order(start_at=china(15, 7)),
            "夏茂 · 泥水工 · 日结380 · 5月15日开工",
        ),
        (worker(towns=()), order(), "夏茂 · 泥水工 · 日结380 · 今天开工"),
        (worker(towns=("夏茂镇", "高桥镇")), order(), "夏茂 · 泥水工 · 日结380 · 今天开工"),
        (worker(), order(town=""), "地点待问 · 泥水工 · 日结380 · 今天开工"),
        (worker(towns=("夏茂",)), order(town="夏茂镇"), "同镇 · 泥水工 · 日结380 · 今天开工"),
        (worker(towns=("高桥镇",)), order(town="夏茂"), "邻镇夏茂 · 泥水工 · 日结380 · 今天开工"),
        (
            worker(trades=("helper",)),
            order(requirements={"level": "helper"}, wage_fen=22050),
            "同镇 · 泥水工(小工) · 日结220.5 · 今天开工",
        ),
        (
            worker(),
            order(wage_unit="total", wage_fen=300000),
            "同镇 · 泥水工 · 包干3000 · 今天开工",
        ),
        (worker(), order(wage_unit="piece", wage_fen=150), "同镇 · 泥水工 · 计件1.5元 · 今天开工"),
        (
            worker(),
            order(wage_unit="month", wage_fen=900000),
            "同镇 · 泥水工 · 月薪9000 · 今天开工",
        ),
        (
            worker(),
            order(wage_unit="half_day", wage_fen=20000),
            "同镇 · 泥水工 · 半天200 · 今天开工",
        ),
    ],
)
def test_explanation(w: WorkerFacts, o: OrderFacts, text: str) -> None:
    m = sc(w, o)
    assert m is not None
    assert m.explanation == text
    assert (m.order_id, m.code) == (o.id, o.code)


# -- hard requirements ----------------------------------------------------------------------------
ORDER_REQ = {"age_min": 20, "age_max": 50, "gender": "male", "certificates": ["健康证"]}


@pytest.mark.parametrize(
    ("case", "w", "o", "offered"),
    [
        # wage, compared per day
        ("wage below day minimum", worker(min_wage_fen=40000), order(), False),
        ("wage equal to minimum", worker(min_wage_fen=38000), order(), True),
        (
            "hourly ×8 meets",
            worker(min_wage_fen=20000),
            order(wage_fen=2500, wage_unit="hour"),
            True,
        ),
        (
            "hourly ×8 short",
            worker(min_wage_fen=22000),
            order(wage_fen=2500, wage_unit="hour"),
            False,
        ),
        (
            "half day ×2",
            worker(min_wage_fen=30000),
            order(wage_fen=15000, wage_unit="half_day"),
            True,
        ),
        (
            "month ÷26 short",
            worker(min_wage_fen=30000),
            order(wage_fen=650000, wage_unit="month"),
            False,
        ),
        (
            "month ÷26 meets",
            worker(min_wage_fen=30000),
            order(wage_fen=780000, wage_unit="month"),
            True,
        ),
        (
            "week ÷6 meets",
            worker(min_wage_fen=30000),
            order(wage_fen=180000, wage_unit="week"),
            True,
        ),
        (
            "hour minimum vs day wage",
            worker(min_wage_fen=5000, min_wage_unit="hour"),
            order(),
            False,
        ),
        (
            "piece: incomparable",
            worker(min_wage_fen=99900),
            order(wage_fen=100, wage_unit="piece"),
            True,
        ),
        (
            "total: incomparable",
            worker(min_wage_fen=99900),
            order(wage_fen=100, wage_unit="total"),
            True,
        ),
        ("no minimum", worker(min_wage_fen=0), order(wage_fen=100), True),
        # age, gender, certificates
        (
            "age inside",
            worker(age=30, gender="male", certificates=("健康证",)),
            order(requirements=ORDER_REQ),
            True,
        ),
        (
            "too young",
            worker(age=19, gender="male", certificates=("健康证",)),
            order(requirements=ORDER_REQ),
            False,
        ),
        (
            "too old",
            worker(age=51, gender="male", certificates=("健康证",)),
            order(requirements=ORDER_REQ),
            False,
        ),
        (
            "age unknown",
            worker(gender="male", certificates=("健康证",)),
            order(requirements=ORDER_REQ),
            True,
        ),
        (
            "gender mismatch",
            worker(age=30, gender="female", certificates=("健康证",)),
            order(requirements=ORDER_REQ),
            False,
        ),
        (
            "gender unknown",
            worker(age=30, certificates=("健康证",)),
            order(requirements=ORDER_REQ),
            True,
        ),
        (
            "certificate missing",
            worker(age=30, gender="male"),
            order(requirements=ORDER_REQ),
            False,
        ),
        (
            "B2 covers C1",
            worker(certificates=("B2驾照",)),
            order(requirements={"certificates": ["C1驾照"]}),
            True,
        ),
        (
            "C1 does not cover B2",
            worker(certificates=("C1驾照",)),
            order(requirements={"certificates": ["B2驾照"]}),
            False,
        ),
        (
            "any licence covers 驾照",
            worker(certificates=("C1驾照",)),
            order(requirements={"certificates": ["驾照"]}),
            True,
        ),
        (
            "电工证 is 特种作业",
            worker(certificates=("电工证",)),
            order(requirements={"certificates": ["特种作业证"]}),
            True,
        ),
        (
            "empty requirements",
            worker(),
            order(requirements={"age_min": None, "certificates": []}),
            True,
        ),
        # availability (China time)
        ("weekdays vs Monday", worker(availability="weekdays"), order(), True),
        (
            "weekdays vs Saturday",
            worker(availability="weekdays"),
            order(start_at=china(17, 7)),
            False,
        ),
        ("weekends vs Monday", worker(availability="weekends"), order(), False),
        (
            "weekends vs Sunday",
            worker(availability="weekends"),
            order(start_at=china(18, 7)),
            True,
        ),
        (
            "weekends vs monthly job",
            worker(availability="weekends"),
            order(start_at=china(17, 7), wage_unit="month", wage_fen=900000),
            False,
        ),
        ("half day vs day pay", worker(availability="half_day"), order(), False),
        (
            "half day vs half-day pay",
            worker(availability="half_day"),
            order(wage_unit="half_day", wage_fen=20000),
            True,
        ),
        (
            "half day vs hourly",
            worker(availability="half_day"),
            order(wage_unit="hour", wage_fen=4000),
            True,
        ),
        ("evenings vs 13:00", worker(availability="evenings"), order(), False),
        (
            "evenings vs 19:00",
            worker(availability="evenings"),
            order(start_at=china(12, 19)),
            True,
        ),
        (
            "unknown availability = any",
            worker(availability="??"),
            order(start_at=china(17, 7)),
            True,
        ),
        # the order itself
        ("already started", worker(), order(start_at=NOW - timedelta(minutes=1)), False),
        ("starts right now", worker(), order(start_at=NOW), False),
        ("no places left", worker(), order(places_left=0), False),
        # trade
        ("unrelated trade", worker(trades=("cook",)), order(), False),
        ("no trades", worker(trades=()), order(), False),
    ],
)
def test_hard_requirements(case: str, w: WorkerFacts, o: OrderFacts, offered: bool) -> None:
    assert (sc(w, o) is not None) is offered, case


# -- trade fit ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("worker_trades", "order_trade", "level", "experience", "fit"),
    [
        (("mason",), "mason", None, None, 1.0),
        (("mason",), "tiler", None, None, 0.7),  # 泥水 often covers tiling in Fujian
        (("tiler",), "mason", None, None, 0.7),
        (("helper",), "mason", "helper", None, 0.8),  # 小工 for a 泥水小工 post
        (("mason",), "helper", None, None, 0.6),  # a tradesman can do 小工 work
        (("tiler",), "helper", None, None, 0.6),  # decoration counts as building
        (("painter",), "mason", "helper", None, 0.6),
        (("helper",), "mason", None, None, 0.0),  # 小工 is not a 泥水工
        (("helper",), "demolition", None, None, 0.5),  # entry-level, same category
        (("helper",), "excavator", None, None, 0.0),  # licensed: never by category
        (("cook",), "kitchen_helper", None, None, 0.7),
        (("kitchen_helper",), "cook", None, None, 0.0),
        (("waiter",), "dishwasher", None, None, 0.5),
        (("tiler",), "mason", "skilled", None, 0.7),  # curated neighbour still fits 大工
        (("helper",), "mason", "skilled", None, 0.0),
        (("mason",), "helper", None, True, 0.0),  # experience required: same/related only
        (("cleaner", "mason"), "tiler", None, None, 0.7),  # best of the worker's trades
        (("zz_custom",), "zz_custom", None, None, 1.0),  # unknown ids still match themselves
        ((), "mason", None, None, 0.0),
    ],
)
def test_trade_fit(
    worker_trades: tuple[str, ...],
    order_trade: str,
    level: str | None,
    experience: bool | None,
    fit: float,
) -> None:
    assert trade_fit(worker_trades, order_trade, level, experience) == fit


def test_helper_level_post_scores_below_exact_trade() -> None:
    exact = sc(worker(trades=("mason",)), order(requirements={"level": "helper"}))
    helper = sc(worker(trades=("helper",)), order(requirements={"level": "helper"}))
    assert exact is not None and helper is not None
    assert exact.score > helper.score


# -- the score's parts ----------------------------------------------------------------------------
def _score(w: WorkerFacts, o: OrderFacts, **kw: Any) -> float:
    m = sc(w, o, cutoff=0, **kw)
    assert m is not None
    return m.score


def test_place_order_same_neighbour_far() -> None:
    o = order(town="夏茂镇")
    same = _score(worker(towns=("夏茂镇",)), o)
    county = _score(worker(towns=()), o)
    near = _score(worker(towns=("高桥镇",)), o)
    far = _score(worker(towns=("湖源乡",)), o)
    assert same > county > near > far


def test_time_today_beats_tomorrow_beats_far_future() -> None:
    w = worker()
    today = _score(w, order(start_at=china(12, 18)))
    tomorrow = _score(w, order(start_at=china(13, 7)))
    week = _score(w, order(start_at=china(16, 7)))
    far = _score(w, order(start_at=china(30, 7)))
    assert today > tomorrow > week > far
    assert today - tomorrow == pytest.approx(3.0)  # 15 × (1 − 0.8)


def test_wage_reliability_freshness_directions() -> None:
    w = worker()
    assert (
        _score(w, order(wage_fen=45000))
        > _score(w, order(wage_fen=35000))
        > _score(w, order(wage_fen=25000))
    )
    assert _score(w, order(wage_unit="piece", wage_fen=200)) < _score(w, order(wage_fen=35000))
    good = _score(w, order(employer_on_time_rate=1.0))
    unknown = _score(w, order(employer_on_time_rate=None))
    bad = _score(w, order(employer_on_time_rate=0.2))
    assert good > unknown > bad
    fresh = _score(w, order(created_at=NOW - timedelta(hours=1)))
    stale = _score(w, order(created_at=NOW - timedelta(days=3)))
    assert fresh > stale


def test_best_possible_score_is_at_most_100() -> None:
    o = order(wage_fen=60000, employer_on_time_rate=1.0, created_at=NOW)
    m = sc(worker(), o, first_look=timedelta(0))
    assert m is not None and m.score == 100.0


def test_cutoff_makes_nothing_good_possible() -> None:
    # entry-level same-category post, far away, in three weeks, below the median, poor payer
    w = worker(trades=("waiter",), towns=("湖源乡",))
    weak = order(
        trade_id="dishwasher",
        town="青州镇",
        wage_fen=10000,
        start_at=china(30, 7),
        employer_on_time_rate=0.3,
        created_at=NOW - timedelta(days=3),
    )
    assert sc(w, weak) is None
    m = sc(w, weak, cutoff=0)
    assert m is not None and m.score < CUTOFF


def test_priority_boost_and_first_look() -> None:
    o = order(created_at=NOW - timedelta(minutes=10))
    plain = worker(id=1)
    prio = worker(id=2, priority=True)
    assert sc(plain, o) is None  # inside the 30-minute first-look window
    m = sc(prio, o)
    assert m is not None
    m_open = sc(plain, o, first_look=timedelta(0))
    assert m_open is not None
    assert m.score == pytest.approx(m_open.score + PRIORITY_BOOST)
    assert first_look_until(o) == o.created_at + timedelta(minutes=30)
    assert sc(plain, order(created_at=NOW - timedelta(minutes=30))) is not None


def test_per_day_fen() -> None:
    assert per_day_fen(2500, "hour") == 20000
    assert per_day_fen(15000, "half_day") == 30000
    assert per_day_fen(180000, "week") == 30000
    assert per_day_fen(780000, "month") == 30000
    assert per_day_fen(100, "piece") is None
    assert per_day_fen(100, "total") is None


def test_match_ordering() -> None:
    a = Match(1, "A", 80.0, "", china(13, 7))
    b = Match(2, "B", 80.0, "", china(12, 18))
    c = Match(3, "C", 90.0, "", china(20, 7))
    d = Match(0, "D", 80.0, "", china(12, 18))
    assert sorted([a, b, c, d]) == [c, d, b, a]


def test_naive_datetimes_are_utc_and_lists_become_tuples() -> None:
    w = WorkerFacts(1, ["mason"], ["夏茂镇"], "any", 0, "day")  # type: ignore[arg-type]
    assert w.trades == ("mason",) and w.towns == ("夏茂镇",)
    created = NOW - timedelta(hours=1)
    naive = order(
        start_at=china(12, 13).replace(tzinfo=None), created_at=created.replace(tzinfo=None)
    )
    m1, m2 = sc(w, naive), sc(w, order(created_at=created))
    assert m1 is not None and m2 is not None and m1.score == m2.score
    assert hash(order()) == hash(order())  # requirements is left out of the hash
