"""The scheduler has the expected named jobs; a job runs a market function in a transaction and
survives a failure."""

from __future__ import annotations

import logging

import pytest
from apscheduler.triggers.interval import IntervalTrigger

from bot.app import Services, build_scheduler
from bot.jobs import market_job


async def test_scheduler_registers_named_jobs(services: Services) -> None:
    scheduler = build_scheduler(services)
    jobs = {j.id: j for j in scheduler.get_jobs()}
    assert set(jobs) == {
        "dialogs.expire", "market.digests", "market.group_digests", "market.still_hiring", "market.reminders",
        "market.arrears", "market.disputes_escalate", "market.orders_expire",
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
