"""Payment and wage settlement (雇主支付款项, 工资结算) and the wage-arrears alarm (欠薪预警).

The platform records money; it does not hold it. An employer records a payment (``claimed``);
the worker confirms it (已收到) and only then is it posted to the ledger. An operator may record
cash paid at the hall, posted at once. Every payment carries an idempotency key: the same key
twice is one payment.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from market import ledger, texts
from market.errors import UserFacingError
from market.money import fen_to_text
from market.notify import notify_user
from market.orders import applicants, by_code, edit, ensure_owner, when_text
from market.settings import MarketSettings
from storage.models import Assignment, Case, Order, Payment, WorkerProfile
from storage.repositories import PaymentRepository


async def outstanding(session: AsyncSession, assignment_id: int) -> int:
    return await ledger.balance(session, ledger.wage_account(assignment_id))


async def _settle_if_paid(session: AsyncSession, a: Assignment, order: Order, now: datetime) -> bool:
    if a.status != "completed" or a.paid_at is not None:
        return False
    if await outstanding(session, a.id) != 0:
        return False
    a.paid_at = now
    await session.flush()
    listed = await _numbered(session, order.id)
    number = next((i for i, x in enumerate(listed, 1) if x.id == a.id), 0)
    worker = await session.get(WorkerProfile, a.worker_id)
    await notify_user(
        session, a.worker_id, texts.PAID_IN_FULL.format(code=order.code, amount=fen_to_text(a.amount_due_fen or 0)),
        key=f"settled:{a.id}:worker", now=now,
    )
    await notify_user(
        session, order.employer_id,
        texts.PAID_IN_FULL_EMPLOYER.format(code=order.code, name=worker.name if worker else "", n=number),
        key=f"settled:{a.id}:employer", now=now,
    )
    # The order's row lock first (see market.orders), then who is still unpaid: two workers'
    # 已收到 at once must not each see the other unpaid and leave the order open for ever.
    if not await edit(session, order.id, now, Order.status == "completed"):
        return True
    open_left = (
        await session.execute(
            select(Assignment.id).where(
                Assignment.order_id == order.id,
                Assignment.status.in_(("confirmed", "completed")),
                Assignment.paid_at.is_(None),
            )
        )
    ).first()
    if open_left is None:
        await session.execute(
            update(Order).where(Order.id == order.id).values(status="closed", closed_at=now)
            .execution_options(synchronize_session=False)
        )
    await session.refresh(order)
    return True


async def _numbered(session: AsyncSession, order_id: int) -> list[Assignment]:
    return [a for a, _w in await applicants(session, order_id)]


async def _post_payment(session: AsyncSession, p: Payment, order: Order, now: datetime, by: str) -> None:
    left = await outstanding(session, p.assignment_id)
    if p.amount_fen > left:
        raise UserFacingError(texts.OVERPAY.format(left=fen_to_text(left)))
    await ledger.post(
        session,
        kind="paid",
        key=f"pay:{p.id}",
        postings=[
            (ledger.wage_account(p.assignment_id), -p.amount_fen),
            (ledger.employer_account(order.employer_id), p.amount_fen),
        ],
        assignment_id=p.assignment_id,
        memo=f"{order.code} {p.method}",
        created_by=by,
        now=now,
    )
    p.status = "confirmed"
    p.confirmed_at = now
    await session.flush()


async def claim_payment(
    session: AsyncSession,
    code: str,
    employer_id: int,
    n: int | None,
    amount_fen: int | None,
    *,
    key: str,
    now: datetime,
) -> list[Payment]:
    """已付: the employer records paying one worker (``n``) or everyone still owed."""
    order = await by_code(session, code)
    ensure_owner(order, employer_id)
    listed = await _numbered(session, order.id)
    if n is not None:
        if not 1 <= n <= len(listed):
            raise UserFacingError(texts.NO_SUCH_APPLICANT.format(n=n))
        targets = [listed[n - 1]]
    else:
        targets = [a for a in listed if a.status == "completed" and a.paid_at is None]
    made: list[Payment] = []
    for a in targets:
        if a.status != "completed":
            raise UserFacingError(texts.NOT_COMPLETED_YET.format(code=code))
        left = await outstanding(session, a.id)
        pending = sum(
            p.amount_fen
            for p in (
                await session.execute(select(Payment).where(Payment.assignment_id == a.id, Payment.status == "claimed"))
            ).scalars()
        )
        amount = amount_fen if amount_fen is not None else left - pending
        if amount <= 0:
            continue
        if amount > left - pending:
            raise UserFacingError(texts.OVERPAY.format(left=fen_to_text(left - pending)))
        pid = await PaymentRepository(session).claim_once(
            assignment_id=a.id, amount_fen=amount, method="employer", recorded_by=f"user:{employer_id}",
            key=f"{key}:{a.id}", now=now,
        )
        if pid is None:
            continue
        payment = await session.get(Payment, pid)
        assert payment is not None
        made.append(payment)
        await notify_user(
            session, a.worker_id, texts.PAYMENT_CLAIMED_WORKER.format(amount=fen_to_text(amount), code=code),
            key=f"claimed:{pid}", now=now,
        )
    if not made:
        raise UserFacingError(texts.NOTHING_OWED.format(code=code))
    return made


async def _worker_claims(session: AsyncSession, code: str, worker_id: int) -> tuple[Order, Assignment, list[Payment]]:
    order = await by_code(session, code)
    a = (
        await session.execute(
            select(Assignment).where(Assignment.order_id == order.id, Assignment.worker_id == worker_id)
        )
    ).scalar_one_or_none()
    if a is None:
        raise UserFacingError(texts.NOT_TAKEN.format(code=code))
    claims = list(
        (
            await session.execute(
                select(Payment).where(Payment.assignment_id == a.id, Payment.status == "claimed").order_by(Payment.id)
            )
        ).scalars()
    )
    if not claims:
        raise UserFacingError(texts.NO_CLAIMED_PAYMENT.format(code=code))
    return order, a, claims


async def confirm_received(session: AsyncSession, code: str, worker_id: int, now: datetime) -> int:
    """已收到: the worker confirms every payment the employer recorded; returns the amount."""
    order, a, claims = await _worker_claims(session, code, worker_id)
    total = 0
    worker = await session.get(WorkerProfile, worker_id)
    for p in claims:
        await _post_payment(session, p, order, now, by=f"user:{worker_id}")
        total += p.amount_fen
    left = await outstanding(session, a.id)
    await notify_user(
        session,
        order.employer_id,
        texts.PAYMENT_CONFIRMED_EMPLOYER.format(
            name=worker.name if worker else "", amount=fen_to_text(total), code=code, left=fen_to_text(left)
        ),
        key=f"received:{claims[-1].id}",
        now=now,
    )
    await _settle_if_paid(session, a, order, now)
    return total


async def reject_claim(session: AsyncSession, code: str, worker_id: int, now: datetime) -> int:
    """没收到: the worker denies the recorded payments; the employer is told."""
    order, _a, claims = await _worker_claims(session, code, worker_id)
    worker = await session.get(WorkerProfile, worker_id)
    total = 0
    for p in claims:
        p.status = "rejected"
        total += p.amount_fen
    await session.flush()
    await notify_user(
        session, order.employer_id,
        texts.PAYMENT_REJECTED_EMPLOYER.format(
            name=worker.name if worker else "", amount=fen_to_text(total), code=code
        ),
        key=f"rejected:{claims[-1].id}", now=now,
    )
    return total


async def record_cash(
    session: AsyncSession, assignment_id: int, amount_fen: int, *, key: str, operator: str, now: datetime
) -> Payment | None:
    """An operator records cash paid at the hall: posted at once. The same ``key`` twice is one
    payment (returns None the second time)."""
    a = await session.get(Assignment, assignment_id)
    if a is None:
        raise UserFacingError(f"没有编号为 {assignment_id} 的派工。")
    order = await session.get(Order, a.order_id)
    assert order is not None
    if a.status != "completed":
        raise UserFacingError(texts.NOT_COMPLETED_YET.format(code=order.code))
    pid = await PaymentRepository(session).claim_once(
        assignment_id=a.id, amount_fen=amount_fen, method="cash_hall", recorded_by=operator, key=key, now=now
    )
    if pid is None:
        return None
    payment = await session.get(Payment, pid)
    assert payment is not None
    await _post_payment(session, payment, order, now, by=operator)
    await _settle_if_paid(session, a, order, now)
    return payment


@dataclass(frozen=True)
class ArrearsRun:
    """What one 欠薪预警 run did: employers reminded, cases escalated."""

    reminded: int
    escalated: int


async def check_arrears(session: AsyncSession, settings: MarketSettings, now: datetime) -> ArrearsRun:
    """欠薪预警: completed jobs unpaid past their due time. First the employer is reminded and
    the worker told what to do; if still unpaid after ``arrears_escalate_hours``, a case goes to
    the operator's queue. Each step happens once per job."""
    rows = list(
        (
            await session.execute(
                select(Assignment, Order)
                .join(Order, Order.id == Assignment.order_id)
                .where(
                    Assignment.status == "completed",
                    Assignment.paid_at.is_(None),
                    Assignment.due_at <= now,
                    Assignment.arrears_stage < 2,
                )
                .order_by(Assignment.id)
            )
        ).all()
    )
    reminded = escalated = 0
    for a, order in rows:
        left = await outstanding(session, a.id)
        if left <= 0:
            continue
        worker = await session.get(WorkerProfile, a.worker_id)
        listed = await _numbered(session, order.id)
        n = next((i for i, x in enumerate(listed, 1) if x.id == a.id), 0)
        assert a.due_at is not None
        if a.arrears_stage == 0:
            await notify_user(
                session, order.employer_id,
                texts.ARREARS_EMPLOYER.format(
                    code=order.code, name=worker.name if worker else "", left=fen_to_text(left),
                    due=when_text(a.due_at, settings.tz), n=n,
                ),
                key=f"arrears1:{a.id}:employer", now=now,
            )
            await notify_user(
                session, a.worker_id,
                texts.ARREARS_WORKER.format(code=order.code, left=fen_to_text(left), hotline=settings.hotline),
                key=f"arrears1:{a.id}:worker", now=now,
            )
            a.arrears_stage = 1
            reminded += 1
        elif now >= a.due_at + timedelta(hours=settings.arrears_escalate_hours):
            case = Case(
                kind="arrears",
                reason="unpaid",
                assignment_id=a.id,
                order_id=order.id,
                opened_by=None,
                against=order.employer_id,
                description=f"欠薪 {fen_to_text(left)}，期限 {when_text(a.due_at, settings.tz)}",
                status="mediation",
                created_at=now,
                escalated_at=now,
            )
            session.add(case)
            await session.flush()
            await notify_user(
                session, a.worker_id,
                texts.ARREARS_ESCALATED_WORKER.format(code=order.code, case=case.id, hotline=settings.hotline),
                key=f"arrears2:{a.id}", now=now,
            )
            a.arrears_stage = 2
            escalated += 1
        await session.flush()
    return ArrearsRun(reminded, escalated)
