"""Workers and employers: registration, profile changes, deletion (PIPL: the person decides)."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from market import texts
from market.errors import AlreadyRegistered, NotRegistered
from storage.models import EmployerProfile, User, WebLink, WorkerProfile
from storage.repositories import UserRepository, WebChatRepository
from storage.repositories.doors import RateCounterRepository, WebLinkRepository

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


# -- joining a phone login on the web to the person registered in the 公众号 --------------------
LINK_TTL = timedelta(minutes=10)
LINK_TRIES_PER_HOUR = 5


def _link_hash(code: str) -> str:
    return hashlib.sha256(f"web-link:{code}".encode("ascii")).hexdigest()


async def offer_web_link(
    session: AsyncSession, persona_id: str, phone: str, now: datetime, *, service: str, hotline: str
) -> str | None:
    """After a phone login: when someone *else* registered this phone in chat, a code to join the
    two (the text to show the web person), else None. The code is shown only to whoever proved
    the phone by SMS; ``link_web`` accepts it only from a person whose profile gives that phone."""
    users = UserRepository(session)
    web_user = await users.user_id("web", persona_id)
    if web_user is not None and (await users.worker(web_user) or await users.employer(web_user)):
        return None  # registered on the web already: nothing to join
    claimants = await users.users_with_phone(phone) - ({web_user} if web_user is not None else set())
    if not claimants:
        return None
    code = f"{secrets.randbelow(1_000_000):06d}"
    await WebLinkRepository(session).add(
        WebLink(code_hash=_link_hash(code), persona_id=persona_id, phone=phone, created_at=now, expires_at=now + LINK_TTL)
    )
    return texts.LINK_OFFER.format(service=service, code=code, hotline=hotline)


async def link_web(session: AsyncSession, code: str, user_id: int, now: datetime, *, hotline: str) -> str:
    """``绑定 CODE`` from the person ``user_id`` (in the 公众号): their web persona becomes theirs."""
    users = UserRepository(session)
    counters = RateCounterRepository(session)
    key = f"web-link:user:{user_id}"
    if await counters.count(key, timedelta(hours=1), now) >= LINK_TRIES_PER_HOUR:
        return texts.LINK_TOO_MANY.format(hotline=hotline)
    links = WebLinkRepository(session)
    link = await links.open_by_code(_link_hash(code), now) if code.isdigit() and len(code) == 6 else None
    profile = await users.worker(user_id) or await users.employer(user_id)
    if link is None or profile is None or profile.phone != link.phone:
        await counters.hit(key, timedelta(hours=1), now)
        return texts.LINK_BAD if link is None else texts.LINK_NOT_YOURS
    web_user = await users.user_id("web", link.persona_id)
    if web_user is not None and web_user != user_id and (await users.worker(web_user) or await users.employer(web_user)):
        return texts.LINK_WEB_BUSY.format(hotline=hotline)
    if not await links.mark_used(link.id, now):
        return texts.LINK_BAD
    await users.relink("web", link.persona_id, user_id, now)
    await WebChatRepository(session).rename_persona(link.persona_id, profile.name)
    return texts.LINK_DONE
