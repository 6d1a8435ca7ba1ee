"""Client-side send limits for the outbox transports (reference reliability §1.3, channels §3).

All on a monotonic clock (real seconds, independent of the service clock):

* ``SlidingWindow`` — at most ``limit`` sends in *any* ``window`` seconds per key (a log of send
  times, not a bucket: a WeCom group robot allows 20 a minute, and a burst of 20 at the end of
  one minute plus 20 at the start of the next would already be refused).
* ``Limits`` — several windows that must all agree (e.g. 30/min *and* 1000/h per member plus a
  global rate).
* ``Pacer`` — one send queue per personal WeChat account: a random gap between any two sends, a
  longer random gap when switching to another conversation, and an hourly cap (the limits behind
  Wechaty bans are undocumented; the reference's conservative numbers are the defaults).
* ``Pause`` — the whole channel (or one robot) stops until a time, after 45009 "api freq out of
  limit" and its kin, instead of hammering the API.

Two steps, because the outbox claims rows before it sends them: ``reserve(key)`` (when a row is
claimed) returns 0.0 and holds a place — counted against the limit like a send — or returns the
seconds to wait; ``commit(key)`` right before the HTTP call turns the place into a send *at that
moment*; ``cancel(key)`` gives it back. So the window counts real send times, and a batch claimed
at once cannot crowd into a later window. Places never committed expire after ``reservation_ttl``.
``try_acquire`` is reserve + commit at once.
"""

from __future__ import annotations

import random
import time
from collections import deque
from collections.abc import Callable, Hashable, Sequence
from typing import TYPE_CHECKING

Clock = Callable[[], float]
RESERVATION_TTL = 120.0


if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from storage.models import OutboxRow


class SlidingWindow:
    """At most ``limit`` sends in any ``window`` seconds, per key."""

    def __init__(
        self,
        limit: int,
        window: float,
        *,
        clock: Clock = time.monotonic,
        reservation_ttl: float = RESERVATION_TTL,
    ) -> None:
        if limit < 1 or window <= 0:
            raise ValueError("limit must be >= 1 and window > 0")
        self.limit = limit
        self.window = float(window)
        self.clock = clock
        self.reservation_ttl = reservation_ttl
        self._events: dict[Hashable, deque[float]] = {}
        self._pending: dict[Hashable, deque[float]] = {}

    def _trim(self, key: Hashable, now: float) -> tuple[deque[float], deque[float]]:
        events = self._events.setdefault(key, deque())
        while events and events[0] <= now - self.window:
            events.popleft()
        pending = self._pending.setdefault(key, deque())
        while pending and pending[0] <= now - self.reservation_ttl:
            pending.popleft()
        return events, pending

    def wait_time(self, key: Hashable = "", now: float | None = None) -> float:
        """Seconds until one more send would fit (0.0: now)."""
        now = self.clock() if now is None else now
        events, pending = self._trim(key, now)
        excess = len(events) + len(pending) - self.limit + 1
        if excess <= 0:
            return 0.0
        if excess > len(events):  # held back by places not yet used: look again soon
            return min(self.window, 1.0)
        return max(1e-3, events[excess - 1] + self.window - now)

    def reserve(self, key: Hashable = "") -> float:
        now = self.clock()
        wait = self.wait_time(key, now)
        if wait == 0.0:
            self._pending[key].append(now)
        return wait

    def commit(self, key: Hashable = "") -> None:
        now = self.clock()
        events, pending = self._trim(key, now)
        if pending:
            pending.popleft()
        events.append(now)

    def cancel(self, key: Hashable = "") -> None:
        pending = self._pending.get(key)
        if pending:
            pending.popleft()

    def try_acquire(self, key: Hashable = "") -> float:
        wait = self.reserve(key)
        if wait == 0.0:
            self.commit(key)
        return wait

    def forget_idle(self) -> None:
        """Drop keys with nothing recent (keeps memory flat with many recipients)."""
        now = self.clock()
        for key in list(self._events):
            events, pending = self._trim(key, now)
            if not events and not pending:
                del self._events[key]
                del self._pending[key]


def per_key(key: str) -> str:
    return key


def one_key(_key: str) -> str:
    return ""


class Limits:
    """All-or-nothing over several ``(window, key_fn)`` pairs."""

    def __init__(self, rules: Sequence[tuple[SlidingWindow, Callable[[str], Hashable]]]) -> None:
        self.rules = list(rules)
        self._calls = 0

    def reserve(self, key: str) -> float:
        wait = max((w.wait_time(fn(key)) for w, fn in self.rules), default=0.0)
        if wait > 0:
            return wait
        for w, fn in self.rules:
            w.reserve(fn(key))
        self._calls += 1
        if self._calls % 1000 == 0:
            for w, _fn in self.rules:
                w.forget_idle()
        return 0.0

    def commit(self, key: str) -> None:
        for w, fn in self.rules:
            w.commit(fn(key))

    def cancel(self, key: str) -> None:
        for w, fn in self.rules:
            w.cancel(fn(key))

    def try_acquire(self, key: str) -> float:
        wait = self.reserve(key)
        if wait == 0.0:
            self.commit(key)
        return wait


class Pause:
    """A stop until a moment in (monotonic) time."""

    def __init__(self, *, clock: Clock = time.monotonic) -> None:
        self.clock = clock
        self._until = 0.0

    def pause(self, seconds: float) -> None:
        self._until = max(self._until, self.clock() + max(0.0, seconds))

    def remaining(self) -> float:
        return max(0.0, self._until - self.clock())


class Pacer:
    """One account's send pace: random gaps with jitter, longer ones between conversations, and
    an hourly cap. One send at a time: while a place is reserved, nothing else is admitted."""

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
        reservation_ttl: float = RESERVATION_TTL,
    ) -> None:
        if not 0 <= min_gap <= max_gap or not 0 <= switch_min_gap <= switch_max_gap:
            raise ValueError("gaps must satisfy 0 <= min <= max")
        self.min_gap, self.max_gap = min_gap, max_gap
        self.switch_min_gap, self.switch_max_gap = switch_min_gap, switch_max_gap
        self.clock = clock
        self.rng = rng or random.Random()
        self.reservation_ttl = reservation_ttl
        self.hourly = SlidingWindow(per_hour, 3600.0, clock=clock)
        self._last_at: float | None = None
        self._last_conv: str | None = None
        self._gap = 0.0  # drawn after each send: to the same conversation …
        self._switch_gap = 0.0  # … and to another one
        self._reserved_at: float | None = None
        self.sent_at: list[tuple[float, str]] = []  # (time, conversation), the last 100

    def _wait(self, conversation: str, now: float) -> float:
        if self._reserved_at is not None and now - self._reserved_at < self.reservation_ttl:
            return max(self.max_gap, 0.5)
        wait = self.hourly.wait_time("", now)
        if self._last_at is not None:
            gap = (
                self._gap if conversation == self._last_conv else max(self._gap, self._switch_gap)
            )
            wait = max(wait, self._last_at + gap - now)
        return max(wait, 1e-3) if wait > 0 else 0.0

    def reserve(self, conversation: str) -> float:
        now = self.clock()
        wait = self._wait(conversation, now)
        if wait == 0.0:
            self._reserved_at = now
        return wait

    def commit(self, conversation: str) -> None:
        now = self.clock()
        self._reserved_at = None
        self.hourly.commit("")
        self._last_at = now
        self._last_conv = conversation
        self._gap = self.rng.uniform(self.min_gap, self.max_gap)
        self._switch_gap = self.rng.uniform(self.switch_min_gap, self.switch_max_gap)
        self.sent_at = [*self.sent_at[-99:], (now, conversation)]

    def cancel(self, _conversation: str = "") -> None:
        self._reserved_at = None

    def try_acquire(self, conversation: str) -> float:
        wait = self.reserve(conversation)
        if wait == 0.0:
            self.commit(conversation)
        return wait


class Admission:
    """Places reserved for claimed outbox rows (by row id), used right before each HTTP send.

    ``reserve`` when the outbox asks ``admit(row)``; ``take`` before every call to the platform
    (the reserved place first, then fresh ones — a long text sent in parts, a retry after a token
    refresh); ``release`` when the row is handed back unsent.
    """

    def __init__(self, limiter: SlidingWindow | Limits | Pacer) -> None:
        self.limiter = limiter
        self._rows: dict[int, str] = {}

    def reserve(self, row_id: int, key: str) -> float:
        wait = self.limiter.reserve(key)
        if wait == 0.0:
            self._rows[row_id] = key
        return wait

    def take(self, row_id: int, key: str) -> float:
        if self._rows.pop(row_id, None) is not None:
            self.limiter.commit(key)
            return 0.0
        return self.limiter.try_acquire(key)

    def release(self, row_id: int) -> None:
        key = self._rows.pop(row_id, None)
        if key is not None:
            self.limiter.cancel(key)


class AdmittedTransport:
    """What the WeChat API transports share: one admission per outbox row — reserved when the
    outbox claims the row (``admit``), taken right before the HTTP call (``_slot``), released when
    the delivery ends — plus a channel-wide pause after a throttle error. Subclasses set
    ``self.limits`` and ``self.pause`` and implement ``_deliver``."""

    pause: Pause
    _admission: Admission

    @property
    def limits(self) -> Limits:
        return self._admission.limiter  # type: ignore[return-value]

    @limits.setter
    def limits(self, value: Limits) -> None:
        self._admission = Admission(value)

    def admit(self, row: OutboxRow) -> float:
        return self.pause.remaining() or self._admission.reserve(row.id, row.chat_id)

    def _slot(self, row: OutboxRow) -> None:
        """Right before each call to the API: the row's reserved place, or a fresh one."""
        from bot.outbox import DeliveryError

        wait = self._admission.take(row.id, row.chat_id)
        if wait > 0:
            raise DeliveryError("send rate limit reached, retrying later", retry_after=wait)

    async def deliver(self, row: OutboxRow, session: AsyncSession | None) -> None:
        try:
            await self._deliver(row)
        finally:
            self._admission.release(row.id)

    async def _deliver(self, row: OutboxRow) -> None:
        raise NotImplementedError
