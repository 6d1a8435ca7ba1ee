"""Ratings after settlement, and the reputations derived from the records."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from market import texts
from market.errors import UserFacingError
from market.orders import applicants, by_code
from storage.models import Assignment, Order, Rating
from storage.repositories import RatingRepository


async def rate(
    session: AsyncSession, code: str, rater_id: int, n: int | None, score: int, comment: str, now: datetime
) -> None:
    if not 1 <= score <= 5:
        raise UserFacingError(texts.BAD_SCORE.format(code=code))
    order = await by_code(session, code)
    if order.employer_id == rater_id:
        listed = [a for a, _w in await applicants(session, order.id)]
        settled = [a for a in listed if a.paid_at is not None]
        if n is None:
            if len(settled) != 1:
                raise UserFacingError(texts.PICK_WHICH.format(code=code))
            target = settled[0]
        else:
            if not 1 <= n <= len(listed):
                raise UserFacingError(texts.NO_SUCH_APPLICANT.format(n=n))
            target = listed[n - 1]
        role, ratee = "employer", target.worker_id
    else:
        target = (
            await session.execute(
                select(Assignment).where(Assignment.order_id == order.id, Assignment.worker_id == rater_id)
            )
        ).scalar_one_or_none()
        if target is None:
            raise UserFacingError(texts.NOT_TAKEN.format(code=code))
        role, ratee = "worker", order.employer_id
    if target.paid_at is None:
        raise UserFacingError(texts.NOT_SETTLED_FOR_RATING)
    made = await RatingRepository(session).rate_once(
        assignment_id=target.id, rater_role=role, rater_id=rater_id, ratee_id=ratee, score=score,
        comment=comment[:200], now=now,
    )
    if made is None:
        raise UserFacingError(texts.ALREADY_RATED)


@dataclass(frozen=True)
class Reputation:
    """What others see of a person: average score, how many ratings, and a behaviour rate."""

    average_score: float | None
    ratings: int
    rate: float | None
    """employer: on-time-pay rate; worker: attendance rate."""
    basis: int


async def on_time_counts(
    session: AsyncSession, now: datetime, employer_id: int | None = None
) -> dict[int, tuple[int, int]]:
    """Per employer: (jobs paid by their due time, jobs whose payment was due or made).
    One rule for the reputation shown to people and for matching (market.digests)."""
    stmt = (
        select(Order.employer_id, Assignment.paid_at, Assignment.due_at)
        .join(Assignment, Assignment.order_id == Order.id)
        .where(Assignment.status == "completed")
    )
    if employer_id is not None:
        stmt = stmt.where(Order.employer_id == employer_id)
    counts: dict[int, tuple[int, int]] = {}
    for employer, paid, due_at in (await session.execute(stmt)).all():
        if paid is None and (due_at is None or due_at > now):
            continue  # not due yet
        ok, due = counts.get(employer, (0, 0))
        counts[employer] = (ok + int(paid is not None and due_at is not None and paid <= due_at), due + 1)
    return counts


async def employer_reputation(session: AsyncSession, employer_id: int, now: datetime) -> Reputation:
    """On-time-pay rate: of the jobs whose payment was due (or already paid), the share paid in
    full by the due time."""
    on_time, due = (await on_time_counts(session, now, employer_id)).get(employer_id, (0, 0))
    avg, count = await _scores(session, employer_id, "worker")
    return Reputation(avg, count, on_time / due if due else None, due)


async def worker_reputation(session: AsyncSession, worker_id: int, now: datetime) -> Reputation:
    """Attendance rate: of the confirmed jobs that have started and been closed out by the
    employer, the share the worker turned up for (checked in or completed, not a no-show)."""
    rows = (
        await session.execute(
            select(Assignment.status, Assignment.checked_in_at)
            .join(Order, Order.id == Assignment.order_id)
            .where(
                Assignment.worker_id == worker_id,
                Assignment.status.in_(("completed", "no_show")),
                Order.start_at <= now,
            )
        )
    ).all()
    came = sum(1 for status, _c in rows if status == "completed")
    avg, count = await _scores(session, worker_id, "employer")
    return Reputation(avg, count, came / len(rows) if rows else None, len(rows))


async def _scores(session: AsyncSession, ratee_id: int, rater_role: str) -> tuple[float | None, int]:
    avg, count = (
        await session.execute(
            select(func.avg(Rating.score), func.count(Rating.id)).where(
                Rating.ratee_id == ratee_id, Rating.rater_role == rater_role
            )
        )
    ).one()
    return (float(avg) if avg is not None else None), int(count)
