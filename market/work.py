"""Attendance and completion: 签到 (worker check-in), 完工 (employer confirms the work done).

Completion posts the employer's obligation to the ledger (``earned``) and sets the payment due
time; a worker reported absent is recorded as a no-show.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from market import ledger, texts
from market.errors import UserFacingError
from market.money import fen_to_text
from market.notify import notify_user
from market.orders import applicants, by_code, edit, ensure_owner, when_text
from market.settings import MarketSettings
from storage.models import Assignment, Order, WorkerProfile

CHECK_IN_EARLY = timedelta(hours=3)
_UNDER_WAY = ("open", "full", "in_progress")
QUANTITY_WORDS = {
    "day": "天", "half_day": "个半天", "hour": "小时", "piece": "件", "week": "周", "month": "个月", "total": "份",
}


def quantity_text(quantity_milli: int, unit: str) -> str:
    q = quantity_milli / 1000
    shown = f"{q:g}"
    return f"{shown}{QUANTITY_WORDS.get(unit, '')}"


def amount_for(wage_fen: int, quantity_milli: int) -> int:
    """Wage × quantity in integer fen, rounded half up (no float)."""
    return (wage_fen * quantity_milli + 500) // 1000


async def check_in(
    session: AsyncSession, code: str, worker_id: int, settings: MarketSettings, now: datetime
) -> Assignment:
    order = await by_code(session, code)
    a = (
        await session.execute(
            select(Assignment).where(
                Assignment.order_id == order.id, Assignment.worker_id == worker_id, Assignment.status == "confirmed"
            )
        )
    ).scalar_one_or_none()
    if a is None:
        raise UserFacingError(texts.NOT_TAKEN.format(code=code))
    if a.checked_in_at is not None:
        raise UserFacingError(texts.ALREADY_CHECKED_IN.format(code=code))
    if now < order.start_at - CHECK_IN_EARLY:
        raise UserFacingError(texts.TOO_EARLY_TO_CHECK_IN.format(when=when_text(order.start_at, settings.tz)))
    # The order's row first (see market.orders), then the assignment's.
    await edit(session, order.id, now, Order.status.in_(("open", "full")), status="in_progress")
    a.checked_in_at = now
    await session.flush()
    worker = await session.get(WorkerProfile, worker_id)
    await notify_user(
        session, order.employer_id, texts.CHECK_IN_EMPLOYER.format(name=worker.name if worker else "", code=code),
        key=f"checkin:{a.id}", now=now,
    )
    return a


async def to_complete(
    session: AsyncSession, code: str, employer_id: int
) -> tuple[Order, list[tuple[int, Assignment, WorkerProfile]]]:
    """The confirmed workers of an order still waiting for the employer's 完工, numbered as in
    the applicant list."""
    order = await by_code(session, code)
    ensure_owner(order, employer_id)
    listed = await applicants(session, order.id)
    pending = [(i, a, w) for i, (a, w) in enumerate(listed, 1) if a.status == "confirmed"]
    if not pending:
        raise UserFacingError(texts.NOTHING_TO_COMPLETE.format(code=code))
    return order, pending


async def complete(
    session: AsyncSession,
    assignment_id: int,
    employer_id: int,
    quantity_milli: int,
    settings: MarketSettings,
    now: datetime,
) -> Assignment:
    """Record the work done. 0 means the worker did not come (no-show)."""
    a = await session.get(Assignment, assignment_id)
    if a is None:
        raise UserFacingError(texts.NOTHING_TO_COMPLETE.format(code=""))
    order = await session.get(Order, a.order_id)
    assert order is not None
    ensure_owner(order, employer_id)
    if a.status != "confirmed":
        return a  # already completed: a repeated 完工 changes nothing
    if quantity_milli < 0 or quantity_milli > 1_000_000:
        raise ValueError("quantity out of range")
    # The order's row lock before the assignment's (see market.orders); then read both afresh, so
    # a take, a withdrawal or another 完工 committed meanwhile is seen by _maybe_finish_order.
    locked = await edit(session, order.id, now, Order.status.in_(_UNDER_WAY))
    await session.refresh(a)
    if a.status != "confirmed":
        return a
    if quantity_milli == 0:
        a.status = "no_show"
        a.ended_at = now
        await session.flush()
        await notify_user(
            session, a.worker_id, texts.NO_SHOW_WORKER.format(code=order.code, hotline=settings.hotline),
            key=f"noshow:{a.id}", now=now,
        )
    else:
        amount = amount_for(a.agreed_wage_fen, quantity_milli)
        a.status = "completed"
        a.completed_at = now
        a.ended_at = now
        a.quantity_milli = quantity_milli
        a.amount_due_fen = amount
        a.due_at = now + timedelta(hours=order.payment_due_hours)
        await session.flush()
        await ledger.post(
            session,
            kind="earned",
            key=f"earned:{a.id}",
            postings=[(ledger.wage_account(a.id), amount), (ledger.employer_account(order.employer_id), -amount)],
            assignment_id=a.id,
            memo=f"{order.code} {quantity_text(quantity_milli, a.wage_unit)}",
            created_by=f"user:{employer_id}",
            now=now,
        )
        await notify_user(
            session,
            a.worker_id,
            texts.COMPLETED_WORKER.format(
                code=order.code,
                quantity=quantity_text(quantity_milli, a.wage_unit),
                amount=fen_to_text(amount),
                due=when_text(a.due_at, settings.tz),
                hotline=settings.hotline,
            ),
            key=f"completed:{a.id}",
            now=now,
        )
    if locked:
        await _maybe_finish_order(session, order, now)
    return a


async def _maybe_finish_order(session: AsyncSession, order: Order, now: datetime) -> None:
    """Under the order's row lock: nobody left to complete → the order is completed."""
    remaining = (
        await session.execute(
            select(Assignment.id).where(Assignment.order_id == order.id, Assignment.status == "confirmed")
        )
    ).first()
    if remaining is None:
        await session.execute(
            update(Order).where(Order.id == order.id).values(status="completed")
            .execution_options(synchronize_session=False)
        )
    await session.refresh(order)
