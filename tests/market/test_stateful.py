"""Hypothesis stateful test of orders, assignments and the ledger, on SQLite and PostgreSQL.

Rules: post, take (through the real engine, with replayed message ids), withdraw, pick, cancel,
complete, pay (replayed keys), dispute-and-settle. Invariants after every step: the ledger
balances, confirmed ≤ headcount and equals the confirmed assignments, no assignment is earned or
paid twice, and the engine's view matches a simple model.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test
from sqlalchemy import delete, func, select

from bot.app import build_services
from bot.config import AppConfig
from dialogs.events import InboundMessage
from market import cases, ledger, orders, payments, work
from market.errors import UserFacingError
from storage.base import Base
from storage.db import Database
from storage.models import Assignment, LedgerTx, Order, Payment
from tests.conftest import FakeClock
from tests.market import factory

WORKERS = 4


def make_machine(loop: asyncio.AbstractEventLoop, db: Database, cfg: AppConfig) -> type[RuleBasedStateMachine]:
    def run(coro: Any) -> Any:
        return loop.run_until_complete(coro)

    class MarketMachine(RuleBasedStateMachine):
        posted = Bundle("posted")
        taken = Bundle("taken")

        def __init__(self) -> None:
            super().__init__()
            self.clock = FakeClock(datetime(2026, 11, 26, 0, 0, tzinfo=UTC))
            self.services = build_services(cfg, db=db, clock=self.clock)
            self.settings = self.services.engine.settings.market
            self.msg_n = 0
            self.model: dict[str, dict[str, Any]] = {}

        @initialize()
        def setup(self) -> None:
            async def go() -> None:
                async with db.transaction() as s:
                    for table in reversed(Base.metadata.sorted_tables):
                        await s.execute(delete(table))
                async with db.transaction() as s:
                    self.boss = await factory.employer(s, "boss", self.clock())
                    self.workers = [await factory.worker(s, f"w{i}", self.clock()) for i in range(WORKERS)]

            run(go())

        # -- rules ------------------------------------------------------------------------------
        @rule(target=posted, headcount=st.integers(1, 3), pick=st.booleans())
        def post(self, headcount: int, pick: bool) -> str:
            async def go() -> str:
                async with db.transaction() as s:
                    o = await factory.order(s, self.boss, self.clock(), headcount=headcount, mode="pick" if pick else "first_come")
                    return o.code

            code = run(go())
            self.model[code] = {"headcount": headcount, "pick": pick, "confirmed": set(), "applied": set(), "open": True}
            return code

        @rule(target=taken, code=posted, w=st.integers(0, WORKERS - 1), replays=st.integers(1, 3))
        def take(self, code: str, w: int, replays: int) -> tuple[str, int]:
            self.msg_n += 1
            msg = InboundMessage("web", f"w{w}", f"w{w}", False, True, f"接 {code}", f"m{self.msg_n}", self.clock(), "")
            results = [run(self.services.engine.handle(msg)) for _ in range(replays)]
            assert all(r.duplicate for r in results[1:])
            assert results[0].outcome in ("ok", "refused")
            m = self.model[code]
            if m["open"] and w not in m["confirmed"] and w not in m["applied"]:
                if m["pick"]:
                    m["applied"].add(w)
                elif len(m["confirmed"]) < m["headcount"]:
                    m["confirmed"].add(w)
            return (code, w)

        @rule(pair=taken)
        def withdraw(self, pair: tuple[str, int]) -> None:
            code, w = pair

            async def go() -> None:
                async with db.transaction() as s:
                    await orders.withdraw(s, code, self.workers[w], self.clock())

            try:
                run(go())
            except UserFacingError:
                return
            self.model[code]["confirmed"].discard(w)
            self.model[code]["applied"].discard(w)

        @rule(code=posted, n=st.integers(1, WORKERS))
        def pick(self, code: str, n: int) -> None:
            async def go() -> int:
                async with db.transaction() as s:
                    a = await orders.pick(s, code, self.boss, n, self.clock(), self.settings.tz)
                    return self.workers.index(a.worker_id)

            try:
                w = run(go())
            except UserFacingError:
                return
            self.model[code]["applied"].discard(w)
            self.model[code]["confirmed"].add(w)

        @rule(code=posted)
        def cancel(self, code: str) -> None:
            async def go() -> None:
                async with db.transaction() as s:
                    await orders.cancel_order(s, code, self.boss, self.clock())

            try:
                run(go())
            except UserFacingError:
                return
            self.model[code].update(open=False, confirmed=set(), applied=set())

        @rule(code=posted, qty=st.sampled_from([0, 500, 1000, 1500]))
        def complete(self, code: str, qty: int) -> None:
            async def go() -> None:
                async with db.transaction() as s:
                    _o, pending = await work.to_complete(s, code, self.boss)
                    for _n, a, _w in pending:
                        await work.complete(s, a.id, self.boss, qty, self.settings, self.clock())

            try:
                run(go())
            except UserFacingError:
                return
            m = self.model[code]
            m.update(open=False, confirmed=set(), applied=set())

        @rule(code=posted, fraction=st.sampled_from([1, 2]), replays=st.integers(1, 3), key=st.integers(0, 3))
        def pay_cash(self, code: str, fraction: int, replays: int, key: int) -> None:
            async def go() -> None:
                async with db.reader() as s:
                    o = (await s.execute(select(Order).where(Order.code == code))).scalar_one()
                    done = list((await s.execute(select(Assignment).where(Assignment.order_id == o.id, Assignment.status == "completed"))).scalars())
                for a in done:
                    for _ in range(replays):
                        async with db.reader() as s:
                            left = await payments.outstanding(s, a.id)
                        if left <= 0:
                            break
                        try:
                            async with db.transaction() as s:
                                await payments.record_cash(
                                    s, a.id, max(1, left // fraction), key=f"{a.id}:{key}", operator="op", now=self.clock()
                                )
                        except UserFacingError:
                            pass

            run(go())

        @rule(code=posted, final=st.integers(0, 60000))
        def dispute_settled_by_operator(self, code: str, final: int) -> None:
            async def go() -> None:
                async with db.reader() as s:
                    o = (await s.execute(select(Order).where(Order.code == code))).scalar_one()
                    a = (await s.execute(select(Assignment).where(Assignment.order_id == o.id, Assignment.status == "completed"))).scalars().first()
                if a is None:
                    return
                try:
                    async with db.transaction() as s:
                        case = await cases.open_dispute(s, code, a.worker_id, "unpaid", "", self.settings, self.clock())
                        await cases.resolve_by_operator(s, case.id, final, "调解", "op", self.clock())
                except UserFacingError:
                    pass

            run(go())

        @rule(hours=st.integers(1, 30))
        def time_passes(self, hours: int) -> None:
            self.clock.advance(hours=hours)

        # -- invariants -------------------------------------------------------------------------
        @invariant()
        def consistent(self) -> None:
            if not hasattr(self, "boss"):
                return

            async def go() -> None:
                async with db.reader() as s:
                    assert await ledger.problems(s) == []
                    for o in (await s.execute(select(Order))).scalars():
                        assert 0 <= o.confirmed <= o.headcount
                        rows = list((await s.execute(select(Assignment).where(Assignment.order_id == o.id))).scalars())
                        if o.status in ("open", "full"):
                            assert o.confirmed == sum(a.status == "confirmed" for a in rows)
                            m = self.model[o.code]
                            confirmed = {self.workers.index(a.worker_id) for a in rows if a.status == "confirmed"}
                            assert confirmed == m["confirmed"], (o.code, confirmed, m)
                        assert (o.status == "full") == (o.status == "full" and o.confirmed == o.headcount)
                    earned = (await s.execute(
                        select(LedgerTx.assignment_id, func.count()).where(LedgerTx.kind == "earned").group_by(LedgerTx.assignment_id)
                    )).all()
                    assert all(n == 1 for _a, n in earned)
                    paid_txs = await s.scalar(select(func.count()).select_from(LedgerTx).where(LedgerTx.kind == "paid"))
                    confirmed_payments = await s.scalar(select(func.count()).select_from(Payment).where(Payment.status == "confirmed"))
                    assert paid_txs == confirmed_payments

            run(go())

    return MarketMachine


def test_market_state_machine(db_url: str, cfg: AppConfig) -> None:
    loop = asyncio.new_event_loop()
    db = Database(db_url)
    try:
        machine = make_machine(loop, db, cfg)
        run_state_machine_as_test(
            machine,
            settings=settings(
                max_examples=25, stateful_step_count=25, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
            ),
        )
    finally:
        loop.run_until_complete(db.dispose())
        loop.close()
