"""Unfinished-task negotiation and complaints (任务未完成协商及投诉). See dialogs/dispute.mmd.

A dispute is about one assignment: either side opens it, the other is asked to respond, they
exchange offers of what the worker should be owed in total (方案 / 同意方案). Agreement resolves
it and the difference is posted to the ledger as an ``adjust`` transaction. Unresolved after
``dispute_respond_hours`` it goes to the operator's mediation queue, where an operator records the
outcome. Complaints about a post or an employer (fake post, 黑中介) go straight to that queue.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from market import ledger, texts
from market.errors import UserFacingError
from market.money import fen_to_text
from market.notify import notify_user
from market.orders import applicants, by_code
from market.settings import MarketSettings
from storage.models import Assignment, Case, CaseEvent, Order

DISPUTE_REASONS = ("unfinished", "unpaid", "quality", "safety", "other")
COMPLAINT_REASONS = ("fake_post", "black_broker")
OPEN_STATES = ("open", "negotiating", "mediation")


async def _assignment_for(
    session: AsyncSession, order: Order, user_id: int, n: int | None
) -> Assignment:
    if order.employer_id == user_id:
        listed = [a for a, _w in await applicants(session, order.id)]
        usable = [a for a in listed if a.status in ("confirmed", "completed", "no_show")]
        if n is None:
            if len(usable) != 1:
                raise UserFacingError(texts.PICK_WHICH.format(code=order.code))
            return usable[0]
        if not 1 <= n <= len(listed):
            raise UserFacingError(texts.NO_SUCH_APPLICANT.format(n=n))
        return listed[n - 1]
    a = (
        await session.execute(select(Assignment).where(Assignment.order_id == order.id, Assignment.worker_id == user_id))
    ).scalar_one_or_none()
    if a is None or a.status not in ("confirmed", "completed", "no_show"):
        raise UserFacingError(texts.CASE_NO_ASSIGNMENT.format(code=order.code))
    return a


async def _current_amount(session: AsyncSession, a: Assignment) -> int:
    earned = await ledger.earned_total(session, a.id)
    return earned if earned else (a.amount_due_fen or 0)


def _event(case: Case, actor: str, kind: str, now: datetime, amount: int | None = None, text: str = "") -> CaseEvent:
    return CaseEvent(case_id=case.id, actor=actor, kind=kind, amount_fen=amount, text=text[:500], created_at=now)


async def open_dispute(
    session: AsyncSession,
    code: str,
    user_id: int,
    reason: str,
    description: str,
    settings: MarketSettings,
    now: datetime,
    n: int | None = None,
) -> Case:
    if reason not in DISPUTE_REASONS:
        raise ValueError(reason)
    order = await by_code(session, code)
    a = await _assignment_for(session, order, user_id, n)
    other = a.worker_id if order.employer_id == user_id else order.employer_id
    existing = (
        await session.execute(
            select(Case).where(Case.assignment_id == a.id, Case.kind == "dispute", Case.status.in_(OPEN_STATES))
        )
    ).scalar_one_or_none()
    if existing is not None:
        return existing
    case = Case(
        kind="dispute",
        reason=reason,
        assignment_id=a.id,
        order_id=order.id,
        opened_by=user_id,
        against=other,
        description=description[:500],
        status="open",
        created_at=now,
        escalate_at=now + timedelta(hours=settings.dispute_respond_hours),
    )
    session.add(case)
    await session.flush()
    session.add(_event(case, f"user:{user_id}", "open", now, text=description))
    amount = await _current_amount(session, a)
    await notify_user(
        session,
        other,
        texts.CASE_TO_OTHER.format(
            code=order.code,
            reason=texts.CASE_REASONS[reason],
            desc=description,
            amount=fen_to_text(amount) if amount else "未确认",
            case=case.id,
            hours=settings.dispute_respond_hours,
        ),
        key=f"case-open:{case.id}",
        now=now,
    )
    await session.flush()
    return case


async def open_complaint(
    session: AsyncSession, code: str, user_id: int, reason: str, description: str, now: datetime
) -> Case:
    """举报 a post or its employer: straight to the operator's queue."""
    if reason not in COMPLAINT_REASONS + ("other",):
        raise ValueError(reason)
    order = await by_code(session, code)
    case = Case(
        kind="complaint",
        reason=reason,
        order_id=order.id,
        opened_by=user_id,
        against=order.employer_id,
        description=description[:500],
        status="mediation",
        created_at=now,
        escalated_at=now,
    )
    session.add(case)
    await session.flush()
    session.add(_event(case, f"user:{user_id}", "open", now, text=description))
    await session.flush()
    return case


async def _case_of(session: AsyncSession, case_id: int, user_id: int) -> tuple[Case, Assignment, Order]:
    case = await session.get(Case, case_id)
    if case is None or case.kind != "dispute" or user_id not in (case.opened_by, case.against):
        raise UserFacingError(texts.CASE_NOT_YOURS.format(case=case_id))
    if case.status not in OPEN_STATES:
        raise UserFacingError(texts.CASE_CLOSED.format(case=case_id))
    a = await session.get(Assignment, case.assignment_id)
    order = await session.get(Order, case.order_id)
    assert a is not None and order is not None
    return case, a, order


async def offer(session: AsyncSession, case_id: int, user_id: int, amount_fen: int, now: datetime) -> Case:
    if amount_fen < 0 or amount_fen > 100_000_000:
        raise UserFacingError(texts.BAD_PRICE)
    case, _a, _order = await _case_of(session, case_id, user_id)
    case.offer_fen = amount_fen
    case.offer_by = user_id
    if case.status == "open":
        case.status = "negotiating"
    session.add(_event(case, f"user:{user_id}", "offer", now, amount=amount_fen))
    await session.flush()
    other = case.against if user_id == case.opened_by else case.opened_by
    assert other is not None
    await notify_user(
        session, other, texts.CASE_OFFER_TO_OTHER.format(case=case.id, amount=fen_to_text(amount_fen)),
        key=f"case-offer:{case.id}:{amount_fen}:{now.isoformat()}", now=now,
    )
    return case


async def accept(session: AsyncSession, case_id: int, user_id: int, now: datetime) -> Case:
    case, a, order = await _case_of(session, case_id, user_id)
    if case.offer_fen is None:
        raise UserFacingError(texts.CASE_NO_OFFER.format(case=case_id))
    if case.offer_by == user_id:
        raise UserFacingError(texts.CASE_OWN_OFFER)
    session.add(_event(case, f"user:{user_id}", "accept", now, amount=case.offer_fen))
    await _resolve(
        session, case, a, order, case.offer_fen, texts.OUTCOME_AGREED.format(amount=fen_to_text(case.offer_fen)),
        by=f"user:{user_id}", now=now,
    )
    return case


async def resolve_by_operator(
    session: AsyncSession, case_id: int, final_fen: int | None, note: str, operator: str, now: datetime
) -> Case:
    """An operator's mediation outcome; ``final_fen`` (the worker's total wage) adjusts the ledger."""
    case = await session.get(Case, case_id)
    if case is None:
        raise UserFacingError(f"没有编号为 {case_id} 的案件。")
    if case.status not in OPEN_STATES:
        raise UserFacingError(texts.CASE_CLOSED.format(case=case_id))
    a = await session.get(Assignment, case.assignment_id) if case.assignment_id else None
    order = await session.get(Order, case.order_id) if case.order_id else None
    outcome = texts.OUTCOME_MEDIATED.format(note=note)
    if final_fen is not None:
        if a is None:
            raise UserFacingError("这个案件没有派工，不能调整工钱。")
        outcome += texts.OUTCOME_AMOUNT.format(amount=fen_to_text(final_fen))
    session.add(_event(case, operator, "resolve", now, amount=final_fen, text=note))
    await _resolve(session, case, a, order, final_fen, outcome, by=operator, now=now)
    return case


async def _resolve(
    session: AsyncSession,
    case: Case,
    a: Assignment | None,
    order: Order | None,
    final_fen: int | None,
    outcome: str,
    *,
    by: str,
    now: datetime,
) -> None:
    if final_fen is not None and a is not None and order is not None:
        current = await ledger.earned_total(session, a.id)
        paid = current - await ledger.balance(session, ledger.wage_account(a.id))
        if final_fen < paid:
            raise UserFacingError(f"工人已经收到 {fen_to_text(paid)}，结果不能少于这个数。")
        delta = final_fen - current
        # A completed job was credited once ("earned"); an outcome changes it ("adjust"). A job
        # never completed (not finished, no-show) gets its one "earned" entry here.
        await ledger.post(
            session,
            kind="adjust" if a.status == "completed" else "earned",
            key=f"case:{case.id}",
            postings=[(ledger.wage_account(a.id), delta), (ledger.employer_account(order.employer_id), -delta)],
            assignment_id=a.id,
            memo=f"案件 {case.id}",
            created_by=by,
            now=now,
        )
        if a.status in ("confirmed", "no_show"):
            a.status = "completed"
            a.completed_at = a.completed_at or now
            a.due_at = a.due_at or now + timedelta(hours=order.payment_due_hours)
        a.amount_due_fen = final_fen
        if a.paid_at is None and await ledger.balance(session, ledger.wage_account(a.id)) == 0:
            a.paid_at = now
    case.status = "resolved"
    case.final_fen = final_fen
    case.outcome = outcome[:500]
    case.resolved_at = now
    await session.flush()
    for uid in {case.opened_by, case.against} - {None}:
        await notify_user(
            session, uid, texts.CASE_RESOLVED.format(case=case.id, outcome=outcome),  # type: ignore[arg-type]
            key=f"case-resolved:{case.id}:{uid}", now=now,
        )


async def escalate_due(session: AsyncSession, settings: MarketSettings, now: datetime) -> int:
    """Disputes unresolved past their time go to operator mediation; both sides are told."""
    due = list(
        (
            await session.execute(
                select(Case).where(
                    Case.kind == "dispute", Case.status.in_(("open", "negotiating")), Case.escalate_at <= now
                )
            )
        ).scalars()
    )
    for case in due:
        case.status = "mediation"
        case.escalated_at = now
        session.add(_event(case, "system", "escalate", now))
        for uid in {case.opened_by, case.against} - {None}:
            await notify_user(
                session, uid, texts.CASE_ESCALATED.format(case=case.id, hotline=settings.hotline),  # type: ignore[arg-type]
                key=f"case-escalated:{case.id}:{uid}", now=now,
            )
    await session.flush()
    return len(due)


async def mediation_queue(session: AsyncSession) -> list[Case]:
    stmt = select(Case).where(Case.status == "mediation").order_by(Case.escalated_at, Case.id)
    return list((await session.execute(stmt)).scalars())
