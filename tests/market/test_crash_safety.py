"""A process settling 1,000 assignments killed with SIGKILL at random points, 20 times: after
every restart the ledger balances, and in the end every settlement happened exactly once."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from market import ledger
from storage.db import Database
from storage.models import LedgerTx, Payment
from tests.market import factory

ROOT = Path(__file__).resolve().parents[2]
N = 1000
KILLS = 20


@pytest.mark.slow
async def test_sigkill_during_settlement(db: Database, db_url: str, clock, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    now = clock()
    async with db.transaction() as s:
        boss = await factory.employer(s, "boss", now)
        ids = []
        for i in range(N):
            w = await factory.worker(s, f"w{i}", now)
            ids.append(await factory.completed_assignment(s, boss, w, now, wage_fen=10000 + i))
    csv = tmp_path / "cash.csv"
    csv.write_text("".join(f"hall-{a},{a},{10000 + i}\n" for i, a in enumerate(ids)), encoding="utf-8")

    env = {**os.environ, "DATABASE_URL": db_url, "LOG_LEVEL": "WARNING"}
    cmd = [sys.executable, "-m", "bot", "--config", str(ROOT / "config.yaml"), "pay", "import", str(csv)]
    rng = random.Random(20261126)
    kills = 0
    for _ in range(KILLS):
        proc = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.3, 2.0))  # interpreter start-up is about 0.5 s; then settling
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            kills += 1
        proc.wait(timeout=30)
        async with db.reader() as s:
            assert await ledger.problems(s) == []
            paid = await s.scalar(select(func.count()).select_from(LedgerTx).where(LedgerTx.kind == "paid"))
            confirmed = await s.scalar(select(func.count()).select_from(Payment).where(Payment.status == "confirmed"))
        assert paid == confirmed  # a payment is confirmed exactly when its ledger entry exists
        if paid == N:
            break
    assert kills >= 3, "the kills should land while settling"
    done = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    async with db.reader() as s:
        assert await ledger.problems(s) == []
        assert await s.scalar(select(func.count()).select_from(LedgerTx).where(LedgerTx.kind == "paid")) == N
        assert await s.scalar(select(func.count()).select_from(Payment)) == N
        per_assignment = (
            await s.execute(select(LedgerTx.assignment_id, func.count()).where(LedgerTx.kind == "paid").group_by(LedgerTx.assignment_id))
        ).all()
        assert {n for _a, n in per_assignment} == {1}
        for a in ids[:: N // 20]:
            assert await ledger.balance(s, ledger.wage_account(a)) == 0
    again = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert '"recorded": 0' in again.stdout and f'"already_recorded": {N}' in again.stdout
    await asyncio.sleep(0)
