"""Engine guarantees: order under concurrency, one effect per message id, the error boundary,
and one transaction per message (state and replies commit together)."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from dialogs.base import DialogContext, Flow, State, Step
from dialogs.engine import DialogEngine, KeyedLocks, Settings
from dialogs.events import InboundMessage
from market.errors import UserFacingError
from storage.db import Database
from storage.models import DialogStateRow, InboundRecord, OutboxRow
from storage.repositories import OutboxRepository


async def _start(_ctx: DialogContext) -> Step:
    return Step.to("collect", "开始")


async def _collect(ctx: DialogContext) -> Step:
    if ctx.text == "boom":
        ctx.data["seen"] = ["should be rolled back"]
        raise RuntimeError("secret internal detail")
    if ctx.text == "refuse":
        raise UserFacingError("这单已经满了")
    if ctx.text == "write-boom":  # a write through the per-message fast path, then a failure
        await OutboxRepository(ctx.session).enqueue(
            channel="web", chat_id="someone", text="half-done", idempotency_key="partial", now=ctx.now
        )
        raise RuntimeError("failed after writing")
    ctx.data.setdefault("seen", []).append(ctx.text)
    return Step(replies=[f"收到{ctx.text}"], state="collect", ask=False)


COLLECT = Flow(
    name="collect",
    title="收集",
    start=_start,
    states={"collect": State("collect", lambda _c: "", _collect)},
)
MENU = Flow(name="menu", title="菜单", start=_start, states={"collect": COLLECT.states["collect"]})


def _engine(db: Database, clock) -> DialogEngine:  # type: ignore[no-untyped-def]
    return DialogEngine(
        db,
        {"collect": COLLECT, "menu": MENU},
        Settings(expire_after=timedelta(minutes=30)),
        entry={"menu": "menu", "register_worker": "collect"},
        clock=clock,
    )


def _msg(text: str, mid: str, clock, user: str = "u1") -> InboundMessage:  # type: ignore[no-untyped-def]
    return InboundMessage("web", user, user, False, True, text, mid, clock(), "测")


async def _seen(db: Database) -> list[str]:
    async with db.reader() as s:
        row = (await s.execute(select(DialogStateRow))).scalar_one()
    return list(row.data["seen"])


async def test_fifty_messages_at_once_processed_in_order(db: Database, clock) -> None:  # type: ignore[no-untyped-def]
    engine = _engine(db, clock)
    await engine.handle(_msg("登记", "start", clock))
    msgs = [_msg(f"m{i:02d}", f"id{i}", clock) for i in range(50)]
    results = await asyncio.gather(*(engine.handle(m) for m in msgs))
    assert all(not r.duplicate for r in results)
    assert await _seen(db) == [f"m{i:02d}" for i in range(50)]
    assert len(engine.locks) == 0  # idle locks are dropped
    async with db.reader() as s:
        assert await s.scalar(select(func.count()).select_from(InboundRecord)) == 51
        assert await s.scalar(select(func.count()).select_from(OutboxRow)) == 51


async def test_fifty_duplicates_have_one_effect(db: Database, clock) -> None:  # type: ignore[no-untyped-def]
    engine = _engine(db, clock)
    await engine.handle(_msg("登记", "start", clock))
    same = [_msg("dupe", "dup-1", clock) for _ in range(50)]
    results = await asyncio.gather(*(engine.handle(m) for m in same))
    assert sum(not r.duplicate for r in results) == 1
    assert await _seen(db) == ["dupe"]
    async with db.reader() as s:
        texts = (await s.execute(select(OutboxRow.text).order_by(OutboxRow.id))).scalars().all()
    assert texts == ["开始", "收到dupe"]


async def test_unexpected_error_apologises_and_rolls_back_the_step(
    db: Database, clock, caplog: pytest.LogCaptureFixture  # type: ignore[no-untyped-def]
) -> None:
    engine = _engine(db, clock)
    await engine.handle(_msg("登记", "start", clock))
    await engine.handle(_msg("a", "m1", clock))
    with caplog.at_level(logging.ERROR, logger="dialogs.engine"):
        result = await engine.handle(_msg("boom", "m2", clock))
    [reply] = result.replies
    assert "抱歉" in reply.text and "secret" not in reply.text and "Traceback" not in reply.text
    assert any("u1" in r.getMessage() and r.exc_info for r in caplog.records)
    assert await _seen(db) == ["a"]  # the failed step's change did not stick
    again = await engine.handle(_msg("boom", "m2", clock))  # the platform retries
    assert again.duplicate  # counted as handled: no second apology
    async with db.reader() as s:
        outcome = await s.scalar(select(InboundRecord.outcome).where(InboundRecord.message_id == "m2"))
    assert outcome == "error"


async def test_a_failed_step_loses_its_writes_but_the_message_counts(db: Database, clock) -> None:  # type: ignore[no-untyped-def]
    engine = _engine(db, clock)
    await engine.handle(_msg("登记", "start", clock))
    result = await engine.handle(_msg("write-boom", "m3", clock))
    assert "抱歉" in result.replies[0].text
    async with db.reader() as s:
        partial = await s.scalar(select(func.count()).select_from(OutboxRow).where(OutboxRow.idempotency_key == "partial"))
        recorded = await s.scalar(select(InboundRecord.outcome).where(InboundRecord.message_id == "m3"))
    assert partial == 0 and recorded == "error"


async def test_business_refusal_gets_its_own_message(db: Database, clock) -> None:  # type: ignore[no-untyped-def]
    engine = _engine(db, clock)
    await engine.handle(_msg("登记", "start", clock))
    result = await engine.handle(_msg("refuse", "m1", clock))
    assert [r.text for r in result.replies] == ["这单已经满了"]


async def test_replies_and_state_commit_together(db: Database, clock, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """If writing the outbox fails, the dialog state does not move and the id is not spent."""
    engine = _engine(db, clock)
    await engine.handle(_msg("登记", "start", clock))

    from storage.repositories import OutboxRepository

    async def broken(*_a, **_k):  # type: ignore[no-untyped-def]
        raise ConnectionError("disk gone")

    monkeypatch.setattr(OutboxRepository, "enqueue", broken)
    with pytest.raises(ConnectionError):
        await engine.handle(_msg("x", "m1", clock))
    monkeypatch.undo()
    assert "seen" not in (await _state_data(db))
    result = await engine.handle(_msg("x", "m1", clock))  # the retry runs for real
    assert not result.duplicate
    assert await _seen(db) == ["x"]


async def _state_data(db: Database) -> dict:  # type: ignore[type-arg]
    async with db.reader() as s:
        row = (await s.execute(select(DialogStateRow))).scalar_one()
    return dict(row.data)


async def test_different_users_do_not_block_each_other(db: Database, clock) -> None:  # type: ignore[no-untyped-def]
    engine = _engine(db, clock)
    msgs = [_msg("登记", f"s{u}", clock, user=f"user{u}") for u in range(20)]
    results = await asyncio.gather(*(engine.handle(m) for m in msgs))
    assert all(r.replies[0].text == "开始" for r in results)


async def test_keyed_locks_serialise_per_key() -> None:
    locks = KeyedLocks()
    order: list[str] = []

    async def work(key: str, tag: str) -> None:
        async with locks.hold(key):
            order.append(f"{tag}<")
            await asyncio.sleep(0.01)
            order.append(f"{tag}>")

    await asyncio.gather(work("a", "1"), work("a", "2"), work("b", "3"))
    assert order.index("1>") < order.index("2<")
    assert order.index("3<") < order.index("1>")  # another key runs meanwhile
    assert len(locks) == 0
