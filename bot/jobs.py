"""Scheduled jobs: wiring only. Each job runs a market function in its own transaction through
one wrapper that logs failures (the scheduler must never die of one bad run) and wakes the outbox
sender for whatever the job queued."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy.ext.asyncio import AsyncSession

from market import cases, orders, payments

if TYPE_CHECKING:
    from bot.app import Services

log = logging.getLogger("bot.jobs")

MarketJob = Callable[[AsyncSession, Any, Any], Awaitable[object]]


def market_job(services: Services, name: str, fn: MarketJob) -> Callable[[], Awaitable[None]]:
    """Run ``fn(session, market_settings, now)`` in one transaction."""

    async def run() -> None:
        try:
            async with services.db.transaction() as session:
                result = await fn(session, services.engine.settings.market, services.clock())
            log.info("job %s: %s", name, result)
        except Exception:
            log.exception("job %s failed; it will run again at its next time", name)
            return
        services.sender.wake()

    return run


JOBS: dict[str, tuple[MarketJob, dict[str, Any]]] = {
    "market.arrears": (payments.check_arrears, {"minutes": 10}),
    "market.disputes_escalate": (cases.escalate_due, {"minutes": 10}),
    "market.orders_expire": (orders.expire_stale, {"minutes": 30}),
}


def register_jobs(scheduler: AsyncIOScheduler, services: Services) -> None:
    common = {"replace_existing": True, "max_instances": 1, "coalesce": True}
    scheduler.add_job(services.engine.expire_conversations, "interval", minutes=1, id="dialogs.expire", **common)
    for job_id, (fn, every) in JOBS.items():
        scheduler.add_job(market_job(services, job_id, fn), "interval", id=job_id, **every, **common)
