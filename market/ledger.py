"""Append-only double-entry ledger in integer fen.

Accounts (one currency, CNY):

* ``wage:{assignment}`` — what the worker on that assignment is still owed (≥ 0).
* ``employer:{user}`` — what the employer owes across all jobs (≤ 0 while owing).

Transactions: ``earned`` on completion (wage +A, employer −A), ``paid`` when a payment is
confirmed (wage −P, employer +P), ``adjust`` for a dispute outcome. Every transaction sums to zero;
each has a unique idempotency key, so replaying it has no second effect. Nothing is updated or
deleted: a correction is a new transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import LedgerPosting, LedgerTx
from storage.repositories import LedgerRepository


class Unbalanced(ValueError):
    """A ledger transaction whose postings do not sum to zero."""


def wage_account(assignment_id: int) -> str:
    return f"wage:{assignment_id}"


def employer_account(user_id: int) -> str:
    return f"employer:{user_id}"


async def post(
    session: AsyncSession,
    *,
    kind: str,
    key: str,
    postings: Sequence[tuple[str, int]],
    now: datetime,
    assignment_id: int | None = None,
    memo: str = "",
    created_by: str = "",
) -> int | None:
    """Record a balanced transaction once; None if ``key`` was already recorded."""
    if len(postings) < 2 or sum(a for _acc, a in postings) != 0:
        raise Unbalanced(f"{kind} {key}: postings do not sum to zero: {postings}")
    if any(not isinstance(a, int) or isinstance(a, bool) for _acc, a in postings):
        raise TypeError("amounts are integer fen")
    if not any(a for _acc, a in postings):
        return None  # nothing moves: no transaction
    tx_id = await LedgerRepository(session).open_tx_once(
        kind=kind, key=key, assignment_id=assignment_id, memo=memo[:200], created_by=created_by[:64], now=now
    )
    if tx_id is None:
        return None
    session.add_all(LedgerPosting(tx_id=tx_id, account=acc, amount_fen=amt) for acc, amt in postings if amt)
    await session.flush()
    return tx_id


async def balance(session: AsyncSession, account: str) -> int:
    value = await session.scalar(
        select(func.coalesce(func.sum(LedgerPosting.amount_fen), 0)).where(LedgerPosting.account == account)
    )
    return int(value or 0)


async def balances(session: AsyncSession, prefix: str) -> dict[str, int]:
    stmt = (
        select(LedgerPosting.account, func.sum(LedgerPosting.amount_fen))
        .where(LedgerPosting.account.startswith(prefix))
        .group_by(LedgerPosting.account)
    )
    return {acc: int(total) for acc, total in (await session.execute(stmt)).all()}


async def earned_total(session: AsyncSession, assignment_id: int) -> int:
    """What the worker was credited for the job (earned plus adjustments), before payments."""
    stmt = (
        select(func.coalesce(func.sum(LedgerPosting.amount_fen), 0))
        .join(LedgerTx, LedgerTx.id == LedgerPosting.tx_id)
        .where(LedgerPosting.account == wage_account(assignment_id), LedgerTx.kind.in_(("earned", "adjust")))
    )
    return int(await session.scalar(stmt) or 0)


async def problems(session: AsyncSession) -> list[str]:
    """Invariant check (tests, and a nightly job): every transaction sums to zero, the whole
    ledger sums to zero, nobody is owed a negative wage, every transaction has postings."""
    found: list[str] = []
    unbalanced = (
        await session.execute(
            select(LedgerPosting.tx_id, func.sum(LedgerPosting.amount_fen))
            .group_by(LedgerPosting.tx_id)
            .having(func.sum(LedgerPosting.amount_fen) != 0)
        )
    ).all()
    found += [f"tx {tx} sums to {s}" for tx, s in unbalanced]
    total = await session.scalar(select(func.coalesce(func.sum(LedgerPosting.amount_fen), 0)))
    if total:
        found.append(f"ledger sums to {total}")
    for acc, bal in (await balances(session, "wage:")).items():
        if bal < 0:
            found.append(f"{acc} is negative ({bal})")
    empty = await session.scalar(
        select(func.count())
        .select_from(LedgerTx)
        .where(~select(LedgerPosting.id).where(LedgerPosting.tx_id == LedgerTx.id).exists())
    )
    if empty:
        found.append(f"{empty} transactions without postings")
    return found
