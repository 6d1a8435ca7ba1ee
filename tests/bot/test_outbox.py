"""The outbox: every row delivered once in effect, failures retried with backoff, dead letters
alerted, and a sender killed with SIGKILL mid-delivery loses and repeats nothing."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.app import Services
from bot.config import OutboxConfig
from bot.outbox import DeliveryError, OutboxSender
from storage.db import Database
from storage.models import OutboxRow, WebChatLine
from storage.repositories import OutboxRepository

ROOT = Path(__file__).resolve().parents[2]


async def _enqueue(db: Database, n: int, clock, channel: str = "web") -> None:  # type: ignore[no-untyped-def]
    async with db.transaction() as s:
        repo = OutboxRepository(s)
        for i in range(n):
            await repo.enqueue(
                channel=channel, chat_id=f"chat{i % 7}", text=f"消息{i}", idempotency_key=f"k{i}", now=clock()
            )


async def _count(db: Database, model, **where) -> int:  # type: ignore[no-untyped-def]
    async with db.reader() as s:
        stmt = select(func.count()).select_from(model)
        for k, v in where.items():
            stmt = stmt.where(getattr(model, k) == v)
        return int(await s.scalar(stmt) or 0)


async def test_web_rows_delivered_exactly_once(services: Services, clock) -> None:  # type: ignore[no-untyped-def]
    db = services.db
    await _enqueue(db, 120, clock)
    assert await services.sender.run_until_idle() == 120
    assert await services.sender.run_until_idle() == 0
    assert await _count(db, WebChatLine) == 120
    assert await _count(db, OutboxRow, status="sent") == 120


class FlakyTransport:
    channel = "flaky"
    transactional = False

    def __init__(self, fail_times: int, permanent: bool = False) -> None:
        self.fail_times = fail_times
        self.permanent = permanent
        self.calls: list[str] = []

    async def deliver(self, row: OutboxRow, session) -> None:  # type: ignore[no-untyped-def]
        self.calls.append(row.idempotency_key)
        if self.permanent:
            raise DeliveryError("user blocked the bot", retry=False)
        if self.calls.count(row.idempotency_key) <= self.fail_times:
            raise DeliveryError("45009 api freq out of limit", retry_after=30)


async def test_external_failures_back_off_then_succeed(db: Database, clock) -> None:  # type: ignore[no-untyped-def]
    transport = FlakyTransport(fail_times=2)
    sender = OutboxSender(db, {"flaky": transport}, OutboxConfig(max_attempts=5), clock=clock)
    await _enqueue(db, 3, clock, channel="flaky")
    assert await sender.run_once() == 0
    assert await sender.run_once() == 0  # not due yet: backing off, no tight loop
    assert len(transport.calls) == 3
    async with db.reader() as s:
        due = {r.next_attempt_at for r in (await s.execute(select(OutboxRow))).scalars()}
    assert all((t - clock()).total_seconds() >= 30 for t in due)  # honours retry_after
    clock.advance(minutes=5)
    assert await sender.run_once() == 0
    clock.advance(minutes=10)
    assert await sender.run_once() == 3
    assert len(transport.calls) == 9
    assert await _count(db, OutboxRow, status="sent") == 3


async def test_dead_letter_after_max_attempts_is_alerted(
    db: Database, clock, caplog: pytest.LogCaptureFixture  # type: ignore[no-untyped-def]
) -> None:
    transport = FlakyTransport(fail_times=100)
    sender = OutboxSender(db, {"flaky": transport}, OutboxConfig(max_attempts=3), clock=clock)
    await _enqueue(db, 1, clock, channel="flaky")
    with caplog.at_level(logging.ERROR, logger="bot.outbox"):
        for _ in range(5):
            await sender.run_once()
            clock.advance(hours=1)
    assert len(transport.calls) == 3
    assert await _count(db, OutboxRow, status="dead") == 1
    assert any("DEAD-LETTER" in r.getMessage() for r in caplog.records)


async def test_permanent_error_dead_letters_at_once(db: Database, clock) -> None:  # type: ignore[no-untyped-def]
    transport = FlakyTransport(fail_times=0, permanent=True)
    sender = OutboxSender(db, {"flaky": transport}, OutboxConfig(), clock=clock)
    await _enqueue(db, 2, clock, channel="flaky")
    await sender.run_once()
    assert await _count(db, OutboxRow, status="dead") == 2


async def test_lease_expiry_retries_with_the_same_key(db: Database, clock) -> None:  # type: ignore[no-untyped-def]
    """A sender that died after claiming: the rows come back after the lease, same key."""
    await _enqueue(db, 2, clock, channel="flaky")
    async with db.transaction() as s:
        repo = OutboxRepository(s)
        rows = await repo.lock_due("flaky", clock(), 10)
        from datetime import timedelta

        await repo.claim(rows, clock(), timedelta(seconds=60))
    transport = FlakyTransport(fail_times=0)
    sender = OutboxSender(db, {"flaky": transport}, OutboxConfig(lease_seconds=60), clock=clock)
    assert await sender.run_once() == 0  # still leased to the dead sender
    clock.advance(seconds=61)
    assert await sender.run_once() == 2
    assert sorted(transport.calls) == ["k0", "k1"]


@pytest.mark.slow
async def test_sigkill_mid_delivery_then_restart_delivers_each_row_once(
    db: Database, db_url: str, clock  # type: ignore[no-untyped-def]
) -> None:
    total = 6000
    await _enqueue(db, total, clock)
    env = {**os.environ, "DATABASE_URL": db_url, "LOG_LEVEL": "WARNING"}
    cmd = [sys.executable, "-m", "bot", "--config", str(ROOT / "config.yaml"), "outbox", "send"]
    kills = 0
    for _ in range(3):
        sent_before = await _count(db, OutboxRow, status="sent")
        if sent_before >= total:
            break
        proc = subprocess.Popen(cmd, env=env, cwd=ROOT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if await _count(db, OutboxRow, status="sent") > sent_before:
                break
            await asyncio.sleep(0.02)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        kills += 1
    assert kills >= 1
    partial = await _count(db, OutboxRow, status="sent")
    assert 0 < partial < total, "the kill should land mid-delivery"
    done = subprocess.run([*cmd, "--until-idle"], env=env, cwd=ROOT, timeout=300)
    assert done.returncode == 0
    assert await _count(db, OutboxRow, status="sent") == total
    async with db.reader() as s:
        per_row = (
            await s.execute(
                select(WebChatLine.outbox_id, func.count()).group_by(WebChatLine.outbox_id)
            )
        ).all()
    assert len(per_row) == total
    assert {n for _, n in per_row} == {1}
