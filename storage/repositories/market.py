"""The market's rows that are written once: each insert names a unique key and does nothing when
the row is there already (a repeated tap, a replayed job, the same idempotency key again), so the
caller learns from ``None`` / ``False`` that it has happened before."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, or_, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    Assignment,
    ChatGroup,
    LedgerTx,
    Payment,
    PriorityOffer,
    PushRecord,
    Rating,
    TrainingSignup,
    WorkerProfile,
)
from storage.repositories._upsert import insert_ignore
from storage.sqlite.hot import HotStatement

_WP = WorkerProfile.__table__
_MARK_ACTIVE = HotStatement(
    update(_WP)
    .where(
        _WP.c.user_id == bindparam("p_user"),
        or_(
            _WP.c.ignored_digests != 0,
            _WP.c.last_active_at.is_(None),
            _WP.c.last_active_at < bindparam("p_stale", type_=_WP.c.last_active_at.type),
        ),
    )
    .values(last_active_at=bindparam("p_now", type_=_WP.c.last_active_at.type), ignored_digests=0)
)


class WorkerProfileRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def mark_active(self, user_id: int, now: datetime, stale_before: datetime) -> None:
        """The worker wrote: active now, ignored digests forgiven. One conditional UPDATE (a hot
        statement, it runs on every message) that writes only when something changes or the
        last activity is older than ``stale_before``."""
        await _MARK_ACTIVE.execute(self.session, {"p_user": user_id, "p_now": now, "p_stale": stale_before})


class AssignmentRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add_once(
        self,
        *,
        order_id: int,
        worker_id: int,
        status: str,
        agreed_wage_fen: int,
        wage_unit: str,
        confirmed_at: datetime | None,
        employer_price_ok_at: datetime,
        now: datetime,
    ) -> int | None:
        """A worker's place on an order; None when that (order, worker) row exists already."""
        return await insert_ignore(
            self.session,
            Assignment.__table__,
            {
                "order_id": order_id,
                "worker_id": worker_id,
                "status": status,
                "agreed_wage_fen": agreed_wage_fen,
                "wage_unit": wage_unit,
                "created_at": now,
                "confirmed_at": confirmed_at,
                "employer_price_ok_at": employer_price_ok_at,
            },
            Assignment.id,
        )


class LedgerRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def open_tx_once(
        self, *, kind: str, key: str, assignment_id: int | None, memo: str, created_by: str, now: datetime
    ) -> int | None:
        """A ledger transaction's head row; None when ``key`` was recorded before."""
        return await insert_ignore(
            self.session,
            LedgerTx.__table__,
            {
                "kind": kind,
                "idempotency_key": key,
                "assignment_id": assignment_id,
                "memo": memo,
                "created_by": created_by,
                "created_at": now,
            },
            LedgerTx.id,
        )


class PaymentRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def claim_once(
        self, *, assignment_id: int, amount_fen: int, method: str, recorded_by: str, key: str, now: datetime
    ) -> int | None:
        """A payment recorded as ``claimed``; None when ``key`` was recorded before."""
        return await insert_ignore(
            self.session,
            Payment.__table__,
            {
                "assignment_id": assignment_id,
                "amount_fen": amount_fen,
                "method": method,
                "status": "claimed",
                "recorded_by": recorded_by,
                "idempotency_key": key,
                "created_at": now,
            },
            Payment.id,
        )


class RatingRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def rate_once(
        self,
        *,
        assignment_id: int,
        rater_role: str,
        rater_id: int,
        ratee_id: int,
        score: int,
        comment: str,
        now: datetime,
    ) -> int | None:
        """One rating per assignment and side; None when this side has rated already."""
        return await insert_ignore(
            self.session,
            Rating.__table__,
            {
                "assignment_id": assignment_id,
                "rater_role": rater_role,
                "rater_id": rater_id,
                "ratee_id": ratee_id,
                "score": score,
                "comment": comment,
                "created_at": now,
            },
            Rating.id,
        )


class PushLogRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def record_once(
        self, *, user_id: int, kind: str, key: str, local_day: str, ref: str, now: datetime
    ) -> int | None:
        """Note a push under its unique ``key``; None when it was pushed before."""
        return await insert_ignore(
            self.session,
            PushRecord.__table__,
            {"user_id": user_id, "kind": kind, "key": key, "local_day": local_day, "ref": ref, "created_at": now},
            PushRecord.id,
        )


class PriorityOfferRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def record_once(
        self, *, order_id: int, worker_id: int, groups: list[str], days_waited: int, now: datetime
    ) -> int | None:
        """An order offered point to point to a priority worker; None when offered before."""
        return await insert_ignore(
            self.session,
            PriorityOffer.__table__,
            {
                "order_id": order_id,
                "worker_id": worker_id,
                "groups": groups,
                "days_waited": days_waited,
                "offered_at": now,
            },
            PriorityOffer.id,
        )


class ChatGroupRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def remember(self, *, channel: str, chat_id: str, name: str, now: datetime) -> int | None:
        """A group the bot was seen in, with digests on; None when it was known already."""
        return await insert_ignore(
            self.session,
            ChatGroup.__table__,
            {"channel": channel, "chat_id": chat_id, "name": name, "town": "", "digest": True, "created_at": now},
            ChatGroup.id,
        )


class TrainingSignupRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def sign_up_once(self, *, training_id: int, user_id: int, now: datetime) -> int | None:
        """A person's sign-up for a course or job fair; None when signed up already."""
        return await insert_ignore(
            self.session,
            TrainingSignup.__table__,
            {"training_id": training_id, "user_id": user_id, "created_at": now},
            TrainingSignup.id,
        )

