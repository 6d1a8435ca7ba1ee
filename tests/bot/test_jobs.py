"""The scheduler has the expected named jobs; a job runs a market function in a transaction and
survives a failure."""

from __future__ import annotations

import asyncio
import logging

import pytest
from apscheduler.triggers.interval import IntervalTrigger

from bot.app import Services, build_scheduler
from bot.jobs import DrainingScheduler, market_job


async def test_scheduler_registers_named_jobs(no_db_services: Services) -> None:
    scheduler = build_scheduler(no_db_services)
    jobs = {j.id: j for j in scheduler.get_jobs()}
    assert set(jobs) == {
        "dialogs.expire", "market.digests", "market.group_digests", "market.still_hiring", "market.reminders",
        "market.arrears", "market.disputes_escalate", "market.orders_expire", "callbacks.nonces_expire", "doors.purge",
    }
    assert all(isinstance(j.trigger, IntervalTrigger) for j in jobs.values())
    assert jobs["dialogs.expire"].trigger.interval.total_seconds() == 60
    assert jobs["market.digests"].trigger.interval.total_seconds() == 60
    assert str(scheduler.timezone) == "Asia/Shanghai"


async def test_market_job_logs_failures(services: Services, caplog: pytest.LogCaptureFixture) -> None:
    calls = []

    async def ok(session, market, now):  # type: ignore[no-untyped-def]
        calls.append(now)
        return "fine"

    async def broken(session, market, now):  # type: ignore[no-untyped-def]
        raise RuntimeError("boom")

    await market_job(services, "ok", ok)()
    assert calls == [services.clock()]
    await market_job(services, "ok", ok)()  # the same firing again (another process): skipped
    assert calls == [services.clock()]
    services.clock.advance(minutes=1)
    await market_job(services, "ok", ok)()
    assert len(calls) == 2
    with caplog.at_level(logging.ERROR, logger="bot.jobs"):
        await market_job(services, "broken", broken)()
    assert any("broken failed" in r.getMessage() for r in caplog.records)


async def _started_scheduler(job) -> DrainingScheduler:  # type: ignore[no-untyped-def]
    scheduler = DrainingScheduler(timezone="Asia/Shanghai")
    scheduler.add_job(scheduler.track(job), "date", id="slow")  # "date" without a time: now
    scheduler.start()
    return scheduler


async def test_drain_lets_a_running_job_finish(caplog: pytest.LogCaptureFixture) -> None:
    """Stopping the service mid-job used to cancel the job (APScheduler logs that as the job
    raising); the draining stop waits for it."""
    started, finished = asyncio.Event(), []

    async def slow() -> None:
        started.set()
        await asyncio.sleep(0.3)
        finished.append(True)

    scheduler = await _started_scheduler(slow)
    await asyncio.wait_for(started.wait(), 5)
    assert scheduler.jobs_running == 1
    with caplog.at_level(logging.WARNING):
        await scheduler.drain(timeout=5)
    assert finished == [True]
    assert scheduler.jobs_running == 0
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING], caplog.records


async def test_drain_gives_up_on_a_stuck_job(caplog: pytest.LogCaptureFixture) -> None:
    started, cancelled = asyncio.Event(), []

    async def stuck() -> None:
        started.set()
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            cancelled.append(True)
            raise

    scheduler = await _started_scheduler(stuck)
    await asyncio.wait_for(started.wait(), 5)
    with caplog.at_level(logging.WARNING, logger="bot.jobs"):
        await scheduler.drain(timeout=0.2)
    assert cancelled == [True]
    assert any("still running" in r.getMessage() for r in caplog.records)
