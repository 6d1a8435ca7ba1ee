"""Scheduled jobs: wiring only.

Each job runs a market function in its own transaction through one wrapper that (1) claims the
firing's slot in ``job_runs`` — a unique (job, slot) row, so two processes on one database never
both run the same firing — (2) logs failures without killing the scheduler, and (3) wakes the
outbox sender for whatever the job queued. Triggers are aligned to the clock, so every process
computes the same slot for the same firing.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import socket
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.ext.asyncio import AsyncSession

from market import cases, digests, orders, payments
from storage.repositories import CallbackNonceRepository, JobRunRepository
from storage.repositories.doors import (
    LoginCodeRepository,
    LoginTicketRepository,
    RateCounterRepository,
    WebLinkRepository,
    WebSessionRepository,
)

if TYPE_CHECKING:
    from bot.app import Services

log = logging.getLogger("bot.jobs")

MarketJob = Callable[[AsyncSession, Any, Any], Awaitable[object]]
RUNNER = f"{socket.gethostname()}:{os.getpid()}"
EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


class DrainingScheduler(AsyncIOScheduler):
    """APScheduler's asyncio scheduler, stopped without cutting a job off mid-way.

    ``AsyncIOScheduler.shutdown`` cancels every running job: a job cancelled inside its
    transaction rolls back (nothing is lost), but APScheduler logs the cancellation as the job
    "raising an exception", and the firing's work is left for the next one. ``drain`` stops new
    firings, lets the running ones finish (up to ``timeout``), and only then shuts down.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._running: set[asyncio.Task[Any]] = set()

    def track(self, fn: Callable[[], Awaitable[None]]) -> Callable[[], Awaitable[None]]:
        @functools.wraps(fn)
        async def run() -> None:
            task = asyncio.current_task()
            assert task is not None
            self._running.add(task)
            try:
                await fn()
            finally:
                self._running.discard(task)

        return run

    @property
    def jobs_running(self) -> int:
        return len(self._running)

    async def drain(self, timeout: float = 10) -> None:  # noqa: ASYNC109  # cancels the late jobs itself
        self.pause()
        await asyncio.sleep(0)  # a firing submitted just now starts, and so is counted
        if self._running:
            _done, late = await asyncio.wait(set(self._running), timeout=timeout)
            if late:
                log.warning("%d job(s) still running after %.1f s; cancelling them", len(late), timeout)
                for task in late:
                    task.cancel()
                await asyncio.wait(late, timeout=5)
        self.shutdown(wait=False)


def slot_of(now: datetime, every_seconds: float) -> str:
    """The firing a moment belongs to: the nearest multiple of the interval since a fixed epoch."""
    return str(round((now - EPOCH).total_seconds() / every_seconds))


async def claim_slot(session: AsyncSession, job_id: str, slot: str, now: datetime) -> bool:
    return await JobRunRepository(session).claim_slot(job_id, slot, runner=RUNNER, now=now)


def market_job(
    services: Services, name: str, fn: MarketJob, every_seconds: float = 60
) -> Callable[[], Awaitable[None]]:
    """Run ``fn(session, market_settings, now)`` once per firing across all processes."""

    async def run() -> None:
        now = services.clock()
        try:
            async with services.db.transaction(lock=("job", name)) as session:
                if not await claim_slot(session, name, slot_of(now, every_seconds), now):
                    log.debug("job %s: slot already run by another process", name)
                    return
                result = await fn(session, services.engine.settings.market, now)
            log.info("job %s: %s", name, result)
        except Exception:
            log.exception("job %s failed; it will run again at its next time", name)
            return
        services.sender.wake()

    return run


async def expire_callback_nonces(session: AsyncSession, _settings: Any, now: datetime) -> str:
    """Forget the WeChat callbacks' spent signatures once past their freshness window."""
    return f"{await CallbackNonceRepository(session).delete_expired(now)} spent signature(s) forgotten"


async def purge_doors(session: AsyncSession, _settings: Any, now: datetime) -> str:
    """Delete what the doors no longer need: sessions, SMS codes and kiosk tickets that ended more
    than a day ago (kept that long for questions about a login), and old rate counters."""
    before = now - timedelta(days=1)
    counts = (
        await WebSessionRepository(session).purge(before),
        await LoginCodeRepository(session).purge(before),
        await LoginTicketRepository(session).purge(before),
        await WebLinkRepository(session).purge(before),
        await RateCounterRepository(session).purge(now),
    )
    return "{} session(s), {} code(s), {} kiosk ticket(s), {} link code(s), {} counter(s) deleted".format(*counts)


JOBS: dict[str, tuple[MarketJob, float]] = {
    "market.digests": (digests.send_digests, 60),
    "market.group_digests": (digests.send_group_digests, 600),
    "market.still_hiring": (digests.check_still_hiring, 600),
    "market.reminders": (digests.send_reminders, 300),
    "market.arrears": (payments.check_arrears, 600),
    "market.disputes_escalate": (cases.escalate_due, 600),
    "market.orders_expire": (orders.expire_stale, 1800),
    "callbacks.nonces_expire": (expire_callback_nonces, 600),
    "doors.purge": (purge_doors, 3600),
}


def register_jobs(scheduler: DrainingScheduler, services: Services, *, time_scale: float = 1.0) -> None:
    """``time_scale`` > 1 runs every job that many times more often (demos and tests)."""
    common = {"replace_existing": True, "max_instances": 1, "coalesce": True, "misfire_grace_time": 30}
    scheduler.add_job(
        scheduler.track(services.engine.expire_conversations),
        IntervalTrigger(seconds=60 / time_scale, start_date=EPOCH),
        id="dialogs.expire",
        **common,
    )
    for job_id, (fn, every) in JOBS.items():
        seconds = every / time_scale
        scheduler.add_job(
            scheduler.track(market_job(services, job_id, fn, seconds)),
            IntervalTrigger(seconds=seconds, start_date=EPOCH),
            id=job_id,
            **common,
        )
