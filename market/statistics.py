"""Statistics (数据存储反馈及统计分析) by day, trade and town, for the console and the bureau's
yearly evaluation (第二十条).

``breakdown`` groups raw rows in Python (days are local Asia/Shanghai days, which SQLite and
PostgreSQL cannot compute alike); ``totals`` counts the same things with plain SQL aggregates.
The two are independent, and a test holds them equal.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import String, and_, cast, func, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from market import ledger
from storage.models import Assignment, Case, Contract, LedgerPosting, LedgerTx, Order

GROUPS = ("day", "trade", "town")


@dataclass
class Metrics:
    """The counts and sums of one period, trade or town."""

    orders_posted: int = 0
    orders_filled: int = 0
    same_day_fills: int = 0
    fill_minutes_total: int = 0
    completions: int = 0
    amount_settled_fen: int = 0
    disputes_opened: int = 0
    disputes_resolved: int = 0
    resolve_hours_total: int = 0
    contracts_signed: int = 0
    contracts_insured: int = 0
    open_arrears: int = 0
    open_arrears_fen: int = 0

    @property
    def fill_rate(self) -> float | None:
        return self.orders_filled / self.orders_posted if self.orders_posted else None

    @property
    def avg_minutes_to_fill(self) -> float | None:
        return self.fill_minutes_total / self.orders_filled if self.orders_filled else None

    @property
    def avg_hours_to_resolve(self) -> float | None:
        return self.resolve_hours_total / self.disputes_resolved if self.disputes_resolved else None

    @property
    def insurance_coverage(self) -> float | None:
        return self.contracts_insured / self.contracts_signed if self.contracts_signed else None

    def add(self, other: Metrics) -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))

    def as_dict(self) -> dict[str, float | int | None]:
        out: dict[str, float | int | None] = {f.name: getattr(self, f.name) for f in fields(self)}
        out.update(
            fill_rate=self.fill_rate,
            avg_minutes_to_fill=self.avg_minutes_to_fill,
            avg_hours_to_resolve=self.avg_hours_to_resolve,
            insurance_coverage=self.insurance_coverage,
        )
        return out


@dataclass(frozen=True)
class Period:
    """A range of local days and the time zone they are counted in."""

    start: date
    end: date
    """Inclusive, local days."""
    tz: ZoneInfo = field(default_factory=lambda: ZoneInfo("Asia/Shanghai"))

    @property
    def since(self) -> datetime:
        return datetime.combine(self.start, time(0), self.tz)

    @property
    def until(self) -> datetime:
        return datetime.combine(self.end + timedelta(days=1), time(0), self.tz)

    def within(self, column):  # type: ignore[no-untyped-def]
        return and_(column >= self.since, column < self.until)


def _key(group: str, when: datetime, order: Order, tz: ZoneInfo) -> str:
    if group == "day":
        return when.astimezone(tz).date().isoformat()
    if group == "trade":
        return order.trade_id
    return order.town or "未知"


async def breakdown(session: AsyncSession, period: Period, group: str, now: datetime) -> dict[str, Metrics]:
    if group not in GROUPS:
        raise ValueError(group)
    tz = period.tz
    out: dict[str, Metrics] = defaultdict(Metrics)

    def bump(when: datetime, order: Order, fn: Callable[[Metrics], None]) -> None:
        fn(out[_key(group, when, order, tz)])

    posted = (
        await session.execute(select(Order).where(period.within(Order.created_at), Order.status != "held"))
    ).scalars()
    for o in posted:
        def count_post(m: Metrics, o: Order = o) -> None:
            m.orders_posted += 1
            if o.filled_at is not None:
                m.orders_filled += 1
                m.fill_minutes_total += int((o.filled_at - o.created_at).total_seconds() // 60)
                if o.filled_at.astimezone(tz).date() == o.created_at.astimezone(tz).date():
                    m.same_day_fills += 1

        bump(o.created_at, o, count_post)

    done = await session.execute(
        select(Assignment, Order)
        .join(Order, Order.id == Assignment.order_id)
        .where(period.within(Assignment.completed_at))
    )
    for a, o in done.all():
        bump(a.completed_at, o, lambda m: setattr(m, "completions", m.completions + 1))

    paid = await session.execute(
        select(LedgerTx, LedgerPosting.amount_fen, Order)
        .join(LedgerPosting, LedgerPosting.tx_id == LedgerTx.id)
        .join(Assignment, Assignment.id == LedgerTx.assignment_id)
        .join(Order, Order.id == Assignment.order_id)
        .where(
            LedgerTx.kind == "paid", LedgerPosting.account.startswith("wage:"), period.within(LedgerTx.created_at)
        )
    )
    for tx, amount, o in paid.all():
        bump(tx.created_at, o, lambda m, amount=amount: setattr(m, "amount_settled_fen", m.amount_settled_fen - amount))

    cases = await session.execute(
        select(Case, Order)
        .join(Order, Order.id == Case.order_id)
        .where(Case.kind == "dispute", period.within(Case.created_at))
    )
    for c, o in cases.all():
        def count_case(m: Metrics, c: Case = c) -> None:
            m.disputes_opened += 1
            if c.resolved_at is not None:
                m.disputes_resolved += 1
                m.resolve_hours_total += int((c.resolved_at - c.created_at).total_seconds() // 3600)

        bump(c.created_at, o, count_case)

    signed = await session.execute(
        select(Contract, Order)
        .join(Assignment, Assignment.id == Contract.assignment_id)
        .join(Order, Order.id == Assignment.order_id)
        .where(Contract.status == "signed", period.within(Contract.signed_at))
    )
    for c, o in signed.all():
        def count_contract(m: Metrics, c: Contract = c) -> None:
            m.contracts_signed += 1
            if c.insurance_id:
                m.contracts_insured += 1

        bump(c.signed_at, o, count_contract)

    for a, o, left in await _arrears(session, now):
        assert a.due_at is not None
        def count_arrears(m: Metrics, left: int = left) -> None:
            m.open_arrears += 1
            m.open_arrears_fen += left

        bump(a.due_at, o, count_arrears)
    return dict(out)


async def _arrears(session: AsyncSession, now: datetime) -> list[tuple[Assignment, Order, int]]:
    rows = await session.execute(
        select(Assignment, Order)
        .join(Order, Order.id == Assignment.order_id)
        .where(Assignment.status == "completed", Assignment.paid_at.is_(None), Assignment.due_at <= now)
    )
    found = []
    for a, o in rows.all():
        left = await ledger.balance(session, ledger.wage_account(a.id))
        if left > 0:
            found.append((a, o, left))
    return found


async def totals(session: AsyncSession, period: Period, now: datetime) -> Metrics:
    """The same figures with plain SQL aggregates (an independent recomputation)."""
    m = Metrics()
    m.orders_posted = int(
        await session.scalar(
            select(func.count(Order.id)).where(period.within(Order.created_at), Order.status != "held")
        )
        or 0
    )
    m.orders_filled = int(
        await session.scalar(
            select(func.count(Order.id)).where(
                period.within(Order.created_at), Order.status != "held", Order.filled_at.is_not(None)
            )
        )
        or 0
    )
    m.completions = int(
        await session.scalar(select(func.count(Assignment.id)).where(period.within(Assignment.completed_at))) or 0
    )
    m.amount_settled_fen = -int(
        await session.scalar(
            select(func.coalesce(func.sum(LedgerPosting.amount_fen), 0))
            .join(LedgerTx, LedgerTx.id == LedgerPosting.tx_id)
            .where(
                LedgerTx.kind == "paid", LedgerPosting.account.startswith("wage:"), period.within(LedgerTx.created_at)
            )
        )
        or 0
    )
    m.disputes_opened = int(
        await session.scalar(
            select(func.count(Case.id)).where(Case.kind == "dispute", period.within(Case.created_at))
        )
        or 0
    )
    m.disputes_resolved = int(
        await session.scalar(
            select(func.count(Case.id)).where(
                Case.kind == "dispute", period.within(Case.created_at), Case.resolved_at.is_not(None)
            )
        )
        or 0
    )
    m.contracts_signed = int(
        await session.scalar(
            select(func.count(Contract.id)).where(Contract.status == "signed", period.within(Contract.signed_at))
        )
        or 0
    )
    m.contracts_insured = int(
        await session.scalar(
            select(func.count(Contract.id)).where(
                Contract.status == "signed", period.within(Contract.signed_at), Contract.insurance_id != ""
            )
        )
        or 0
    )
    wage_balances = (
        select(LedgerPosting.account, func.sum(LedgerPosting.amount_fen).label("left"))
        .where(LedgerPosting.account.startswith("wage:"))
        .group_by(LedgerPosting.account)
        .subquery()
    )
    arrears = (
        await session.execute(
            select(func.count(Assignment.id), func.coalesce(func.sum(wage_balances.c.left), 0))
            .join(wage_balances, wage_balances.c.account == literal("wage:").concat(cast(Assignment.id, String)))
            .where(
                Assignment.status == "completed",
                Assignment.paid_at.is_(None),
                Assignment.due_at <= now,
                wage_balances.c.left > 0,
            )
        )
    ).one()
    m.open_arrears, m.open_arrears_fen = int(arrears[0]), int(arrears[1])
    return m


def merge(groups: dict[str, Metrics]) -> Metrics:
    total = Metrics()
    for m in groups.values():
        total.add(m)
    return total
