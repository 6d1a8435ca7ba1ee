"""The schema is made by Alembic alone, and it matches the models exactly."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from storage.base import Base
from storage.db import Database
from storage.models import OutboxRow
from storage.repositories import OutboxRepository


async def test_migrations_match_models(db: Database) -> None:
    def diff(sync_conn):  # type: ignore[no-untyped-def]
        ctx = MigrationContext.configure(sync_conn, opts={"compare_type": True})
        return compare_metadata(ctx, Base.metadata)

    async with db.engine.connect() as conn:
        changes = await conn.run_sync(diff)
    assert changes == []


async def test_times_come_back_aware_utc(db: Database) -> None:
    beijing = timezone(timedelta(hours=8))
    at = datetime(2026, 11, 26, 8, 30, tzinfo=beijing)
    async with db.transaction() as s:
        rid = await OutboxRepository(s).enqueue(
            channel="web", chat_id="c", text="t", idempotency_key="k1", now=at
        )
    async with db.reader() as s:
        row = await s.get(OutboxRow, rid)
    assert row is not None
    assert row.created_at == at and row.created_at.tzinfo is not None
    assert row.created_at.utcoffset() == timedelta(0)
    assert row.created_at.hour == 0  # stored as UTC


async def test_naive_times_are_refused(db: Database) -> None:
    with pytest.raises(Exception, match="naive"):
        async with db.transaction() as s:
            await OutboxRepository(s).enqueue(
                channel="web", chat_id="c", text="t", idempotency_key="k2", now=datetime(2026, 1, 1)
            )


async def test_outbox_idempotency_key_is_unique(db: Database) -> None:
    now = datetime.now(UTC)
    async with db.transaction() as s:
        repo = OutboxRepository(s)
        first = await repo.enqueue(channel="web", chat_id="c", text="a", idempotency_key="same", now=now)
        second = await repo.enqueue(channel="web", chat_id="c", text="b", idempotency_key="same", now=now)
    assert first is not None and second is None
