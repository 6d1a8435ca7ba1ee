"""Benchmark of personal digests (issue 6): 100,000 workers × 10,000 open orders, one core.

    python bench/bench_digest.py [--workers 100000] [--orders 10000] [--sample 200] [--check 40]
                                 [--seed 6] [--no-tracemalloc]

Generates a seeded, realistic population (trades from the taxonomy weighted by how common they
are in the county, towns from the gazetteer weighted by population, wages around the county
medians, a share of requirements, priority workers and hourly/piece/monthly pay), builds a
``DigestIndex`` and computes the top 5 for every worker, pinned to one CPU.

In the same process it runs a naive all-pairs baseline on ``--sample`` workers: for every order,
rapidfuzz ``fuzz.ratio`` between the worker's trade names and the order's trade name (≥ 60 counts
as a fit) plus the same filters and place/base scoring (order records precomputed, which favours
the baseline), keeping the best 5; its per-worker cost is extrapolated to all workers and the
speed ratio printed. It also checks that the index agrees with brute-force ``score()`` on
``--check`` of the sampled workers. Timings are wall clock (and CPU) of building the index plus
``top_many`` for every worker. Peak memory: the process's peak RSS, and (unless
--no-tracemalloc) the peak Python allocation of a second, untimed build + digest pass under
tracemalloc. Not run by tests.
"""

from __future__ import annotations

import argparse
import gc
import heapq
import os
import random
import resource
import sys
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from rapidfuzz import fuzz

from matching.digest import DigestIndex
from matching.gazetteer import neighbours, towns
from matching.score import (
    OrderFacts,
    WorkerFacts,
    order_record,
    passes,
    place,
    prep_worker,
    score,
)
from matching.taxonomy import load_taxonomy
from matching.timeparse import CHINA_TZ

NOW = datetime(2025, 5, 12, 22, 30, tzinfo=UTC)  # Tuesday 06:30 China time: digest hour
TOWN_WEIGHT = {
    "凤岗街道": 5.0,
    "虬江街道": 3.0,
    "夏茂镇": 2.0,
    "高砂镇": 1.5,
    "青州镇": 1.2,
    "高桥镇": 1.0,
    "富口镇": 1.0,
    "大洛镇": 0.6,
    "南霞乡": 0.5,
    "南阳乡": 0.6,
    "郑湖乡": 0.5,
    "湖源乡": 0.4,
}
TRADE_WEIGHT = {
    "helper": 12,
    "mason": 6,
    "cleaner": 6,
    "tea_picker": 5,
    "factory_worker": 5,
    "loader": 5,
    "waiter": 4,
    "kitchen_helper": 3,
    "carpenter_deco": 3,
    "painter": 3,
    "electrician": 3,
    "plumber": 2,
    "rebar": 2,
    "concrete": 2,
    "formwork": 2,
    "tiler": 3,
    "hourly_help": 3,
    "nanny": 2,
    "carer": 2,
    "farm_hand": 3,
    "mushroom": 2,
    "dishwasher": 2,
    "snack_shop": 3,
    "delivery_rider": 2,
    "security": 2,
    "event_staff": 2,
}
UNITS = (
    ("day", 62),
    ("hour", 15),
    ("half_day", 5),
    ("piece", 7),
    ("total", 4),
    ("month", 5),
    ("week", 2),
)
AVAIL = (("any", 60), ("weekdays", 10), ("weekends", 10), ("half_day", 10), ("evenings", 10))
CERTS = ("健康证", "电工证", "焊工证", "叉车证", "C1驾照", "B2驾照", "护理证")


def _pick(rng: random.Random, pairs: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([p[0] for p in pairs], weights=[p[1] for p in pairs])[0]


def make_population(n_workers: int, n_orders: int, seed: int):
    rng = random.Random(seed)
    tax = load_taxonomy()
    trades = [t for t in tax.all() if t.median_day_wage]
    tw = [TRADE_WEIGHT.get(t.id, 1) for t in trades]
    town_names = [t.name for t in towns()]
    townw = [TOWN_WEIGHT.get(t, 1.0) for t in town_names]

    orders: list[OrderFacts] = []
    for oid in range(1, n_orders + 1):
        t = rng.choices(trades, weights=tw)[0]
        unit = _pick(rng, UNITS)
        day = (t.median_day_wage or 200) * rng.uniform(0.8, 1.3)
        wage_yuan = {
            "day": day,
            "half_day": day / 2,
            "piece": rng.uniform(1, 20),
            "total": day * 5,
            "hour": (t.median_hour_wage or day / 8) * rng.uniform(0.85, 1.25),
            "month": (t.median_month_wage or day * 26) * rng.uniform(0.85, 1.2),
            "week": day * 6,
        }[unit]
        fen = round(wage_yuan) * 100 if unit not in ("piece", "hour") else int(wage_yuan * 10) * 10
        r = rng.random()
        if r < 0.25:  # 即时快招: later today
            start = NOW + timedelta(hours=rng.uniform(0.5, 10))
        elif r < 0.27:  # already started
            start = NOW - timedelta(hours=rng.uniform(0.1, 5))
        else:
            d = rng.randint(1, 14)
            start = (NOW + timedelta(days=d)).replace(hour=rng.choice((23, 0, 1, 5, 10)), minute=0)
        created = NOW - timedelta(minutes=rng.uniform(0, 72 * 60))
        req: dict[str, object] = {}
        if rng.random() < 0.35:
            lo = rng.choice((None, 18, 20, 25))
            hi = rng.choice((None, 45, 50, 55, 60, 65))
            req["age_min"], req["age_max"] = lo, hi
        if rng.random() < 0.2:
            req["gender"] = rng.choice(("male", "female"))
        if rng.random() < 0.05:
            req["certificates"] = [rng.choice(CERTS)]
        if rng.random() < 0.08:
            req["level"] = rng.choice(("skilled", "helper"))
        if rng.random() < 0.05:
            req["experience"] = True
        town = rng.choices(town_names, weights=townw)[0] if rng.random() > 0.03 else ""
        rate = None if rng.random() < 0.4 else round(rng.uniform(0.5, 1.0), 2)
        places = 0 if rng.random() < 0.02 else rng.randint(1, 5)
        orders.append(
            OrderFacts(oid, f"{oid:05d}", t.id, town, fen, unit, start, created, req, rate, places)
        )

    workers: list[WorkerFacts] = []
    for wid in range(1, n_workers + 1):
        k = rng.choices((1, 2, 3), weights=(50, 35, 15))[0]
        wtrades: list[str] = []
        while len(wtrades) < k:
            t = rng.choices(trades, weights=tw)[0]
            if t.id not in wtrades:
                wtrades.append(t.id)
        r = rng.random()
        if r < 0.25:
            wtowns: tuple[str, ...] = ()
        else:
            home = rng.choices(town_names, weights=townw)[0]
            wtowns = (home,)
            if r > 0.8:
                wtowns = (home, rng.choice(neighbours(home)))
        main = load_taxonomy().get(wtrades[0])
        assert main is not None and main.median_day_wage is not None
        if rng.random() < 0.3:
            min_fen, min_unit = 0, "day"
        elif rng.random() < 0.1:
            min_fen, min_unit = (
                int((main.median_hour_wage or main.median_day_wage / 8) * 0.8) * 100,
                "hour",
            )
        else:
            min_fen, min_unit = (
                int(main.median_day_wage * rng.uniform(0.7, 1.0) / 10) * 1000,
                "day",
            )
        workers.append(
            WorkerFacts(
                wid,
                tuple(wtrades),
                wtowns,
                _pick(rng, AVAIL),
                min_fen,
                min_unit,
                age=rng.randint(18, 70) if rng.random() < 0.7 else None,
                gender=rng.choice(("male", "female")) if rng.random() < 0.8 else None,
                certificates=(rng.choice(CERTS),) if rng.random() < 0.1 else (),
                priority=rng.random() < 0.1,
            )
        )
    return workers, orders


def run_index(workers, orders):
    idx = DigestIndex(orders, NOW, CHINA_TZ)
    t_built = time.perf_counter()
    results = idx.top_many(workers, 5)
    return idx, results, t_built


def naive_top(worker: WorkerFacts, recs, tax) -> list[tuple[int, int]]:
    """All pairs with rapidfuzz on trade names, the same filters; best 5 as (points, order id)."""
    names = [tax.get(t).name for t in worker.trades if tax.get(t)]
    wp = prep_worker(worker)
    now_ts = NOW.timestamp()
    best: list[tuple[int, float, int]] = []
    for rec, oname in recs:
        sim = max((fuzz.ratio(nm, oname) for nm in names), default=0.0)
        if sim < 60 or not passes(wp, rec, now_ts):
            continue
        ppts, _label = place(wp.towns, rec.town)
        total = round(35 * sim) + ppts + rec.base + (800 if wp.priority else 0)
        if total < 5500:
            continue
        item = (total, -rec.start_ts, -rec.id)
        if len(best) < 5:
            heapq.heappush(best, item)
        elif item > best[0]:
            heapq.heapreplace(best, item)
    return [(t, -i) for t, _s, i in sorted(best, reverse=True)]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--workers", type=int, default=100_000)
    ap.add_argument("--orders", type=int, default=10_000)
    ap.add_argument("--sample", type=int, default=200)
    ap.add_argument("--check", type=int, default=40, help="workers checked against brute force")
    ap.add_argument("--seed", type=int, default=6)
    ap.add_argument("--no-tracemalloc", action="store_true")
    args = ap.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else "?"

    t = time.perf_counter()
    workers, orders = make_population(args.workers, args.orders, args.seed)
    print(
        f"population: {len(workers):,} workers × {len(orders):,} orders "
        f"(generated in {time.perf_counter() - t:.1f} s, seed {args.seed}, cpus {cpus})"
    )
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    gc.collect()
    t0, c0 = time.perf_counter(), time.process_time()
    idx, results, t_built = run_index(workers, orders)
    t1, c1 = time.perf_counter(), time.process_time()
    elapsed = t1 - t0
    rss1 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    empty = sum(1 for r in results if not r)
    full = sum(1 for r in results if len(r) == 5)
    shapes = idx._shapes.values()
    print(
        f"index: {len(idx):,} offerable orders, built in {t_built - t0:.3f} s; "
        f"{len(shapes):,} shared (trade, towns, availability) lists holding "
        f"{sum(len(s.items) for s in shapes):,} candidates"
    )
    print(
        f"digests: top-5 for {len(workers):,} workers in {elapsed:.3f} s wall, "
        f"{c1 - c0:.3f} s CPU (build + queries) = {len(workers) / elapsed:,.0f} workers/s"
    )
    print(f"  {full:,} workers got 5 matches, {empty:,} got none (below cutoff or filtered)")
    print(f"peak RSS: {rss1 / 1024:.0f} MiB (before index: {rss0 / 1024:.0f} MiB)")

    # naive all-pairs baseline on a sample, same process
    tax = load_taxonomy()
    rng = random.Random(args.seed + 1)
    sample = rng.sample(workers, min(args.sample, len(workers)))
    recs = []
    for o in orders:
        rec = order_record(o, NOW, CHINA_TZ)
        if rec is not None:
            t_ = tax.get(o.trade_id)
            recs.append((rec, t_.name if t_ else o.trade_id))
    tb = time.perf_counter()
    for w in sample:
        naive_top(w, recs, tax)
    per_worker = (time.perf_counter() - tb) / len(sample)
    naive_total = per_worker * len(workers)
    print(
        f"naive all-pairs rapidfuzz baseline: {per_worker * 1000:.1f} ms/worker on {len(sample)} "
        f"workers → {naive_total:,.0f} s extrapolated for {len(workers):,}"
    )
    print(
        f"speed ratio: {naive_total / elapsed:,.0f}× (target ≥ 70×; target ≤ 5 s: "
        f"{'met' if elapsed <= 5 else 'NOT met'})"
    )

    # agreement with brute-force score() on the sample
    by_id = {w.id: r for w, r in zip(workers, results, strict=True)}
    agree = 0
    check = sample[: args.check]
    for w in check:
        brute = sorted(m for o in orders if (m := score(w, o, NOW, CHINA_TZ)) is not None)[:5]
        agree += brute == by_id[w.id]
    print(f"index == brute-force score() + sort: {agree}/{len(check)} sampled workers")

    if not args.no_tracemalloc:
        del idx, results
        gc.collect()
        tracemalloc.start()
        idx2, res2, _ = run_index(workers, orders)
        _cur, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        print(f"tracemalloc peak of build + digests (untimed pass): {peak / 2**20:.1f} MiB")
        del idx2, res2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
