"""Training courses (第六条) and job fairs (招聘会): published by the operator, pushed to the
workers they fit (trade, town, priority), signed up for in chat, counted."""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from market import texts
from market.digests import last_work, priority_groups
from market.errors import UserFacingError
from market.orders import when_text
from market.pushes import push
from market.settings import MarketSettings
from storage.models import Training, TrainingSignup, WorkerProfile
from storage.repositories import TrainingSignupRepository


async def add_training(
    session: AsyncSession,
    *,
    kind: str,
    title: str,
    starts_at: datetime,
    place: str,
    trades: list[str],
    towns: list[str],
    priority_only: bool = False,
    capacity: int = 0,
    subsidy: str = "",
    now: datetime,
) -> Training:
    if kind not in texts.TRAINING_KINDS:
        raise ValueError(kind)
    while True:
        code = f"{secrets.randbelow(9000) + 1000}"
        if await session.scalar(select(Training.id).where(Training.code == code)) is None:
            break
    t = Training(
        code=code, kind=kind, title=title, trades=list(trades), towns=list(towns), priority_only=priority_only,
        starts_at=starts_at, place=place, capacity=capacity, subsidy=subsidy, created_at=now,
    )
    session.add(t)
    await session.flush()
    return t


def fits(t: Training, p: WorkerProfile, priority: bool) -> bool:
    if t.priority_only and not priority:
        return False
    if t.trades and not set(t.trades) & set(p.trades):
        return False
    return not (t.towns and p.towns and not set(t.towns) & set(p.towns))


def message(t: Training, settings: MarketSettings) -> str:
    return texts.TRAINING_PUSH.format(
        kind=texts.TRAINING_KINDS[t.kind], title=t.title, when=when_text(t.starts_at, settings.tz),
        place=t.place, subsidy=f"\n补贴：{t.subsidy}" if t.subsidy else "", code=t.code,
    )


async def push_training(session: AsyncSession, code: str, settings: MarketSettings, now: datetime) -> int:
    """Push a course or fair to every worker it fits (within quiet hours and budgets)."""
    t = await _by_code(session, code)
    worked = await last_work(session)
    sent = 0
    for p in (await session.execute(select(WorkerProfile).where(WorkerProfile.subscribed.is_(True)))).scalars():
        priority = bool(priority_groups(p, now, settings, worked.get(p.user_id)))
        if fits(t, p, priority) and await push(
            session, p.user_id, message(t, settings), kind="training", key=f"training:{t.id}:{p.user_id}",
            now=now, settings=settings, ref=t.code,
        ):
            sent += 1
    t.pushed_at = now
    await session.flush()
    return sent


async def _by_code(session: AsyncSession, code: str) -> Training:
    t = await session.scalar(select(Training).where(Training.code == code))
    if t is None:
        raise UserFacingError(texts.NO_SUCH_TRAINING.format(code=code))
    return t


async def sign_up(session: AsyncSession, code: str, user_id: int, settings: MarketSettings, now: datetime) -> str:
    t = await _by_code(session, code)
    if t.capacity:
        taken = await session.scalar(
            select(func.count()).select_from(TrainingSignup).where(TrainingSignup.training_id == t.id)
        )
        if taken >= t.capacity:
            raise UserFacingError(texts.TRAINING_FULL)
    made = await TrainingSignupRepository(session).sign_up_once(training_id=t.id, user_id=user_id, now=now)
    if made is None:
        raise UserFacingError(texts.TRAINING_ALREADY)
    return texts.TRAINING_SIGNED.format(title=t.title, when=when_text(t.starts_at, settings.tz), place=t.place)


async def signups(session: AsyncSession) -> list[tuple[Training, int]]:
    rows = await session.execute(
        select(Training, func.count(TrainingSignup.id))
        .outerjoin(TrainingSignup, TrainingSignup.training_id == Training.id)
        .group_by(Training.id)
        .order_by(Training.starts_at)
    )
    return [(t, int(n)) for t, n in rows.all()]
