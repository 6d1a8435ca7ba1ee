"""Digests and the scheduler across real processes: a digest run killed with SIGKILL and
restarted sends each digest exactly once; two app processes on one database fire each job slot
once."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select

from bot.app import Services
from storage.db import Database
from storage.models import Identity, JobRun, OutboxRow, PushRecord, User, WebChatLine, WorkerProfile
from tests.market import factory

ROOT = Path(__file__).resolve().parents[2]
N = 10_000
MORNING = datetime(2026, 11, 26, 0, 0, tzinfo=UTC)  # 08:00 local


async def _population(db: Database, n: int) -> None:
    now = MORNING - timedelta(days=1)
    async with db.transaction() as s:
        boss = await factory.employer(s, "boss", now)
        for town in ("夏茂镇", "凤岗街道", "高砂镇"):
            for i in range(20):  # posted two hours before the digest, starting the day after
                await factory.order(s, boss, MORNING - timedelta(hours=2), town=town, wage_fen=18000 + 500 * i)
        ids = (await s.execute(insert(User).returning(User.id), [{"display_name": f"w{i}", "created_at": now} for i in range(n)])).scalars().all()
        await s.execute(insert(Identity), [{"user_id": uid, "channel": "web", "external_id": f"w{uid}", "created_at": now} for uid in ids])
        await s.execute(
            insert(WorkerProfile),
            [
                {"user_id": uid, "name": f"工人{uid}", "phone": "13800000000", "trades": ["helper"], "towns": [],
                 "availability": "any", "min_wage_fen": 0, "min_wage_unit": "day", "consent_at": now,
                 "created_at": now, "updated_at": now, "certificates": [], "priority_flags": []}
                for uid in ids
            ],
        )


async def _count(db: Database, stmt) -> int:  # type: ignore[no-untyped-def]
    async with db.reader() as s:
        return int(await s.scalar(stmt) or 0)


@pytest.mark.slow
async def test_sigkill_midway_then_every_digest_exactly_once(db: Database, db_url: str, services: Services) -> None:
    await _population(db, N)
    env = {**os.environ, "DATABASE_URL": db_url, "LOG_LEVEL": "WARNING"}
    cmd = [sys.executable, "-m", "bot", "--config", str(ROOT / "config.yaml"), "digests", "send",
           "--now", MORNING.isoformat(), "--batch", "250"]
    digests_sent = select(func.count()).select_from(PushRecord).where(PushRecord.kind == "digest")
    proc = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline and await _count(db, digests_sent) < N // 5:
        await asyncio.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    partial = await _count(db, digests_sent)
    assert 0 < partial < N, partial
    done = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert await _count(db, digests_sent) == N
    digest_rows = select(func.count()).select_from(OutboxRow).where(OutboxRow.idempotency_key.like("notify:push:digest:%"))
    assert await _count(db, digest_rows) == N
    again = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert '"sent": 0' in again.stdout
    # Delivery: every digest row reaches its chat exactly once.
    await services.sender.run_until_idle(max_rounds=10_000)
    async with db.reader() as s:
        per_chat = (await s.execute(select(WebChatLine.chat_id, func.count()).where(WebChatLine.text.contains("今日好活")).group_by(WebChatLine.chat_id))).all()
    assert len(per_chat) == N and {c for _chat, c in per_chat} == {1}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.slow
async def test_two_processes_fire_each_job_slot_once(db: Database, db_url: str, tmp_path: Path) -> None:
    cfg = tmp_path / "fast.yaml"
    cfg.write_text(
        (ROOT / "config.yaml").read_text(encoding="utf-8") + "\nscheduler:\n  enabled: true\n  time_scale: 60\n",
        encoding="utf-8",
    )
    env = {**os.environ, "DATABASE_URL": db_url, "LOG_LEVEL": "WARNING"}
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "bot", "--config", str(cfg), "serve", "--port", str(_free_port())],
            env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )
        for _ in range(2)
    ]
    try:
        await asyncio.sleep(12)
    finally:
        for p in procs:
            p.send_signal(signal.SIGINT)
        errors = [p.communicate(timeout=30)[1] for p in procs]
    assert all("Traceback" not in e and "failed" not in e for e in errors), "\n".join(errors)[-3000:]
    async with db.reader() as s:
        rows = (await s.execute(select(JobRun.job_id, JobRun.slot, JobRun.runner))).all()
    per_slot: dict[tuple[str, str], int] = {}
    for job, slot, _runner in rows:
        per_slot[(job, slot)] = per_slot.get((job, slot), 0) + 1
    assert per_slot and set(per_slot.values()) == {1}
    digests = sorted(int(slot) for job, slot, _r in rows if job == "market.digests")
    # About one firing per second for 12 s, each claimed by exactly one of the two processes.
    assert 4 <= len(digests) <= 14, digests
    assert len(set(digests)) == len(digests)
    runners = {r for _j, _s, r in rows}
    assert 1 <= len(runners) <= 2
