from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import EmployerProfile, Identity, User, WorkerProfile


class UserRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def by_identity(self, channel: str, external_id: str) -> User | None:
        stmt = (
            select(User)
            .join(Identity, Identity.user_id == User.id)
            .where(Identity.channel == channel, Identity.external_id == external_id)
        )
        return (await self.session.execute(stmt)).scalar_one_or_none()

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
