"""Scheduler firings claimed once across processes (``job_runs``: unique per job and slot)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import JobRun
from storage.repositories._upsert import insert_ignore


class JobRunRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def claim_slot(self, job_id: str, slot: str, *, runner: str, now: datetime) -> bool:
        """Claim one firing of a job; False when another process (or an earlier run) has it."""
        made = await insert_ignore(
            self.session,
            JobRun.__table__,
            {"job_id": job_id, "slot": slot, "runner": runner, "started_at": now},
            JobRun.id,
        )
        return made is not None
