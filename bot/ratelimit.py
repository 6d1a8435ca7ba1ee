"""Client-side send limits for the outbox transports (reference reliability §1.3, channels §3).

Three small tools, all on a monotonic clock (real seconds, independent of the service clock):

* ``SlidingWindow`` — at most ``limit`` sends in *any* ``window`` seconds per key (a log of send
  times, not a bucket: a WeCom group robot allows 20 per minute, and a burst of 20 at the end of
  one minute plus 20 at the start of the next would already be refused).
* ``Limits`` — several windows that must all agree (e.g. 30/min *and* 1000/h per member plus a
  global rate); a send is only recorded when every window has room, so a refusal costs nothing.
* ``Pacer`` — one send queue per personal WeChat account: a random gap between any two sends, a
  longer random gap when switching to another conversation, and an hourly cap (the folk limits
  behind Wechaty bans are undocumented; the reference's conservative numbers are the defaults).
* ``Pause`` — the whole channel stops until a time (after 45009 "api freq out of limit" and its
  kin) instead of hammering the API.

``try_acquire`` never sleeps: it returns 0.0 and *reserves* the slot, or returns how many seconds
to wait. The outbox sender turns a wait into a later ``next_attempt_at`` for that row.
"""

from __future__ import annotations

import random
import time
from collections import deque
from collections.abc import Callable, Hashable, Sequence

Clock = Callable[[], float]


class SlidingWindow:
    """At most ``limit`` events in any ``window`` seconds, per key."""

    def __init__(self, limit: int, window: float, *, clock: Clock = time.monotonic) -> None:
        if limit < 1 or window <= 0:
            raise ValueError("limit must be >= 1 and window > 0")
        self.limit = limit
        self.window = float(window)
        self.clock = clock
        self._events: dict[Hashable, deque[float]] = {}

    def _trim(self, key: Hashable, now: float) -> deque[float]:
        q = self._events.get(key)
        if q is None:
            q = self._events[key] = deque()
        edge = now - self.window
        while q and q[0] <= edge:
            q.popleft()
        return q

    def wait_time(self, key: Hashable = "", now: float | None = None) -> float:
        """Seconds until one more event would fit (0.0: now)."""
        now = self.clock() if now is None else now
        q = self._trim(key, now)
        if len(q) < self.limit:
            return 0.0
        return max(1e-3, q[len(q) - self.limit] + self.window - now)

    def record(self, key: Hashable = "", now: float | None = None) -> None:
        now = self.clock() if now is None else now
        self._trim(key, now).append(now)

    def try_acquire(self, key: Hashable = "") -> float:
        now = self.clock()
        wait = self.wait_time(key, now)
        if wait == 0.0:
            self.record(key, now)
        return wait

    def forget_idle(self) -> None:
        """Drop keys with no recent events (keeps memory flat with many recipients)."""
        now = self.clock()
        for key in [k for k in self._events if not self._trim(k, now)]:
            del self._events[key]


class Limits:
    """All-or-nothing over several ``(window, key_fn)`` pairs."""

    def __init__(self, rules: Sequence[tuple[SlidingWindow, Callable[[str], Hashable]]]) -> None:
        self.rules = list(rules)
        self._calls = 0

    def try_acquire(self, key: str) -> float:
        waits = [w.wait_time(fn(key)) for w, fn in self.rules]
        wait = max(waits, default=0.0)
        if wait > 0:
            return wait
        for w, fn in self.rules:
            w.record(fn(key))
        self._calls += 1
        if self._calls % 1000 == 0:
            for w, _fn in self.rules:
                w.forget_idle()
        return 0.0


def per_key(key: str) -> str:
    return key


def one_key(_key: str) -> str:
    return ""


class Pause:
    """A channel-wide stop until a moment in (monotonic) time."""

    def __init__(self, *, clock: Clock = time.monotonic) -> None:
        self.clock = clock
        self._until = 0.0

    def pause(self, seconds: float) -> None:
        self._until = max(self._until, self.clock() + max(0.0, seconds))

    def remaining(self) -> float:
        return max(0.0, self._until - self.clock())


class Pacer:
    """One account's send pace: random gaps with jitter, longer ones between conversations, and
    an hourly cap. Each granted send pushes the next allowed moment forward."""

    def __init__(
        self,
        *,
        min_gap: float,
        max_gap: float,
        switch_min_gap: float,
        switch_max_gap: float,
        per_hour: int,
        clock: Clock = time.monotonic,
        rng: random.Random | None = None,
    ) -> None:
        if not 0 <= min_gap <= max_gap or not 0 <= switch_min_gap <= switch_max_gap:
            raise ValueError("gaps must satisfy 0 <= min <= max")
        self.min_gap, self.max_gap = min_gap, max_gap
        self.switch_min_gap, self.switch_max_gap = switch_min_gap, switch_max_gap
        self.clock = clock
        self.rng = rng or random.Random()
        self.hourly = SlidingWindow(per_hour, 3600.0, clock=clock)
        self._last_at: float | None = None
        self._last_conv: str | None = None
        self._gap = 0.0  # the gap drawn after the last send (same conversation)
        self._switch_gap = 0.0

    def try_acquire(self, conversation: str) -> float:
        now = self.clock()
        wait = self.hourly.wait_time("", now)
        if self._last_at is not None:
            gap = self._gap if conversation == self._last_conv else max(self._gap, self._switch_gap)
            wait = max(wait, self._last_at + gap - now)
        if wait > 0:
            return max(wait, 1e-3)
        self.hourly.record("", now)
        self._last_at = now
        self._last_conv = conversation
        self._gap = self.rng.uniform(self.min_gap, self.max_gap)
        self._switch_gap = self.rng.uniform(self.switch_min_gap, self.switch_max_gap)
        return 0.0
