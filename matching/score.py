"""How well an open order fits a worker (issue 6): hard filters, score, cutoff, one line of why.

``score(worker, order, now, tz)`` returns a :class:`Match` or ``None``. ``None`` means "do not
offer": a hard requirement fails or the score is below :data:`CUTOFF`, so "nothing good today" is
a normal answer. Pure functions, no I/O; :mod:`matching.digest` builds its fast index on the same
helpers, so the index and this function cannot disagree.

Hard requirements (checked before anything is offered)
    * trade fit is zero (see :func:`trade_fit`);
    * the wage is below the worker's minimum, both compared as a per-day equivalent (hour ×8,
      half day ×2, week ÷6, month ÷26); piece and total wages are incomparable: no wage filter;
    * the worker's age (when known) is outside ``age_min``/``age_max``; the worker's gender (when
      known) differs from a required ``gender``; a required certificate is not held (a B2/A1...
      licence covers the smaller ones; any licence covers a bare 驾照 requirement);
    * availability conflicts: weekdays-only vs a Saturday/Sunday start; weekends-only vs a
      weekday start or a weekly/monthly job; half-day-only vs day/week/month pay; evenings-only vs
      a start before 17:00 (after 04:00), all in China time;
    * the order has already started, or has no places left;
    * first look (第七条): for ``first_look`` after an order is created only priority workers see
      it; everybody else gets ``None`` until :func:`first_look_until`.

Score (points out of 100, kept as integer hundredths so sums are exact)
    trade 35 × fit + place 25 × {same town 1, neighbour 0.6, rest of county 0.25, whole-county
    worker 0.7} + start 15 × {today 1 (即时快招), tomorrow 0.8, 2–3 days 0.65, ≤7 days 0.5, later
    0.35} + wage 10 × (0.5 at the county median of the trade, 1 at +40 %, 0 at −40 %; piece/total
    0.3) + employer on-time-pay rate 10 × rate (unknown 0.7) + freshness 5 × 1/(1 + age/24 h);
    priority workers get +:data:`PRIORITY_BOOST`. Offered when ≥ :data:`CUTOFF` (55).

Only the trade and place parts (and the priority boost) depend on the worker; everything else is
a property of the order, which is what lets :class:`matching.digest.DigestIndex` pre-sort orders.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from functools import lru_cache
from typing import Any

from matching import texts
from matching.gazetteer import get_town, neighbours
from matching.taxonomy import load_taxonomy

__all__ = [
    "AVAILABILITIES",
    "CUTOFF",
    "FIRST_LOOK",
    "PRIORITY_BOOST",
    "WAGE_UNITS",
    "Match",
    "OrderFacts",
    "WorkerFacts",
    "first_look_until",
    "per_day_fen",
    "score",
    "trade_fit",
]

AVAILABILITIES = ("any", "weekdays", "weekends", "half_day", "evenings")
WAGE_UNITS = ("day", "half_day", "hour", "piece", "week", "month", "total")

# -- weights (points; the total of the weights is 100) ------------------------------------------
W_TRADE = 35
W_PLACE = 25
W_TIME = 15
W_WAGE = 10
W_RELIABILITY = 10
W_FRESH = 5
CUTOFF = 55.0
"""Minimum score offered. An exact trade anywhere in the county with an ordinary order passes;
a same-category fit only passes in the worker's own or a neighbouring town, or soon."""
PRIORITY_BOOST = 8.0
"""Added to every score of a priority (hard-to-employ) worker: more of their matches clear the
cutoff, and they come first in :func:`matching.digest.workers_for_order`."""
FIRST_LOOK = timedelta(minutes=30)
"""How long a new order is shown only to priority workers (第七条)."""

# -- trade fit -----------------------------------------------------------------------------------
FIT_EXACT = 1.0
FIT_HELPER_OF_CRAFT = 0.8  # a 小工 worker for a 泥水小工 post (order trade mason, level helper)
FIT_RELATED = 0.7  # curated neighbouring crafts (泥水工 ↔ 贴砖工)
FIT_SKILLED_AS_HELPER = 0.6  # any building tradesman for a 小工 post
FIT_SAME_CATEGORY = 0.5  # entry-level posts (no special skill) in the worker's own category

_BUILDING = frozenset({"construction", "decoration"})
# fmt: off
# Posts anyone in the category can do without a licence or a learnt craft.
OPEN_ENTRY = frozenset({
    "helper", "demolition", "cleaner", "hourly_help", "room_attendant", "kitchen_helper",
    "waiter", "dishwasher", "snack_shop", "tea_picker", "fruit_picker", "farm_hand", "tobacco",
    "mushroom", "landscaping", "loader", "sorter", "factory_worker", "shop_assistant",
    "promoter", "event_staff",
})
_RELATED_BOTH = (
    ("mason", "tiler"), ("mason", "rural_builder"), ("mason", "concrete"),
    ("tiler", "rural_builder"), ("rebar", "concrete"), ("formwork", "carpenter_deco"),
    ("formwork", "scaffolder"), ("welder", "steel_structure"), ("painter", "drywall"),
    ("painter", "waterproof"), ("electrician", "ac_install"), ("electrician", "handyman"),
    ("plumber", "handyman"), ("ac_install", "appliance_repair"), ("appliance_repair", "handyman"),
    ("cleaner", "hourly_help"), ("cleaner", "room_attendant"), ("hourly_help", "nanny"),
    ("nanny", "childcare"), ("nanny", "carer"), ("kitchen_helper", "dishwasher"),
    ("kitchen_helper", "snack_shop"), ("waiter", "snack_shop"), ("waiter", "room_attendant"),
    ("tea_picker", "fruit_picker"), ("loader", "sorter"), ("sorter", "warehouse"),
    ("courier", "delivery_rider"), ("factory_worker", "qc"), ("factory_worker", "wood_processing"),
    ("shop_assistant", "promoter"), ("promoter", "event_staff"), ("promoter", "salesperson"),
)
# worker trade → order trade, not the other way round (a cook can 帮厨; a 帮厨 is not a cook)
_RELATED_ONE_WAY = (
    ("cook", "kitchen_helper"), ("tea_processing", "tea_picker"), ("truck_driver", "chauffeur"),
    ("maternity_nurse", "childcare"), ("carpenter_deco", "window_install"),
)
# fmt: on
_RELATED: frozenset[tuple[str, str]] = frozenset(
    [*_RELATED_BOTH, *((b, a) for a, b in _RELATED_BOTH), *_RELATED_ONE_WAY]
)

# -- place ---------------------------------------------------------------------------------------
PLACE_SAME = 1.0
PLACE_NEIGHBOUR = 0.6
PLACE_WHOLE_COUNTY = 0.7  # the worker said 全县: no town is nearer than another
PLACE_FAR = 0.25  # elsewhere in the county, or the order names no town

# -- certificates: a licence covers the smaller classes ------------------------------------------
_LICENCE_COVERS = {
    "A1": ("A1", "A3", "B1", "B2", "C1", "C2", "C3", "C4"),
    "A2": ("A2", "B1", "B2", "C1", "C2", "C3", "C4"),
    "A3": ("A3", "C1", "C2", "C3", "C4"),
    "B1": ("B1", "C1", "C2", "C3", "C4"),
    "B2": ("B2", "C1", "C2", "C3", "C4"),
    "C1": ("C1", "C2", "C3", "C4"),
    "C2": ("C2",),
}
_SPECIAL_OPERATION = ("电工证", "焊工证", "高空作业证")  # 特种作业操作证 kinds

_SCALE = 100  # points are kept as integer hundredths
_DAY78 = {"day": 78, "half_day": 156, "hour": 624, "week": 13, "month": 3}
"""Per-day equivalents as exact integers: fen × factor = fen-per-day × 78 (78 = lcm(6, 26))."""


# ------------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class WorkerFacts:
    """What matching needs to know about a worker (built from storage ``WorkerProfile``).

    ``towns`` are full town names, ``()`` = the whole county. ``age``/``gender`` ``None`` =
    unknown (not checked). ``priority`` = flagged or computed hard-to-employ (第七条).
    """

    id: int
    trades: tuple[str, ...]
    towns: tuple[str, ...]
    availability: str
    min_wage_fen: int
    min_wage_unit: str
    age: int | None = None
    gender: str | None = None
    certificates: tuple[str, ...] = ()
    priority: bool = False

    def __post_init__(self) -> None:
        for name in ("trades", "towns", "certificates"):
            value = getattr(self, name)
            if not isinstance(value, tuple):
                object.__setattr__(self, name, tuple(value))


@dataclass(frozen=True, slots=True)
class OrderFacts:
    """What matching needs to know about an open order (built from storage ``Order``).

    ``requirements`` is ``Order.requirement_data``: ``age_min``, ``age_max``, ``gender``
    ("male"/"female"), ``certificates``; optional ``level`` ("skilled"/"helper", as parsed from
    大工/小工) and ``experience`` (True = 要经验) narrow the trade fit.
    ``employer_on_time_rate`` in [0, 1], ``None`` when the employer has no history.
    Datetimes are tz-aware (naive ones are read as UTC).
    """

    id: int
    code: str
    trade_id: str
    town: str
    wage_fen: int
    wage_unit: str
    start_at: datetime
    created_at: datetime
    requirements: Mapping[str, Any] = field(default_factory=dict, hash=False)
    employer_on_time_rate: float | None = None
    places_left: int = 1


@dataclass(frozen=True, slots=True)
class Match:
    """An order offered to a worker. Sorts best first: score descending, then earlier start,
    then order id (``sorted(matches)`` is the digest order)."""

    order_id: int
    code: str
    score: float
    explanation: str
    start_at: datetime | None = None

    def sort_key(self) -> tuple[float, float, int]:
        ts = self.start_at.timestamp() if self.start_at is not None else math.inf
        return (-self.score, ts, self.order_id)

    def __lt__(self, other: Match) -> bool:
        return self.sort_key() < other.sort_key()

    def __le__(self, other: Match) -> bool:
        return self.sort_key() <= other.sort_key()

    def __gt__(self, other: Match) -> bool:
        return self.sort_key() > other.sort_key()

    def __ge__(self, other: Match) -> bool:
        return self.sort_key() >= other.sort_key()


# ------------------------------------------------------------------------------------------------
def first_look_until(order: OrderFacts, window: timedelta = FIRST_LOOK) -> datetime:
    """Until when only priority workers are offered ``order``."""
    return _aware(order.created_at) + window


def per_day_fen(fen: int, unit: str) -> float | None:
    """A wage as fen per day (hour ×8, half day ×2, week ÷6, month ÷26); None for piece/total."""
    f = _DAY78.get(unit)
    return None if f is None else fen * f / 78


def trade_fit(
    worker_trades: Iterable[str],
    order_trade: str,
    level: str | None = None,
    experience: bool | None = None,
) -> float:
    """How well a worker's trades cover an order's trade, 0 (no fit) to 1 (same trade).

    * same trade: 1;
    * a 小工 worker for a helper-level building post ("泥水小工": trade mason, level helper): 0.8;
    * curated neighbouring crafts (泥水工↔贴砖工, 电工↔空调安装, 厨师→帮厨...): 0.7;
    * any building tradesman (construction/decoration) for a 小工 post, or anyone in the
      category for a helper-level post: 0.6;
    * an entry-level post (普工, 搬运, 服务员, 采茶, see ``OPEN_ENTRY``) in the worker's own
      taxonomy category: 0.5;
    * otherwise 0. A skilled-level (大工/师傅) or experience-required post takes only the same
      trade or a curated neighbour. Licensed/learnt trades (挖机, 电工, 厨师, 月嫂...) are never
      reached through their category alone.
    """
    cls = _level_class(level, experience)
    fits = _fits_of_trade
    return max((fits(w).get((order_trade, cls), 0.0) for w in set(worker_trades)), default=0.0)


def score(
    worker: WorkerFacts,
    order: OrderFacts,
    now: datetime,
    tz: tzinfo,
    *,
    cutoff: float = CUTOFF,
    priority_boost: float = PRIORITY_BOOST,
    first_look: timedelta = FIRST_LOOK,
) -> Match | None:
    """The match of ``order`` for ``worker`` at ``now``, or None (hard filter or below cutoff).

    ``tz`` is the local time zone (China time) for "today", weekdays and evening starts.
    ``first_look=timedelta(0)`` turns the priority-only window off.
    """
    now = _aware(now)
    rec = order_record(order, now, tz, first_look)
    if rec is None:
        return None
    wp = prep_worker(worker)
    if not passes(wp, rec, now.timestamp()):
        return None
    tpts = trade_points(wp.trades).get(rec.tk)
    if tpts is None:
        return None
    ppts, label = place(wp.towns, rec.town)
    total = tpts + ppts + rec.base + (points(priority_boost) if wp.priority else 0)
    if total < points(cutoff):
        return None
    return Match(rec.id, rec.code, total / _SCALE, label + rec.suffix, rec.start_at)


# -- shared building blocks (used by matching.digest) --------------------------------------------
def points(x: float) -> int:
    """Score points → integer hundredths."""
    return round(x * _SCALE)


@dataclass(slots=True, eq=False)
class OrderRecord:
    """The worker-independent part of an order: sort value, filters and explanation tail."""

    id: int
    code: str
    tk: tuple[str, str]  # (trade id, level class "" | "helper" | "strict")
    town: str
    base: int  # start + wage + employer + freshness points, in hundredths
    start_at: datetime
    start_ts: float
    suffix: str  # " · 泥水工 · 日结380 · 今天开工"
    wage78: int | None  # fen per day × 78; None for piece/total
    avail_ok: frozenset[str]  # worker availabilities this order suits
    req: tuple[int | None, int | None, str | None, tuple[str, ...]] | None
    first_look_ts: float  # priority workers only before this


@dataclass(slots=True, eq=False)
class WorkerPrep:
    """A worker reduced to what the filters need."""

    id: int
    trades: tuple[str, ...]  # sorted, unique
    towns: tuple[str, ...]  # sorted, unique; () = whole county
    min78: int | None
    availability: str
    age: int | None
    gender: str | None
    certs: frozenset[str]
    priority: bool


def min_wage78(worker: WorkerFacts) -> int | None:
    """The worker's minimum as exact fen-per-day × 78; None = no wage filter."""
    f = _DAY78.get(worker.min_wage_unit)
    return worker.min_wage_fen * f if f is not None and worker.min_wage_fen > 0 else None


def prep_worker(worker: WorkerFacts) -> WorkerPrep:
    min78 = min_wage78(worker)
    avail = worker.availability if worker.availability in AVAILABILITIES else "any"
    gender = worker.gender if worker.gender in ("male", "female") else None
    return WorkerPrep(
        id=worker.id,
        trades=tuple(sorted(set(worker.trades))),
        towns=canonical_towns(worker.towns),
        min78=min78,
        availability=avail,
        age=worker.age,
        gender=gender,
        certs=cert_closure(worker.certificates),
        priority=bool(worker.priority),
    )


def cert_closure(held: tuple[str, ...]) -> frozenset[str]:
    """Every certificate requirement that ``held`` satisfies."""
    return _cert_closure(tuple(sorted(set(held)))) if held else frozenset()


def passes(wp: WorkerPrep, rec: OrderRecord, now_ts: float) -> bool:
    """The worker-dependent hard filters except trade fit."""
    if wp.min78 is not None and rec.wage78 is not None and rec.wage78 < wp.min78:
        return False
    if wp.availability not in rec.avail_ok:
        return False
    if rec.req is not None and not req_ok(rec.req, wp.age, wp.gender, wp.certs):
        return False
    return wp.priority or rec.first_look_ts <= now_ts


def req_ok(
    req: tuple[int | None, int | None, str | None, tuple[str, ...]],
    age: int | None,
    gender: str | None,
    certs: frozenset[str],
) -> bool:
    """Age range (when the worker's age is known), gender (when known), every certificate."""
    age_min, age_max, want_gender, want_certs = req
    if age is not None and (
        (age_min is not None and age < age_min) or (age_max is not None and age > age_max)
    ):
        return False
    if want_gender is not None and gender is not None and want_gender != gender:
        return False
    return all(c in certs for c in want_certs)


def order_record(
    order: OrderFacts, now: datetime, tz: tzinfo, first_look: timedelta = FIRST_LOOK
) -> OrderRecord | None:
    """None when the order cannot be offered to anyone (started, full)."""
    start = _aware(order.start_at)
    if start <= now or order.places_left <= 0:
        return None
    req = order.requirements or {}
    level = req.get("level") if req.get("level") in ("skilled", "helper") else None
    experience = req.get("experience") is True
    local_start = start.astimezone(tz)
    days = (local_start.date() - now.astimezone(tz).date()).days
    unit = order.wage_unit
    created = _aware(order.created_at)
    base = (
        points(W_TIME * _time_value(days))
        + points(W_WAGE * _wage_value(order.trade_id, order.wage_fen, unit))
        + points(W_RELIABILITY * _reliability_value(order.employer_on_time_rate))
        + points(W_FRESH * _fresh_value((now - created).total_seconds() / 3600))
    )
    f = _DAY78.get(unit)
    return OrderRecord(
        id=order.id,
        code=order.code,
        tk=(order.trade_id, _level_class(level, experience)),
        town=canonical_town(order.town),
        base=base,
        start_at=start,
        start_ts=start.timestamp(),
        suffix=_suffix(order.trade_id, level, order.wage_fen, unit, days, local_start),
        wage78=order.wage_fen * f if f is not None else None,
        avail_ok=_avail_ok(local_start, unit),
        req=_requirements(req),
        first_look_ts=(created + first_look).timestamp(),
    )


@lru_cache(maxsize=65536)
def trade_points(trades: tuple[str, ...]) -> dict[tuple[str, str], int]:
    """Trade points per order trade key ``(trade_id, level class)`` that fits at all."""
    out: dict[tuple[str, str], float] = {}
    for w in trades:
        for tk, fit in _fits_of_trade(w).items():
            if fit > out.get(tk, 0.0):
                out[tk] = fit
    return {tk: points(W_TRADE * fit) for tk, fit in out.items()}


@lru_cache(maxsize=4096)
def canonical_town(town: str) -> str:
    """The full name of a 沙县 town (夏茂 → 夏茂镇); other text unchanged, None → ""."""
    if not town:
        return ""
    t = get_town(town)
    return t.name if t is not None else town


@lru_cache(maxsize=65536)
def canonical_towns(towns: tuple[str, ...]) -> tuple[str, ...]:
    """A worker's towns as sorted unique full names; ``()`` stays the whole county."""
    return tuple(sorted({canonical_town(t) for t in towns if t}))


@lru_cache(maxsize=65536)
def place(towns: tuple[str, ...], town: str) -> tuple[int, str]:
    """(points, label) of an order in ``town`` for a worker who wants ``towns`` (sorted)."""
    t = get_town(town) if town else None
    if t is None:
        return points(W_PLACE * PLACE_FAR), texts.MATCH_TOWN_UNKNOWN
    short = t.short_names[0] if t.short_names else t.name
    if not towns:
        return points(W_PLACE * PLACE_WHOLE_COUNTY), texts.MATCH_IN_TOWN.format(town=short)
    if t.name in towns:
        label = (
            texts.MATCH_SAME_TOWN if len(towns) == 1 else texts.MATCH_IN_TOWN.format(town=short)
        )
        return points(W_PLACE * PLACE_SAME), label
    if any(t.name in _neighbour_set(w) for w in towns):
        return points(W_PLACE * PLACE_NEIGHBOUR), texts.MATCH_NEIGHBOUR_TOWN.format(town=short)
    return points(W_PLACE * PLACE_FAR), texts.MATCH_FAR_TOWN.format(town=short)


# -- internals -----------------------------------------------------------------------------------
def _aware(dt: datetime) -> datetime:
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt


def _level_class(level: str | None, experience: bool | None) -> str:
    if level == "skilled" or experience is True:
        return "strict"
    return "helper" if level == "helper" else ""


@lru_cache(maxsize=4096)
def _fits_of_trade(worker_trade: str) -> dict[tuple[str, str], float]:
    """Every order trade key ``(trade_id, class)`` a worker with one trade fits, and how well."""
    tax = load_taxonomy()
    me = tax.get(worker_trade)
    my_cat = me.category if me is not None else None
    out: dict[tuple[str, str], float] = {}
    ids = {t.id for t in tax.all()} | {worker_trade}
    for oid in ids:
        other = tax.get(oid)
        cat = other.category if other is not None else None
        for cls in ("", "helper", "strict"):
            fit = 0.0
            if oid == worker_trade:
                fit = FIT_EXACT
            elif (worker_trade, oid) in _RELATED:
                fit = FIT_RELATED
            elif cls == "helper":
                if worker_trade == "helper" and cat in _BUILDING:
                    fit = FIT_HELPER_OF_CRAFT
                elif my_cat is not None and (
                    my_cat == cat or (my_cat in _BUILDING and cat in _BUILDING)
                ):
                    fit = FIT_SKILLED_AS_HELPER
            elif cls == "":
                if oid == "helper" and my_cat in _BUILDING:
                    fit = FIT_SKILLED_AS_HELPER
                elif oid in OPEN_ENTRY and my_cat is not None and my_cat == cat:
                    fit = FIT_SAME_CATEGORY
            if fit > 0:
                out[(oid, cls)] = fit
    return out


@lru_cache(maxsize=64)
def _neighbour_set(town: str) -> frozenset[str]:
    return frozenset(neighbours(town))


def _time_value(days: int) -> float:
    if days <= 0:
        return 1.0  # 即时快招: starts today
    if days == 1:
        return 0.8
    if days <= 3:
        return 0.65
    if days <= 7:
        return 0.5
    return 0.35


def _wage_value(trade_id: str, fen: int, unit: str) -> float:
    """0.5 at the trade's county median, ±0.125 per 10 % above/below; 0.3 when incomparable."""
    if unit not in _DAY78:
        return 0.3
    t = load_taxonomy().get(trade_id)
    if t is None:
        return 0.5
    yuan = fen / 100
    if unit == "hour" and t.median_hour_wage:
        ratio = yuan / t.median_hour_wage
    elif unit == "month" and t.median_month_wage:
        ratio = yuan / t.median_month_wage
    elif t.median_day_wage:
        ratio = yuan * _DAY78[unit] / 78 / t.median_day_wage
    else:
        return 0.5
    return min(1.0, max(0.0, 0.5 + (ratio - 1.0) * 1.25))


def _reliability_value(rate: float | None) -> float:
    if rate is None or not isinstance(rate, (int, float)) or math.isnan(rate):
        return 0.7
    return min(1.0, max(0.0, float(rate)))


def _fresh_value(age_hours: float) -> float:
    return 1.0 / (1.0 + max(0.0, age_hours) / 24.0)


def _avail_ok(local_start: datetime, unit: str) -> frozenset[str]:
    ok = {"any"}
    weekend = local_start.weekday() >= 5
    long_job = unit in ("week", "month")
    if not weekend:
        ok.add("weekdays")
    if weekend and not long_job:
        ok.add("weekends")
    if unit not in ("day", "week", "month"):
        ok.add("half_day")
    if local_start.hour >= 17 or local_start.hour < 4:
        ok.add("evenings")
    return frozenset(ok)


def _requirements(
    req: Mapping[str, Any],
) -> tuple[int | None, int | None, str | None, tuple[str, ...]] | None:
    def as_int(v: object) -> int | None:
        return int(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None

    age_min, age_max = as_int(req.get("age_min")), as_int(req.get("age_max"))
    gender = req.get("gender") if req.get("gender") in ("male", "female") else None
    raw = req.get("certificates") or ()
    certs = tuple(sorted({str(c) for c in raw})) if isinstance(raw, (list, tuple, set)) else ()
    if age_min is None and age_max is None and gender is None and not certs:
        return None
    return (age_min, age_max, gender, certs)


@lru_cache(maxsize=4096)
def _cert_closure(held: tuple[str, ...]) -> frozenset[str]:
    """Every requirement the held certificates satisfy (C1驾照 by a B2驾照, 驾照 by any)."""
    out = set(held)
    for h in held:
        if h.endswith("驾照"):
            out.add("驾照")
            for c in _LICENCE_COVERS.get(h[: -len("驾照")].upper(), ()):
                out.add(f"{c}驾照")
        if h in _SPECIAL_OPERATION:
            out.add("特种作业证")
    return frozenset(out)


def _yuan(fen: int) -> str:
    whole, part = divmod(abs(fen), 100)
    sign = "-" if fen < 0 else ""
    return f"{sign}{whole}" if part == 0 else f"{sign}{whole}.{part:02d}".rstrip("0")


def _suffix(
    trade_id: str, level: str | None, fen: int, unit: str, days: int, local_start: datetime
) -> str:
    t = load_taxonomy().get(trade_id)
    name = t.name if t is not None else trade_id
    if level in texts.MATCH_TRADE_LEVEL and trade_id != "helper":
        name = texts.MATCH_TRADE_LEVEL[level].format(name=name)
    parts = ["", name]
    wage_tpl = texts.MATCH_WAGE.get(unit)
    if wage_tpl is not None and fen > 0:
        parts.append(wage_tpl.format(yuan=_yuan(fen)))
    if days <= 0:
        parts.append(texts.MATCH_START_TODAY)
    elif days == 1:
        parts.append(texts.MATCH_START_TOMORROW)
    else:
        parts.append(texts.MATCH_START_ON.format(month=local_start.month, day=local_start.day))
    return texts.MATCH_SEP.join(parts)
