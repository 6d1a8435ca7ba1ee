"""Workers and employers: registration, profile changes, deletion (PIPL: the person decides)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from market.errors import AlreadyRegistered, NotRegistered
from storage.models import EmployerProfile, User, WorkerProfile
from storage.repositories import UserRepository

WORKER_FIELDS = frozenset(
    {
        "name", "phone", "trades", "towns", "availability", "min_wage_fen", "min_wage_unit",
        "birth_year", "gender", "certificates", "digest_time", "subscribed",
    }
)
EMPLOYER_FIELDS = frozenset({"name", "phone", "company", "town"})


async def register_worker(
    session: AsyncSession,
    user: User,
    *,
    name: str,
    phone: str,
    trades: list[str],
    towns: list[str],
    availability: str,
    min_wage_fen: int,
    min_wage_unit: str,
    now: datetime,
) -> WorkerProfile:
    repo = UserRepository(session)
    if await repo.worker(user.id) is not None:
        raise AlreadyRegistered("您已经登记过找活了，回「我的资料」可以修改。")
    if min_wage_fen < 0:
        raise ValueError("negative wage")
    profile = WorkerProfile(
        user_id=user.id,
        name=name,
        phone=phone,
        trades=list(trades),
        towns=list(towns),
        availability=availability,
        min_wage_fen=min_wage_fen,
        min_wage_unit=min_wage_unit,
        consent_at=now,
        created_at=now,
        updated_at=now,
    )
    user.display_name = name
    await repo.add(profile)
    return profile


async def register_employer(
    session: AsyncSession,
    user: User,
    *,
    name: str,
    phone: str,
    company: str,
    town: str,
    now: datetime,
) -> EmployerProfile:
    repo = UserRepository(session)
    if await repo.employer(user.id) is not None:
        raise AlreadyRegistered("您已经登记过招人了，回「我的资料」可以修改。")
    profile = EmployerProfile(
        user_id=user.id,
        name=name,
        phone=phone,
        company=company,
        town=town,
        consent_at=now,
        created_at=now,
        updated_at=now,
    )
    if not user.display_name:
        user.display_name = name
    await repo.add(profile)
    return profile


async def update_profile(
    session: AsyncSession, user_id: int, role: str, now: datetime, **changes: Any
) -> WorkerProfile | EmployerProfile:
    repo = UserRepository(session)
    allowed = WORKER_FIELDS if role == "worker" else EMPLOYER_FIELDS
    unknown = set(changes) - allowed
    if unknown:
        raise ValueError(f"not a {role} field: {sorted(unknown)}")
    profile = await (repo.worker(user_id) if role == "worker" else repo.employer(user_id))
    if profile is None:
        raise NotRegistered("还没有登记，回「登记」开始。")
    for field_name, value in changes.items():
        setattr(profile, field_name, value)
    profile.updated_at = now
    await session.flush()
    return profile


async def delete_profile(session: AsyncSession, user_id: int, role: str) -> None:
    repo = UserRepository(session)
    profile = await (repo.worker(user_id) if role == "worker" else repo.employer(user_id))
    if profile is None:
        raise NotRegistered("还没有登记，不用删除。")
    await repo.delete_profile(profile)
