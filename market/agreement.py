"""Price confirmation (价格确认): both sides agree on the wage before the contract.

The posted wage is the employer's offer, so a confirmed worker starts with the employer's side
already agreed; the worker confirms (确认 CODE) or proposes another price (议价 CODE 400), and the
employer answers per applicant number (确认 CODE 2 / 议价 CODE 2 380). Each proposal clears the
other side's agreement. When both agree, the contract is generated.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from market import texts
from market.contracts import create_contract
from market.errors import UserFacingError
from market.notify import notify_user
from market.orders import applicants, by_code, ensure_owner, wage_text
from market.settings import MarketSettings
from storage.models import Assignment, Contract, Order


async def _worker_assignment(session: AsyncSession, order: Order, worker_id: int) -> Assignment:
    a = (
        await session.execute(
            select(Assignment).where(
                Assignment.order_id == order.id, Assignment.worker_id == worker_id, Assignment.status == "confirmed"
            )
        )
    ).scalar_one_or_none()
    if a is None:
        raise UserFacingError(texts.NOT_CONFIRMED_ON_ORDER.format(code=order.code))
    return a


async def _applicant(session: AsyncSession, order: Order, n: int) -> tuple[int, Assignment]:
    listed = await applicants(session, order.id)
    if not 1 <= n <= len(listed):
        raise UserFacingError(texts.NO_SUCH_APPLICANT.format(n=n))
    a = listed[n - 1][0]
    if a.status != "confirmed":
        raise UserFacingError(texts.NOT_CONFIRMED_ON_ORDER.format(code=order.code))
    return n, a


async def _number_of(session: AsyncSession, order: Order, a: Assignment) -> int:
    listed = await applicants(session, order.id)
    return next(i for i, (x, _w) in enumerate(listed, 1) if x.id == a.id)


async def _has_contract(session: AsyncSession, a: Assignment) -> bool:
    found = await session.scalar(
        select(Contract.id).where(Contract.assignment_id == a.id, Contract.status.in_(("pending", "signed")))
    )
    return found is not None


async def _maybe_contract(
    session: AsyncSession, order: Order, a: Assignment, settings: MarketSettings, now: datetime
) -> bool:
    if a.worker_price_ok_at is None or a.employer_price_ok_at is None:
        return False
    await create_contract(session, a, settings, now)
    return True


async def confirm_price(
    session: AsyncSession, code: str, user_id: int, n: int | None, settings: MarketSettings, now: datetime
) -> str:
    """确认: returns the reply for the person confirming."""
    order = await by_code(session, code)
    if order.employer_id == user_id:
        if n is None:
            raise UserFacingError(texts.PICK_WHICH_PRICE.format(code=code))
        _n, a = await _applicant(session, order, n)
        if a.employer_price_ok_at is not None and a.worker_price_ok_at is not None and await _has_contract(session, a):
            raise UserFacingError(texts.PRICE_ALREADY_AGREED)
        a.employer_price_ok_at = now
    else:
        a = await _worker_assignment(session, order, user_id)
        if a.employer_price_ok_at is not None and a.worker_price_ok_at is not None and await _has_contract(session, a):
            raise UserFacingError(texts.PRICE_ALREADY_AGREED)
        a.worker_price_ok_at = now
    await session.flush()
    wage = wage_text(a.agreed_wage_fen, a.wage_unit)
    if await _maybe_contract(session, order, a, settings, now):
        return texts.PRICE_AGREED.format(wage=wage)
    return texts.PRICE_WAIT_OTHER.format(wage=wage)


async def propose_price(
    session: AsyncSession,
    code: str,
    user_id: int,
    n: int | None,
    amount_fen: int,
    settings: MarketSettings,
    now: datetime,
) -> str:
    """议价: a new price from one side; the other side is asked."""
    if amount_fen <= 0 or amount_fen > 10_000_000:
        raise UserFacingError(texts.BAD_PRICE)
    order = await by_code(session, code)
    if order.employer_id == user_id:
        ensure_owner(order, user_id)
        if n is None:
            raise UserFacingError(texts.PICK_WHICH_PRICE.format(code=code))
        _n, a = await _applicant(session, order, n)
        a.agreed_wage_fen = amount_fen
        a.employer_price_ok_at = now
        a.worker_price_ok_at = None
        other, text = a.worker_id, texts.PRICE_PROPOSED_TO_WORKER.format(code=code, wage=wage_text(amount_fen, a.wage_unit))
    else:
        a = await _worker_assignment(session, order, user_id)
        a.agreed_wage_fen = amount_fen
        a.worker_price_ok_at = now
        a.employer_price_ok_at = None
        from storage.models import WorkerProfile

        worker = await session.get(WorkerProfile, user_id)
        number = await _number_of(session, order, a)
        other = order.employer_id
        text = texts.PRICE_PROPOSED_TO_EMPLOYER.format(
            name=worker.name if worker else "", n=number, code=code, wage=wage_text(amount_fen, a.wage_unit)
        )
    await session.flush()
    await notify_user(session, other, text, key=f"price:{a.id}:{amount_fen}:{now.isoformat()}", now=now)
    return texts.PRICE_WAIT_OTHER.format(wage=wage_text(amount_fen, a.wage_unit))
