"""Personal digests fast (issue 6): the best few open orders for each of many workers.

``DigestIndex(orders, now, tz).top(worker, n)`` returns exactly what scoring every order with
:func:`matching.score.score` and taking the best ``n`` returns (same matches, same order), but a
worker only touches a handful of candidates.

How
    A score is ``trade(worker trades, order trade key) + place(worker towns, order town) +
    base(order)`` (+ the priority boost), all exact integer hundredths; ``base`` (start, wage,
    employer, freshness) does not depend on the worker, and the order's availability
    compatibility does not either.

    * Buckets: orders by (trade key, availability the order accepts, town), each sorted by
      ``(-base, start, id)``, which is the digest order inside a bucket for every worker.
    * Shapes: for one worker trade, town set and availability, a lazily materialised list of the
      buckets of every order trade key that trade fits, merged with ``trade + place`` points as
      offsets and cut at the (priority) cutoff. A trade key's buckets join the merge only when a
      lower bound of its best order could be next ("threshold" activation), so the many weak
      partial fits cost nothing while strong ones remain. Every worker of that shape shares the
      list, read as far as the most demanding of them needed.
    * A worker with several trades merges the shapes of their trades (an order's first
      appearance carries its best fit); then wage, age/gender/certificate, first-look and
      ``exclude`` filters are applied in order until ``n`` are kept.

    One exact integer per candidate encodes ``(-points, start, order id)`` (see
    :class:`DigestIndex`), so ties come out exactly as in the brute force. Order ids must be
    unique. ``now`` is fixed when the index is built.

Also here: :meth:`DigestIndex.top_many` (batch, with the cyclic GC paused), :func:`rotate`
(fairness among equally fitting workers), :func:`workers_for_order` (point-to-point list for a
new order, priority workers first) and :func:`first_look_until`.
"""

from __future__ import annotations

import gc
import heapq
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta, tzinfo
from operator import itemgetter

from matching.score import (
    AVAILABILITIES,
    CUTOFF,
    FIRST_LOOK,
    PLACE_FAR,
    PLACE_NEIGHBOUR,
    PLACE_SAME,
    PLACE_WHOLE_COUNTY,
    PRIORITY_BOOST,
    W_PLACE,
    Match,
    OrderFacts,
    OrderRecord,
    WorkerFacts,
    _aware,
    canonical_towns,
    cert_closure,
    first_look_until,
    min_wage78,
    order_record,
    passes,
    place,
    points,
    prep_worker,
    req_ok,
    trade_points,
)

__all__ = [
    "ROTATE_EPSILON",
    "DigestIndex",
    "first_look_until",
    "rotate",
    "workers_for_order",
]

ROTATE_EPSILON = 1.0
"""Scores within this many points of the best in their band count as equally fitting."""

_SAME = points(W_PLACE * PLACE_SAME)
_NEAR = points(W_PLACE * PLACE_NEIGHBOUR)  # the most any town outside the worker's own gives
_COUNTY = points(W_PLACE * PLACE_WHOLE_COUNTY)  # the most any town gives a whole-county worker
assert _SAME >= _COUNTY >= _NEAR >= points(W_PLACE * PLACE_FAR)

_Entry = tuple[int, OrderRecord]  # (sort key, record): see DigestIndex
_Bucket = list[_Entry]
_BKey = tuple[tuple[str, str], str]  # ((trade id, level class), availability)


class _Shape:
    """The merged candidate list of one (worker trade, town set, availability); see the module
    docstring. Items are lists ``[sort key, record, place label, Match or None]``; the Match
    (without the priority boost) is built the first time a worker keeps it, then shared."""

    __slots__ = ("buckets", "cut", "heap", "items", "pending", "r", "srcs", "towns")

    def __init__(
        self,
        buckets: Mapping[_BKey, dict[str, _Bucket]],
        towns: tuple[str, ...],
        pending: list[tuple[int, _BKey, int]],
        cut: int,
        r: int,
    ) -> None:
        self.buckets = buckets
        self.towns = towns
        self.cut = cut  # keys below this clear the (priority) cutoff
        self.r = r
        self.items: list[list] = []
        self.heap: list[tuple[int, int, int]] = []  # (key, source, position)
        self.srcs: list[tuple[_Bucket, int, str]] = []  # (bucket, key offset, place label)
        # (lower bound of the key, bucket key, trade points), best bound last for pop()
        pending.sort(reverse=True)
        self.pending = pending

    def fill(self, upto: int) -> None:
        """Materialise items until there are ``upto`` of them or nothing is left."""
        items, heap, srcs, pending, cut = self.items, self.heap, self.srcs, self.pending, self.cut
        push, replace, pop = heapq.heappush, heapq.heapreplace, heapq.heappop
        while len(items) < upto:
            while pending and (not heap or pending[-1][0] <= heap[0][0]):
                _bound, bkey, tpts = pending.pop()
                r, towns = self.r, self.towns
                for town, bucket in self.buckets[bkey].items():
                    ppts, label = place(towns, town)
                    adj = -(ppts + tpts) * r
                    k = bucket[0][0] + adj
                    if k < cut:
                        push(heap, (k, len(srcs), 0))
                        srcs.append((bucket, adj, label))
            if not heap:
                return
            k, si, pos = heap[0]
            bucket, adj, label = srcs[si]
            items.append([k, bucket[pos][1], label, None])
            pos += 1
            if pos < len(bucket):
                k = bucket[pos][0] + adj
                if k < cut:
                    replace(heap, (k, si, pos))
                    continue
            pop(heap)


class DigestIndex:
    """All open orders, pre-sorted once, for fast per-worker top-n (see the module docstring).

    ``now`` and ``tz`` are fixed at build time, as are ``cutoff``, ``priority_boost`` and
    ``first_look`` (same meaning as in :func:`matching.score.score`). ``step`` is how many
    candidates a shared list materialises ahead at a time. Build one per digest run; the shared
    lists grow as workers read them, so one index must not be used from two threads at once.

    Internally one integer sort key stands for ``(-points, start, order id)``:
    ``key = -points × R + rank`` where ``rank`` is the order's place in (start, id) order and
    ``R`` the number of orders, so adding a worker's points is ``key - points × R`` and every
    comparison is one integer comparison.
    """

    def __init__(
        self,
        orders: Sequence[OrderFacts],
        now: datetime,
        tz: tzinfo,
        *,
        cutoff: float = CUTOFF,
        priority_boost: float = PRIORITY_BOOST,
        first_look: timedelta = FIRST_LOOK,
        step: int = 8,
    ) -> None:
        self.now = _aware(now)
        self.tz = tz
        self._now_ts = self.now.timestamp()
        self._cutoff = points(cutoff)
        self._boost = points(priority_boost)
        self._step = max(1, int(step))
        recs: list[OrderRecord] = []
        seen: set[int] = set()
        for o in orders:
            if o.id in seen:
                raise ValueError(f"duplicate order id {o.id}")
            seen.add(o.id)
            rec = order_record(o, self.now, tz, first_look)
            if rec is not None:
                recs.append(rec)
        recs.sort(key=_by_start)
        self._r = r = max(1, len(recs))
        buckets: dict[_BKey, dict[str, _Bucket]] = {}
        for rank, rec in enumerate(recs):
            entry = (-rec.base * r + rank, rec)
            for avail in rec.avail_ok:
                buckets.setdefault((rec.tk, avail), {}).setdefault(rec.town, []).append(entry)
        self._best: dict[_BKey, int] = {}
        for bkey, by_town in buckets.items():
            for bucket in by_town.values():
                bucket.sort(key=_first)
            self._best[bkey] = min(bucket[0][0] for bucket in by_town.values())
        self._buckets = buckets
        self._shapes: dict[tuple[str, tuple[str, ...], str], _Shape] = {}
        self.size = len(recs)
        """Orders that can be offered to someone (not started, places left)."""

    def __len__(self) -> int:
        return self.size

    # ------------------------------------------------------------------------------------------
    def top(
        self, worker: WorkerFacts, n: int = 5, *, exclude: Iterable[int] = frozenset()
    ) -> list[Match]:
        """The best ``n`` matches for ``worker`` (best first), ``[]`` when nothing clears the
        cutoff. ``exclude``: order ids not to offer again (already offered, taken, declined)."""
        if n <= 0:
            return []
        towns = canonical_towns(worker.towns)
        trades = worker.trades
        avail = worker.availability if worker.availability in AVAILABILITIES else "any"
        shapes_d = self._shapes
        if exclude and not isinstance(exclude, (set, frozenset)):
            exclude = set(exclude)
        priority = bool(worker.priority)
        boost = self._boost if priority else 0
        r = self._r
        wcut = (boost - self._cutoff + 1) * r  # keys from here on are below the cutoff
        min78 = min_wage78(worker)
        age = worker.age
        gender = worker.gender if worker.gender in ("male", "female") else None
        certs = cert_closure(worker.certificates) if worker.certificates else _NO_CERTS
        now_ts = self._now_ts
        out: list[Match] = []

        if len(trades) == 1:  # one trade: read the shared list in order
            key = (trades[0], towns, avail)
            sh = shapes_d.get(key) or self._shape(key)
            items = sh.items
            step = self._step
            i = 0
            while True:
                if i >= len(items):
                    sh.fill(i + step)
                    if i >= len(items):
                        break
                it = items[i]
                i += 1
                if it[0] >= wcut:
                    break
                rec = it[1]
                if (
                    (exclude and rec.id in exclude)
                    or (min78 is not None and rec.wage78 is not None and rec.wage78 < min78)
                    or (rec.req is not None and not req_ok(rec.req, age, gender, certs))
                    or (not priority and rec.first_look_ts > now_ts)
                ):
                    continue
                m = it[3]
                out.append(m if m is not None and not boost else _match(it, boost, r))
                if len(out) >= n:
                    break
            return out

        # several trades: sort the heads of their lists together (an order's first appearance
        # carries its best fit). Only candidates before every list's first unread item are in
        # their final order, so read that far, and widen the heads when it was not enough.
        shapes = [
            shapes_d.get(key) or self._shape(key)
            for key in [(t, towns, avail) for t in sorted(set(trades))]
        ]
        size = n + 3
        while True:
            cand: list[list] = []
            frontier = wcut
            for sh in shapes:
                its = sh.items
                if len(its) <= size:
                    sh.fill(size + 1)
                if len(its) > size:
                    cand += its[:size]
                    if its[size][0] < frontier:
                        frontier = its[size][0]
                else:
                    cand += its
            cand.sort(key=_first)
            seen: set[int] = set()
            out = []
            for it in cand:
                if it[0] >= frontier:
                    break
                rec = it[1]
                oid = rec.id
                if oid in seen:
                    continue
                seen.add(oid)
                if (
                    (exclude and oid in exclude)
                    or (min78 is not None and rec.wage78 is not None and rec.wage78 < min78)
                    or (rec.req is not None and not req_ok(rec.req, age, gender, certs))
                    or (not priority and rec.first_look_ts > now_ts)
                ):
                    continue
                m = it[3]
                out.append(m if m is not None and not boost else _match(it, boost, r))
                if len(out) >= n:
                    return out
            if frontier >= wcut:  # everything above the cutoff was read
                return out
            size *= 4

    def top_many(
        self,
        workers: Iterable[WorkerFacts],
        n: int = 5,
        *,
        exclude: Mapping[int, Iterable[int]] | None = None,
    ) -> list[list[Match]]:
        """``[self.top(w, n, exclude=exclude.get(w.id)) for w in workers]``, for the daily job.

        The cyclic garbage collector is paused meanwhile (and restored after): the shared lists
        are many small long-lived containers without cycles, and repeated full collections over
        them would otherwise cost about as much as the digests themselves.
        """
        was_enabled = gc.isenabled()
        gc.disable()
        try:
            top = self.top
            if not exclude:
                return [top(w, n) for w in workers]
            empty: frozenset[int] = frozenset()
            return [top(w, n, exclude=exclude.get(w.id) or empty) for w in workers]
        finally:
            if was_enabled:
                gc.enable()

    def _shape(self, key: tuple[str, tuple[str, ...], str]) -> _Shape:
        trade, towns, avail = key
        best, buckets, r = self._best, self._buckets, self._r
        pending: list[tuple[int, _BKey, int]] = []
        for tk, tpts in trade_points((trade,)).items():
            bkey = (tk, avail)
            b = best.get(bkey)
            if b is None:
                continue
            # a lower bound of the key of the best order of the trade key for these towns
            if towns:
                by_town = buckets[bkey]
                bound = b - (_NEAR + tpts) * r
                for t in towns:
                    if t in by_town:
                        bound = min(bound, by_town[t][0][0] - (_SAME + tpts) * r)
            else:
                bound = b - (_COUNTY + tpts) * r
            pending.append((bound, bkey, tpts))
        # the shared list runs down to the priority workers' cutoff; others stop earlier
        cut = (max(0, self._boost) - self._cutoff + 1) * r
        shape = self._shapes[key] = _Shape(buckets, towns, pending, cut, r)
        return shape


_first = itemgetter(0)
_NO_CERTS: frozenset[str] = frozenset()


def _by_start(rec: OrderRecord) -> tuple[float, int]:
    return (rec.start_ts, rec.id)


def _match(it: list, boost: int, r: int) -> Match:
    rec = it[1]
    if boost:
        return Match(
            rec.id, rec.code, (boost - it[0] // r) / 100, it[2] + rec.suffix, rec.start_at
        )
    m = it[3]
    if m is None:
        m = it[3] = Match(rec.id, rec.code, -(it[0] // r) / 100, it[2] + rec.suffix, rec.start_at)
    return m


# -- fairness ------------------------------------------------------------------------------------
def rotate(
    workers_scores: Sequence[tuple[int, float]],
    last_offered: Mapping[int, datetime],
    n: int,
    *,
    epsilon: float = ROTATE_EPSILON,
) -> list[int]:
    """Pick ``n`` worker ids, best score first, but among equally fitting workers (scores within
    ``epsilon`` of the best of their band) the least recently offered first (never offered
    before anyone offered; then worker id), so the same few do not take every top slot."""
    if n <= 0:
        return []
    ranked = sorted(workers_scores, key=lambda ws: (-ws[1], ws[0]))
    out: list[int] = []
    i = 0
    while i < len(ranked) and len(out) < n:
        head = ranked[i][1]
        j = i
        while j < len(ranked) and ranked[j][1] >= head - epsilon:
            j += 1
        band = ranked[i:j]
        band.sort(key=lambda ws: _recency_key(last_offered.get(ws[0]), ws[0]))
        out.extend(w for w, _ in band[: n - len(out)])
        i = j
    return out


def _recency_key(at: datetime | None, worker_id: int) -> tuple[int, float, int]:
    if at is None:
        return (0, 0.0, worker_id)
    return (1, _aware(at).timestamp(), worker_id)


def workers_for_order(
    order: OrderFacts,
    workers: Iterable[WorkerFacts],
    n: int = 10,
    *,
    now: datetime,
    tz: tzinfo,
    last_offered: Mapping[int, datetime] | None = None,
    cutoff: float = CUTOFF,
    priority_boost: float = PRIORITY_BOOST,
    epsilon: float = ROTATE_EPSILON,
) -> list[tuple[int, Match]]:
    """The point-to-point list for a new ``order``: up to ``n`` (worker id, match), every fitting
    priority worker first, then the others, each group ranked with :func:`rotate`.

    The first-look window is not applied here: the caller offers the priority workers at once
    and the others from :func:`first_look_until` on.
    """
    now = _aware(now)
    rec = order_record(order, now, tz, timedelta(0))
    if rec is None or n <= 0:
        return []
    now_ts, cut, boost = now.timestamp(), points(cutoff), points(priority_boost)
    found: dict[int, Match] = {}
    prio: list[tuple[int, float]] = []
    rest: list[tuple[int, float]] = []
    for w in workers:
        wp = prep_worker(w)
        if not passes(wp, rec, now_ts):
            continue
        tpts = trade_points(wp.trades).get(rec.tk)
        if tpts is None:
            continue
        ppts, label = place(wp.towns, rec.town)
        total = tpts + ppts + rec.base + (boost if wp.priority else 0)
        if total < cut:
            continue
        found[w.id] = Match(rec.id, rec.code, total / 100, label + rec.suffix, rec.start_at)
        (prio if wp.priority else rest).append((w.id, total / 100))
    last = last_offered or {}
    ids = rotate(prio, last, n, epsilon=epsilon)
    ids += rotate(rest, last, n - len(ids), epsilon=epsilon)
    return [(wid, found[wid]) for wid in ids]
