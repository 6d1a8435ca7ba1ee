"""``storage.sqlite.savepoint``: what ``begin_nested`` promises, on both databases.

On SQLite the savepoint is raw and SQLAlchemy's nested transaction joins only once ORM objects are
in play; on PostgreSQL it is ``begin_nested`` itself. Every test runs on both, so each checks the
cheap path against SQLAlchemy's own behaviour. The ones that matter most: a failed *flush* inside a
block rolls back that block only (SQLAlchemy rolls back to its nearest savepoint of its own — with
a bare raw savepoint, that would be the whole transaction), and objects changed inside a failed
block come back as the database has them.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from storage.db import Database
from storage.models import OutboxRow
from storage.repositories import OutboxRepository
from storage.sqlite.inline_sqlite import LAZY_SAVEPOINTS
from storage.sqlite.savepoint import savepoint

T0 = datetime(2026, 11, 26, 1, 2, 3, tzinfo=UTC)


async def _hot_add(s, key: str) -> int:  # type: ignore[no-untyped-def]
    """A row through the hot path (no ORM object)."""
    return await OutboxRepository(s).enqueue(channel="web", chat_id="c", text=key, idempotency_key=key, now=T0)


def _orm_row(key: str, text: str = "") -> OutboxRow:
    return OutboxRow(channel="web", chat_id="c", text=text or key, idempotency_key=key)


async def _stored(db: Database) -> dict[str, str]:
    async with db.reader() as s:
        return dict((await s.execute(select(OutboxRow.idempotency_key, OutboxRow.text))).all())


def _inline(db: Database) -> bool:
    return db.engine.dialect.driver == "linggong_inline"


async def test_a_hot_only_block_needs_no_orm_savepoint(db: Database) -> None:
    async with db.transaction() as s:
        await _hot_add(s, "before")
        with pytest.raises(RuntimeError):
            async with savepoint(s):
                await _hot_add(s, "undone")
                if _inline(db):  # the cheap path: SQLAlchemy's nested transaction never started
                    assert s.sync_session.get_nested_transaction() is None
                    assert s.sync_session.info[LAZY_SAVEPOINTS][-1].nested is None
                raise RuntimeError("roll back")
        async with savepoint(s):
            await _hot_add(s, "kept")
        await _hot_add(s, "after")
    assert set(await _stored(db)) == {"before", "kept", "after"}


async def test_a_failed_flush_rolls_back_its_block_only(db: Database) -> None:
    async with db.transaction() as s:
        await _hot_add(s, "taken")
        s.add(_orm_row("orm-before"))
        with pytest.raises(IntegrityError):
            async with savepoint(s):
                await _hot_add(s, "hot-in-block")
                s.add(_orm_row("orm-in-block"))
                s.add(_orm_row("taken"))  # a duplicate key: the flush fails
                await s.flush()
        # The transaction goes on: nothing of the block, everything from before it.
        await _hot_add(s, "after")
        s.add(_orm_row("orm-after"))
    assert set(await _stored(db)) == {"taken", "orm-before", "after", "orm-after"}


async def test_a_failed_flush_at_the_end_of_a_block_rolls_back_its_block_only(db: Database) -> None:
    async with db.transaction() as s:
        await _hot_add(s, "taken")
        with pytest.raises(IntegrityError):
            async with savepoint(s):
                s.add(_orm_row("taken"))  # flushed when the block ends
        await _hot_add(s, "after")
    assert set(await _stored(db)) == {"taken", "after"}


async def test_objects_changed_in_a_failed_block_are_as_stored(db: Database) -> None:
    async with db.transaction() as s:
        await _hot_add(s, "a")
    async with db.transaction() as s:
        row = (await s.execute(select(OutboxRow).where(OutboxRow.idempotency_key == "a"))).scalar_one()
        row_id = row.id
        with pytest.raises(RuntimeError):
            async with savepoint(s):
                row.text = "changed, then rolled back"
                await s.flush()
                fresh = _orm_row("new-in-block")
                s.add(fresh)
                raise RuntimeError("roll back")
        assert (await s.scalar(select(OutboxRow.text).where(OutboxRow.id == row_id))) == "a"
        await s.refresh(row)
        assert row.text == "a"
        assert fresh not in s
    assert await _stored(db) == {"a": "a"}


async def test_objects_loaded_in_an_inner_block_are_covered_by_the_outer_one(db: Database) -> None:
    """An inner block that succeeded leaves objects in the session; a change to them in the
    enclosing block must still be undone when that block fails."""
    async with db.transaction() as s:
        await _hot_add(s, "a")
    async with db.transaction() as s:
        with pytest.raises(RuntimeError):
            async with savepoint(s):
                async with savepoint(s):
                    row = (
                        await s.execute(select(OutboxRow).where(OutboxRow.idempotency_key == "a"))
                    ).scalar_one()
                row.text = "changed in the outer block"
                await _hot_add(s, "hot-in-outer")  # flushes the change first
                raise RuntimeError("roll back the outer block")
        # The session does not keep the undone change (a query hands back the identity-mapped
        # object: stale, unless the rollback expired it).
        again = (await s.execute(select(OutboxRow).where(OutboxRow.idempotency_key == "a"))).scalar_one()
        assert again.text == "a"
        await _hot_add(s, "after")
    assert await _stored(db) == {"a": "a", "after": "after"}


async def test_deep_nesting_and_reuse(db: Database) -> None:
    async with db.transaction() as s:
        await _hot_add(s, "outer")
        for i in range(6):
            async with savepoint(s):
                await _hot_add(s, f"kept{i}")
                with pytest.raises(RuntimeError):
                    async with savepoint(s):
                        s.add(_orm_row(f"undone-orm{i}"))
                        async with savepoint(s):
                            await _hot_add(s, f"undone-deeper{i}")
                        raise RuntimeError("roll this level back")
                async with savepoint(s), s.begin_nested():  # SQLAlchemy's own inside ours
                    s.add(_orm_row(f"kept-orm{i}"))
    keys = set(await _stored(db))
    assert keys == {"outer"} | {f"kept{i}" for i in range(6)} | {f"kept-orm{i}" for i in range(6)}
    if _inline(db):
        async with db.transaction() as s:
            # Every savepoint above was closed: only this writer's own is open.
            assert len(s.sync_session.info[LAZY_SAVEPOINTS]) == 1


async def test_a_writer_whose_flush_fails_leaves_its_batch_mates_committed(tmp_path, sqlite_template) -> None:  # type: ignore[no-untyped-def]
    """Group commit: writers share one transaction, each in a savepoint. A failed flush in one
    of them (SQLAlchemy rolls back to its nearest savepoint) must not take the others down."""
    import asyncio
    import shutil

    path = tmp_path / "g.db"
    shutil.copy(sqlite_template, path)
    db = Database(f"sqlite+aiosqlite:///{path}")
    async with db.transaction() as s:
        await _hot_add(s, "taken")

    async def good(i: int) -> None:
        async with db.transaction() as s:
            await _hot_add(s, f"good{i}")
            s.add(_orm_row(f"good-orm{i}"))

    async def bad() -> None:
        async with db.transaction() as s:
            await _hot_add(s, "bad-hot")
            s.add(_orm_row("taken"))
            await s.flush()

    before = db._group.batches  # type: ignore[union-attr]
    results = await asyncio.gather(good(0), good(1), bad(), good(2), good(3), return_exceptions=True)
    assert [type(r).__name__ for r in results] == ["NoneType", "NoneType", "IntegrityError", "NoneType", "NoneType"]
    assert db._group.batches - before < 5  # type: ignore[union-attr]  # they did share commits
    keys = set(await _stored(db))
    assert keys == {"taken"} | {f"good{i}" for i in range(4)} | {f"good-orm{i}" for i in range(4)}
    await db.dispose()
