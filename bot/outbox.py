"""The outbox sender: delivers queued rows per channel, at least once, each row once in effect.

Two kinds of transport:

* **transactional** (the web chat): delivery is a database write, done in the same transaction
  that marks the row sent — a crash anywhere leaves either both or neither, so exactly once.
* **external** (WeChat APIs, webhooks): rows are claimed under a lease and committed, then sent
  with the row's idempotency key, then marked sent. A sender that dies after sending but before
  marking leaves the row to be retried when the lease runs out, with the same key, which the
  receiving side uses to drop the repeat (reference §1.3: consumers dedupe on the key).

Failures back off exponentially with jitter; after ``max_attempts`` a row is dead-lettered and
an operator alert is logged.

Channels add their limits through optional transport attributes (all duck-typed):

* ``admit(row) -> float`` — asked before a row is claimed: 0 reserves a send slot (the transport's
  rate limit or pace), more is the wait in seconds; the row then stays queued with a later
  ``next_attempt_at``, no attempt counted. So a claimed row never exceeds a limit.
* ``hold_seconds`` — fresh rows (never attempted) younger than this are left alone, because the
  channel may still deliver them itself (the 公众号 passive reply inside WeChat's 5 s window).
* ``DeliveryDeferred`` — raised by ``deliver`` when the channel is paused (after a throttle error
  on an earlier row): the row goes back to the queue without counting an attempt.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import OutboxConfig
from storage.db import Database
from storage.models import OutboxRow
from storage.repositories import OutboxRepository

log = logging.getLogger("bot.outbox")


class DeliveryError(Exception):
    """A delivery failed. ``retry`` False means it never will succeed (dead-letter now)."""

    def __init__(self, message: str, *, retry: bool = True, retry_after: float | None = None):
        super().__init__(message)
        self.retry = retry
        self.retry_after = retry_after


class DeliveryDeferred(DeliveryError):
    """Not attempted (the channel is paused): requeue after ``retry_after``, no attempt counted."""

    def __init__(self, message: str, *, retry_after: float) -> None:
        super().__init__(message, retry=True, retry_after=retry_after)


class Transport(Protocol):
    """Delivers outbox rows of one channel."""

    channel: str
    transactional: bool

    async def deliver(self, row: OutboxRow, session: AsyncSession | None) -> None:
        """Send one row; raise ``DeliveryError`` on failure. ``session`` is given only to
        transactional transports (it is the transaction that will mark the row sent)."""


@dataclass(frozen=True)
class _Claimed:
    """What the sender remembers of a row (ORM objects may be expired after a rollback)."""

    id: int
    channel: str
    chat_id: str
    attempts: int

    @classmethod
    def of(cls, row: OutboxRow) -> _Claimed:
        return cls(row.id, row.channel, row.chat_id, row.attempts)


class OutboxSender:
    """Delivers queued outbox rows through their channel's transport, with retries and dead letters."""

    def __init__(
        self,
        db: Database,
        transports: Mapping[str, Transport],
        cfg: OutboxConfig,
        *,
        clock: Callable[[], datetime],
        batch: int = 50,
        on_delivered: Callable[[], None] | None = None,
    ) -> None:
        self.db = db
        self.transports = dict(transports)
        self.cfg = cfg
        self.clock = clock
        self.batch = batch
        self.on_delivered = on_delivered
        self._wake = asyncio.Event()

    def wake(self) -> None:
        self._wake.set()

    def _retry_at(self, attempts: int, now: datetime, retry_after: float | None) -> datetime:
        base = self.cfg.backoff_base_seconds * (2 ** max(0, attempts - 1))
        delay = min(self.cfg.backoff_max_seconds, base) * random.uniform(0.8, 1.2)
        if retry_after is not None:
            delay = max(delay, retry_after)
        return now + timedelta(seconds=delay)

    async def _failed(
        self, session: AsyncSession, row: _Claimed, exc: DeliveryError, now: datetime
    ) -> None:
        dead = not exc.retry or row.attempts >= self.cfg.max_attempts
        retry_at = None if dead else self._retry_at(row.attempts, now, exc.retry_after)
        await OutboxRepository(session).mark_failed(row.id, error=str(exc), retry_at=retry_at)
        if dead:
            # Operator alert: the console lists dead rows; the log line is the page for on-call.
            log.error(
                "OUTBOX DEAD-LETTER row=%s channel=%s chat=%s attempts=%s error=%s",
                row.id, row.channel, row.chat_id, row.attempts, exc,
            )
        else:
            log.warning("outbox row %s failed (attempt %s): %s", row.id, row.attempts, exc)

    async def _run_transactional(self, transport: Transport) -> int:
        done = 0
        async with self.db.transaction() as session:
            now = self.clock()
            repo = OutboxRepository(session)
            rows = await repo.lock_due(transport.channel, now, self.batch)
            for row in rows:
                row.attempts += 1
                await session.flush()
                claimed = _Claimed.of(row)
                try:
                    async with session.begin_nested():
                        await transport.deliver(row, session)
                except DeliveryError as exc:
                    await self._failed(session, claimed, exc, now)
                    continue
                await repo.mark_sent(claimed.id, now)
                done += 1
        return done

    async def _run_external(self, transport: Transport) -> int:
        lease = timedelta(seconds=self.cfg.lease_seconds)
        hold = float(getattr(transport, "hold_seconds", 0.0) or 0.0)
        admit: Callable[[OutboxRow], float] | None = getattr(transport, "admit", None)
        async with self.db.transaction() as session:
            now = self.clock()
            repo = OutboxRepository(session)
            rows = await repo.lock_due(transport.channel, now, self.batch)
            if hold > 0:
                edge = now - timedelta(seconds=hold)
                rows = [r for r in rows if r.attempts > 0 or r.created_at <= edge]
            if admit is not None:
                taken: list[OutboxRow] = []
                for r in rows:
                    wait = admit(r)
                    if wait > 0:
                        await _postpone(session, r.id, now + timedelta(seconds=wait))
                    else:
                        taken.append(r)
                rows = taken
            await repo.claim(rows, now, lease)
            claimed = [_Claimed.of(r) for r in rows]
        done = 0
        for row, snap in zip(rows, claimed, strict=True):
            try:
                await transport.deliver(row, None)
            except DeliveryDeferred as exc:
                async with self.db.transaction() as session:
                    at = self.clock() + timedelta(seconds=exc.retry_after or 0)
                    await _release(session, snap.id, at)
                continue
            except DeliveryError as exc:
                async with self.db.transaction() as session:
                    await self._failed(session, snap, exc, self.clock())
                continue
            except Exception as exc:  # a bug or an unexpected network error: retry later
                log.exception("outbox row %s: unexpected delivery error", row.id)
                async with self.db.transaction() as session:
                    await self._failed(session, snap, DeliveryError(repr(exc)), self.clock())
                continue
            async with self.db.transaction() as session:
                await OutboxRepository(session).mark_sent(snap.id, self.clock())
            done += 1
        return done

    async def run_once(self) -> int:
        """Deliver what is due now on every channel; returns the number of rows sent."""
        total = 0
        for transport in self.transports.values():
            if transport.transactional:
                total += await self._run_transactional(transport)
            else:
                total += await self._run_external(transport)
        if total and self.on_delivered is not None:
            self.on_delivered()
        return total

    async def run_until_idle(self, max_rounds: int = 1000) -> int:
        total = 0
        for _ in range(max_rounds):
            sent = await self.run_once()
            total += sent
            if sent == 0:
                break
        return total

    async def run_forever(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                sent = await self.run_once()
            except Exception:
                log.exception("outbox sender round failed; retrying")
                sent = 0
            if sent:
                continue
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self.cfg.poll_seconds)


async def _postpone(session: AsyncSession, row_id: int, at: datetime) -> None:
    """A queued row may not go yet (rate limit or pace): look at it again at ``at``."""
    await session.execute(
        update(OutboxRow)
        .where(OutboxRow.id == row_id, OutboxRow.status == "queued")
        .values(next_attempt_at=at)
        .execution_options(synchronize_session=False)
    )


async def _release(session: AsyncSession, row_id: int, at: datetime) -> None:
    """Give a claimed row back untried (its claim counted an attempt; take it back)."""
    await session.execute(
        update(OutboxRow)
        .where(OutboxRow.id == row_id, OutboxRow.status == "sending")
        .values(
            status="queued",
            attempts=OutboxRow.attempts - 1,
            lease_until=None,
            next_attempt_at=at,
        )
        .execution_options(synchronize_session=False)
    )
