from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import EmployerProfile, Identity, User, WorkerProfile
from storage.sqlite.hot import HotStatement

_I = Identity.__table__
_USER_ID = HotStatement(  # every message asks this
    select(_I.c.user_id).where(
        _I.c.channel == bindparam("p_channel"), _I.c.external_id == bindparam("p_ext")
    )
)


class UserRepository:
    """People and their channel identities."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def user_id(self, channel: str, external_id: str) -> int | None:
        """The id of the person behind a channel identity, or None."""
        result = await _USER_ID.execute(self.session, {"p_channel": channel, "p_ext": external_id})
        return result.scalar()

    async def by_identity(self, channel: str, external_id: str) -> User | None:
        user_id = await self.user_id(channel, external_id)
        return await self.session.get(User, user_id) if user_id is not None else None

    async def get_or_create(
        self, channel: str, external_id: str, display_name: str, now: datetime
    ) -> User:
        user = await self.by_identity(channel, external_id)
        if user is not None:
            return user
        user = User(display_name=display_name[:64], created_at=now)
        self.session.add(user)
        await self.session.flush()
        self.session.add(
            Identity(user_id=user.id, channel=channel, external_id=external_id, created_at=now)
        )
        await self.session.flush()
        return user

    async def users_with_phone(self, phone: str) -> set[int]:
        """Everyone whose worker or employer profile gives this phone (typed in chat, unproven)."""
        found: set[int] = set()
        for model in (WorkerProfile, EmployerProfile):
            stmt = select(model.user_id).where(model.phone == phone)
            found.update(int(x) for x in (await self.session.execute(stmt)).scalars())
        return found

    async def relink(self, channel: str, external_id: str, user_id: int, now: datetime) -> None:
        """Make a channel identity belong to ``user_id`` (made if it does not exist yet)."""
        result = await self.session.execute(
            update(Identity)
            .where(Identity.channel == channel, Identity.external_id == external_id)
            .values(user_id=user_id)
            .execution_options(synchronize_session=False)
        )
        if not result.rowcount:
            await self.link(user_id, channel, external_id, now)

    async def link(self, user_id: int, channel: str, external_id: str, now: datetime) -> None:
        """Know the person by one more channel identity (e.g. the web persona they logged in to)."""
        self.session.add(
            Identity(user_id=user_id, channel=channel, external_id=external_id, created_at=now)
        )
        await self.session.flush()

    async def worker(self, user_id: int) -> WorkerProfile | None:
        return await self.session.get(WorkerProfile, user_id)

    async def employer(self, user_id: int) -> EmployerProfile | None:
        return await self.session.get(EmployerProfile, user_id)

    async def add(self, obj: WorkerProfile | EmployerProfile) -> None:
        self.session.add(obj)
        await self.session.flush()

    async def delete_profile(self, obj: WorkerProfile | EmployerProfile) -> None:
        await self.session.delete(obj)
        await self.session.flush()

    async def workers(self) -> list[WorkerProfile]:
        return list((await self.session.execute(select(WorkerProfile))).scalars())

    async def identities(self, user_id: int) -> list[Identity]:
        stmt = select(Identity).where(Identity.user_id == user_id).order_by(Identity.id)
        return list((await self.session.execute(stmt)).scalars())
