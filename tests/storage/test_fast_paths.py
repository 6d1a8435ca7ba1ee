"""The per-message fast paths give the same answers as SQLAlchemy's own paths.

* ``HotStatement`` (straight to ``sqlite3`` on the inline dialect) against the rows as queued and,
  on SQLite, against ``session.execute`` of the same statement; on PostgreSQL a hot statement *is*
  ``session.execute``, so there the rows as queued are what its answers are checked against;
* ``UTCDateTime``'s one-step SQLite text against SQLAlchemy's two-step processing (Hypothesis);
* group commit: writers queued together share one commit, a failing writer loses only its own
  changes, nobody returns before the commit, a lone writer commits at once.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.dialects.sqlite import DATETIME
from sqlalchemy.dialects.sqlite.pysqlite import SQLiteDialect_pysqlite

from storage.base import UTCDateTime
from storage.db import Database
from storage.models import InboundRecord, OutboxRow
from storage.repositories import DialogStateRepository, OutboxRepository
from storage.repositories.dialog_state import StaleDialogState
from storage.sqlite.hot import HotStatement

T0 = datetime(2026, 11, 26, 1, 2, 3, 456789, tzinfo=UTC)
_OUT = OutboxRow.__table__


def _queued(i: int) -> tuple[str, str, list[str], datetime]:
    """The i-th row ``_queue`` writes: chat, text, mentions, created_at."""
    return f"c{i % 3}", f"第{i}条", [f"u{i}"] if i % 2 else [], T0 + timedelta(seconds=i)


async def _queue(db: Database, n: int) -> list[int]:
    """Queue n outbox rows (see ``_queued``); their ids."""
    ids = []
    async with db.transaction() as s:
        for i in range(n):
            chat_id, text, mentions, created_at = _queued(i)
            row_id = await OutboxRepository(s).enqueue(
                channel="web", chat_id=chat_id, text=text, idempotency_key=f"k{i}",
                mention_user_ids=mentions, now=created_at,
            )
            assert row_id is not None
            ids.append(row_id)
    return ids


async def test_hot_select_gives_the_queued_rows(db: Database) -> None:
    ids = await _queue(db, 7)
    stmt = (
        select(_OUT.c.id, _OUT.c.chat_id, _OUT.c.text, _OUT.c.mention_user_ids, _OUT.c.created_at)
        .where(_OUT.c.chat_id == bindparam("p_chat"), _OUT.c.status == "queued")
        .order_by(_OUT.c.id)
        .limit(2)
    )
    hot = HotStatement(stmt)
    async with db.transaction() as s:
        for chat in ("c0", "c1", "nobody"):
            fast = (await hot.execute(s, {"p_chat": chat})).rows
            expected = [(ids[i], *_queued(i)) for i in range(7) if _queued(i)[0] == chat][:2]
            assert fast == expected
            assert all(isinstance(r[3], list) and r[4].tzinfo is UTC for r in fast)
            if db.is_sqlite:  # the fast path: it must agree with SQLAlchemy's own
                assert fast == [tuple(r) for r in await s.execute(stmt, {"p_chat": chat})]
    assert fast == []  # "nobody" has no rows


async def test_hot_insert_applies_column_defaults_and_update_counts_rows(db: Database) -> None:
    ins = HotStatement(insert(InboundRecord.__table__).returning(InboundRecord.id))
    upd = HotStatement(
        update(_OUT).where(_OUT.c.chat_id == bindparam("p_chat")).values(status="dead")
    )
    await _queue(db, 6)
    async with db.transaction() as s:
        new_id = (
            await ins.execute(
                s,
                {"channel": "web", "message_id": "m1", "chat_id": "c", "user_id": "u",
                 "received_at": T0},
            )
        ).scalar_one()
        changed = (await upd.execute(s, {"p_chat": "c1"})).rowcount
    async with db.reader() as s:
        row = await s.get(InboundRecord, new_id)
        dead = await s.scalar(select(func.count()).select_from(_OUT).where(_OUT.c.status == "dead"))
    assert row is not None and row.outcome == "ok" and row.processed_at.tzinfo is UTC
    assert changed == dead == 2


async def test_hot_statement_sees_pending_orm_changes(db: Database) -> None:
    """Like Session.execute, a hot statement flushes what the session holds first."""
    count = HotStatement(select(func.count()).select_from(_OUT))
    async with db.transaction() as s:
        s.add(OutboxRow(channel="web", chat_id="c", text="x", idempotency_key="orm-1",
                        next_attempt_at=T0, created_at=T0))
        assert (await count.execute(s, {})).scalar() == 1


async def test_dialog_state_versions_are_checked(db: Database) -> None:
    async with db.transaction() as s:
        repo = DialogStateRepository(s)
        first = await repo.save(None, channel="web", chat_id="c", user_id="u", dialog="d",
                                state="a", data={"x": [1]}, expires_at=T0, now=T0)
        second = await repo.save(first, channel="web", chat_id="c", user_id="u", dialog="d",
                                 state="b", data={"x": [1, 2]}, expires_at=T0, now=T0)
        assert (second.version, second.state) == (2, "b")
        with pytest.raises(StaleDialogState):
            await repo.save(first, channel="web", chat_id="c", user_id="u", dialog="d",
                            state="c", data={}, expires_at=T0, now=T0)
        got = await repo.get("web", "c", "u")
    assert got == second


@settings(max_examples=300, deadline=None)
@given(
    st.datetimes(
        # hypothesis takes naive bounds and adds the time zones itself
        min_value=datetime(1900, 1, 1), max_value=datetime(2200, 1, 1),  # noqa: DTZ001
        timezones=st.sampled_from([
            UTC, timezone(timedelta(hours=8)), timezone(timedelta(hours=-5, minutes=-30)), ZoneInfo("Asia/Shanghai"),
        ]),
    )
)
def test_sqlite_datetime_text_is_sqlalchemys(value: datetime) -> None:
    # One processor for every example: its cache sees the same instant in other time zones.
    theirs = DATETIME().bind_processor(_SQLITE)
    expected = theirs(value.astimezone(UTC).replace(tzinfo=None))
    assert _OURS(value) == expected
    assert _OURS(value.astimezone(timezone(timedelta(hours=3)))) == expected  # the same instant


_SQLITE = SQLiteDialect_pysqlite()
_OURS = UTCDateTime().dialect_impl(_SQLITE).bind_processor(_SQLITE)


def test_sqlite_datetime_refuses_naive_times() -> None:
    ours = UTCDateTime().dialect_impl(_SQLITE).bind_processor(_SQLITE)
    aware = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
    assert ours(aware) == "2026-11-26 08:00:00.000000"
    with pytest.raises(ValueError):
        ours(aware.replace(tzinfo=None))  # the same wall time, cached as aware: still refused


# --------------------------------------------------------------------------- group commit
@pytest.fixture(params=["inline", "aiosqlite-thread"])
def sqlite_db(request, tmp_path, sqlite_template) -> Database:  # type: ignore[no-untyped-def]
    """SQLite both ways: on the event loop (the default) and through aiosqlite's thread."""
    import shutil

    path = tmp_path / "g.db"
    shutil.copy(sqlite_template, path)
    return Database(f"sqlite+aiosqlite:///{path}", sqlite_inline=request.param == "inline")


async def _count(db: Database) -> int:
    async with db.reader() as s:
        return int(await s.scalar(select(func.count()).select_from(_OUT)) or 0)


async def test_queued_writers_share_commits_and_a_failure_stays_its_own(sqlite_db: Database) -> None:
    db = sqlite_db
    group = db._group
    assert group is not None
    returned: list[int] = []

    async def writer(i: int) -> None:
        async with db.transaction() as s:
            await OutboxRepository(s).enqueue(channel="web", chat_id="c", text=str(i),
                                              idempotency_key=f"g{i}", now=T0)
            await asyncio.sleep(0)  # others queue up meanwhile
            if i == 7:
                raise RuntimeError("this writer fails")
        # Returning means durable: a fresh connection already sees the row.
        async with db.reader() as s:
            seen = await s.scalar(select(func.count()).select_from(_OUT).where(_OUT.c.idempotency_key == f"g{i}"))
        assert seen == 1
        returned.append(i)

    results = await asyncio.gather(*(writer(i) for i in range(40)), return_exceptions=True)
    failed = [i for i, r in enumerate(results) if isinstance(r, Exception)]
    assert failed == [7] and str(results[7]) == "this writer fails"
    assert sorted(returned) == [i for i in range(40) if i != 7]
    assert await _count(db) == 39
    assert group.batches < 20  # 40 writers, far fewer commits (max 32 per batch)
    await db.dispose()


async def test_a_lone_writer_commits_at_once(sqlite_db: Database) -> None:
    db = sqlite_db
    async with db.transaction() as s:
        await OutboxRepository(s).enqueue(channel="web", chat_id="c", text="x",
                                          idempotency_key="solo", now=T0)
    assert await _count(db) == 1
    assert db._group is not None and db._group.batches == 1
    await db.dispose()


async def test_a_failed_commit_fails_every_writer_of_the_batch(sqlite_db: Database, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    db = sqlite_db
    group = db._group
    assert group is not None
    from sqlalchemy.ext.asyncio import AsyncTransaction

    real_commit = AsyncTransaction.commit

    async def broken(self: AsyncTransaction) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(AsyncTransaction, "commit", broken)

    async def writer(i: int) -> None:
        async with db.transaction() as s:
            await OutboxRepository(s).enqueue(channel="web", chat_id="c", text=str(i),
                                              idempotency_key=f"f{i}", now=T0)
            await asyncio.sleep(0)

    results = await asyncio.gather(*(writer(i) for i in range(5)), return_exceptions=True)
    assert all(isinstance(r, OSError) for r in results)
    monkeypatch.setattr(AsyncTransaction, "commit", real_commit)
    assert await _count(db) == 0
    await writer(99)  # the next batch works on a fresh connection
    assert await _count(db) == 1
    await db.dispose()


async def test_cancelled_writer_leaves_the_others_committed(sqlite_db: Database) -> None:
    db = sqlite_db
    gate = asyncio.Event()

    async def slow() -> None:
        async with db.transaction() as s:
            await OutboxRepository(s).enqueue(channel="web", chat_id="c", text="slow",
                                              idempotency_key="slow", now=T0)
            await gate.wait()

    async def queued(i: int) -> None:
        async with db.transaction() as s:
            await OutboxRepository(s).enqueue(channel="web", chat_id="c", text=str(i),
                                              idempotency_key=f"q{i}", now=T0)

    first = asyncio.create_task(slow())
    await asyncio.sleep(0.01)
    doomed = asyncio.create_task(queued(1))  # waits for the writer lock …
    kept = asyncio.create_task(queued(2))
    await asyncio.sleep(0.01)
    doomed.cancel()  # … and gives up
    gate.set()
    await asyncio.wait_for(asyncio.gather(first, kept), timeout=5)
    with pytest.raises(asyncio.CancelledError):
        await doomed
    assert await _count(db) == 2
    await db.dispose()


async def test_nested_savepoints_roll_back_the_right_level(db: Database) -> None:
    """Savepoints reuse a few names on SQLite (storage.sqlite.inline_sqlite): nesting, rolling back an
    inner one and opening more afterwards still undoes exactly the right work."""

    async def add(s, key: str) -> None:  # type: ignore[no-untyped-def]
        await OutboxRepository(s).enqueue(channel="web", chat_id="c", text=key,
                                          idempotency_key=key, now=T0)

    async with db.transaction() as s:
        await add(s, "outer")
        for i in range(6):  # more savepoints than there are names
            async with s.begin_nested():
                await add(s, f"kept{i}")
                with pytest.raises(RuntimeError):
                    async with s.begin_nested():
                        await add(s, f"undone{i}")
                        async with s.begin_nested():
                            await add(s, f"undone-deeper{i}")
                        raise RuntimeError("roll this level back")
                async with s.begin_nested():
                    await add(s, f"kept-after{i}")
    async with db.reader() as s:
        keys = set((await s.execute(select(_OUT.c.idempotency_key))).scalars())
    assert keys == {"outer"} | {f"kept{i}" for i in range(6)} | {f"kept-after{i}" for i in range(6)}
