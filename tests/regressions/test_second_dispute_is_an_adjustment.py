"""Found by the Hypothesis state machine: a second dispute on a job whose first outcome was 0 yuan
posted a second "earned" entry for the same assignment (it looked at the balance, not the status)."""

from __future__ import annotations

from sqlalchemy import func, select

from market import cases, ledger
from market.settings import MarketSettings
from storage.db import Database
from storage.models import LedgerTx
from tests.market import factory

S = MarketSettings()


async def test_second_dispute_adjusts(db: Database, clock) -> None:  # type: ignore[no-untyped-def]
    async with db.transaction() as s:
        boss = await factory.employer(s, "boss", clock())
        w = await factory.worker(s, "w", clock())
        aid = await factory.completed_assignment(s, boss, w, clock(), quantity_milli=500)
        from storage.models import Assignment, Order

        a = await s.get(Assignment, aid)
        code = (await s.get(Order, a.order_id)).code
        for final in (0, 32):
            case = await cases.open_dispute(s, code, w, "unpaid", "", S, clock())
            await cases.resolve_by_operator(s, case.id, final, "调解", "op", clock())
    async with db.reader() as s:
        earned = await s.scalar(select(func.count()).select_from(LedgerTx).where(LedgerTx.kind == "earned"))
        assert earned == 1
        assert await ledger.earned_total(s, aid) == 32
        assert await ledger.problems(s) == []
