"""Who is at the door: server-side sessions, one-time SMS login codes and shared rate counters.

Every process reads and writes the same rows, so a session revoked or a limit reached in one
process holds in all of them.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import LoginCode, LoginTicket, RateCounter, WebLink, WebSession


class WebSessionRepository:
    """Web chat and console login sessions."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, row: WebSession) -> WebSession:
        self.session.add(row)
        await self.session.flush()
        return row

    async def get(self, session_id: str) -> WebSession | None:
        return await self.session.get(WebSession, session_id)

    async def touch(self, session_id: str, now: datetime) -> None:
        await self.session.execute(
            update(WebSession).where(WebSession.id == session_id).values(last_seen_at=now)
        )

    async def revoke(self, session_id: str, now: datetime) -> bool:
        result = await self.session.execute(
            update(WebSession)
            .where(WebSession.id == session_id, WebSession.revoked_at.is_(None))
            .values(revoked_at=now)
            .execution_options(synchronize_session=False)
        )
        return bool(result.rowcount)

    async def purge(self, before: datetime) -> int:
        """Delete sessions that ended (expired or revoked) before ``before``."""
        result = await self.session.execute(
            delete(WebSession).where(
                (WebSession.expires_at < before) | (WebSession.revoked_at < before)
            )
        )
        return int(result.rowcount or 0)


class LoginCodeRepository:
    """SMS login codes (hashed) and their tries."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, row: LoginCode) -> LoginCode:
        self.session.add(row)
        await self.session.flush()
        return row

    async def latest_open(self, phone: str, now: datetime) -> LoginCode | None:
        """The newest unused, unexpired code of a phone (older ones are void once a new one is
        sent)."""
        stmt = (
            select(LoginCode)
            .where(LoginCode.phone == phone)
            .order_by(LoginCode.created_at.desc(), LoginCode.id.desc())
            .limit(1)
        )
        row = (await self.session.execute(stmt)).scalar()
        if row is None or row.used_at is not None or row.expires_at <= now:
            return None
        return row

    async def spend_try(self, code_id: int, max_attempts: int) -> int | None:
        """Count one try of an unused code in one conditional UPDATE; the tries so far, or None
        when none was left (so parallel guesses cannot share a try)."""
        result = await self.session.execute(
            update(LoginCode)
            .where(LoginCode.id == code_id, LoginCode.used_at.is_(None), LoginCode.attempts < max_attempts)
            .values(attempts=LoginCode.attempts + 1)
            .returning(LoginCode.attempts)
            .execution_options(synchronize_session=False)
        )
        return result.scalar()

    async def mark_used(self, code_id: int, now: datetime) -> bool:
        result = await self.session.execute(
            update(LoginCode)
            .where(LoginCode.id == code_id, LoginCode.used_at.is_(None))
            .values(used_at=now)
            .execution_options(synchronize_session=False)
        )
        return bool(result.rowcount)

    async def purge(self, before: datetime) -> int:
        result = await self.session.execute(delete(LoginCode).where(LoginCode.expires_at < before))
        return int(result.rowcount or 0)


class LoginTicketRepository:
    """Kiosk QR logins: made by the kiosk, approved by the 公众号 callback, used once."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, row: LoginTicket) -> LoginTicket:
        self.session.add(row)
        await self.session.flush()
        return row

    async def get(self, ticket_id: str) -> LoginTicket | None:
        return await self.session.get(LoginTicket, ticket_id)

    async def approve(self, ticket_id: str, openid: str, now: datetime) -> bool:
        """The person behind ``openid`` scanned the ticket's QR code (first scan wins)."""
        result = await self.session.execute(
            update(LoginTicket)
            .where(
                LoginTicket.id == ticket_id,
                LoginTicket.openid.is_(None),
                LoginTicket.used_at.is_(None),
                LoginTicket.expires_at > now,
            )
            .values(openid=openid, approved_at=now)
            .execution_options(synchronize_session=False)
        )
        return bool(result.rowcount)

    async def use(self, ticket_id: str, now: datetime) -> str | None:
        """Spend an approved ticket once; the openid it was approved for, else None."""
        result = await self.session.execute(
            update(LoginTicket)
            .where(
                LoginTicket.id == ticket_id,
                LoginTicket.openid.is_not(None),
                LoginTicket.used_at.is_(None),
                LoginTicket.expires_at > now,
            )
            .values(used_at=now)
            .returning(LoginTicket.openid)
            .execution_options(synchronize_session=False)
        )
        return result.scalar()

    async def void(self, ticket_id: str, now: datetime) -> None:
        await self.session.execute(
            update(LoginTicket)
            .where(LoginTicket.id == ticket_id, LoginTicket.used_at.is_(None))
            .values(used_at=now)
            .execution_options(synchronize_session=False)
        )

    async def purge(self, before: datetime) -> int:
        result = await self.session.execute(delete(LoginTicket).where(LoginTicket.expires_at < before))
        return int(result.rowcount or 0)


class WebLinkRepository:
    """One-time 绑定 codes joining a phone login on the web to the person in the 公众号."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, row: WebLink) -> WebLink:
        self.session.add(row)
        await self.session.flush()
        return row

    async def open_by_code(self, code_hash: str, now: datetime) -> WebLink | None:
        stmt = select(WebLink).where(
            WebLink.code_hash == code_hash, WebLink.used_at.is_(None), WebLink.expires_at > now
        )
        return (await self.session.execute(stmt.limit(1))).scalar()

    async def mark_used(self, link_id: int, now: datetime) -> bool:
        result = await self.session.execute(
            update(WebLink)
            .where(WebLink.id == link_id, WebLink.used_at.is_(None))
            .values(used_at=now)
            .execution_options(synchronize_session=False)
        )
        return bool(result.rowcount)

    async def purge(self, before: datetime) -> int:
        result = await self.session.execute(delete(WebLink).where(WebLink.expires_at < before))
        return int(result.rowcount or 0)


_RC = RateCounter.__table__


def _window_start(window: timedelta, now: datetime) -> datetime:
    seconds = int(window.total_seconds())
    return now - timedelta(seconds=int(now.timestamp()) % seconds, microseconds=now.microsecond)


class RateCounterRepository:
    """Fixed windows: ``hit`` adds one to the key's current window and returns the new count,
    in one ``INSERT … ON CONFLICT DO UPDATE … RETURNING`` (no read-then-write race)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def hit(self, key: str, window: timedelta, now: datetime) -> int:
        start = _window_start(window, now)
        module = postgresql if self.session.bind.dialect.name == "postgresql" else sqlite
        stmt = module.insert(_RC).values(
            key=key[:160], window_start=start, count=1, expires_at=start + window
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=[_RC.c.key, _RC.c.window_start], set_={"count": _RC.c.count + 1}
        ).returning(_RC.c.count)
        return int((await self.session.execute(stmt)).scalar_one())

    async def count(self, key: str, window: timedelta, now: datetime) -> int:
        start = _window_start(window, now)
        stmt = select(RateCounter.count).where(
            RateCounter.key == key[:160], RateCounter.window_start == start
        )
        return int((await self.session.execute(stmt)).scalar() or 0)

    async def purge(self, now: datetime) -> int:
        result = await self.session.execute(delete(RateCounter).where(RateCounter.expires_at < now))
        return int(result.rowcount or 0)
