from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Identity, WebChatLine, WebPersona, WebRoomMember
from storage.repositories._upsert import insert_ignore


class WebChatRepository:
    """Web chat personas, rooms and transcripts."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def demo_personas(self, only: str | None = None) -> list[WebPersona]:
        """Personas anyone may pick in demo mode: never one that logged in with a phone or whose
        person is also known on another channel (a real person, should demo mode be switched on
        where people have logged in)."""
        web_id = Identity.__table__.alias("web_id")
        other = Identity.__table__.alias("other")
        real = (
            select(web_id.c.id)
            .join(other, (other.c.user_id == web_id.c.user_id) & (other.c.channel != "web"))
            .where(web_id.c.channel == "web", web_id.c.external_id == WebPersona.id)
        )
        stmt = (
            select(WebPersona)
            .where(WebPersona.phone.is_(None), ~real.exists(), *([WebPersona.id == only] if only else []))
            .order_by(WebPersona.created_at, WebPersona.id)
        )
        return list((await self.session.execute(stmt)).scalars())

    async def persona(self, persona_id: str) -> WebPersona | None:
        return await self.session.get(WebPersona, persona_id)

    async def persona_by_phone(self, phone: str) -> WebPersona | None:
        stmt = select(WebPersona).where(WebPersona.phone == phone).order_by(WebPersona.created_at).limit(1)
        return (await self.session.execute(stmt)).scalar()

    async def persona_of_user(self, user_id: int) -> WebPersona | None:
        """The web persona a person already has (the oldest, if several)."""
        stmt = (
            select(WebPersona)
            .join(Identity, (Identity.channel == "web") & (Identity.external_id == WebPersona.id))
            .where(Identity.user_id == user_id)
            .order_by(WebPersona.created_at)
            .limit(1)
        )
        return (await self.session.execute(stmt)).scalar()

    async def rename_persona(self, persona_id: str, name: str) -> None:
        persona = await self.session.get(WebPersona, persona_id)
        if persona is not None and name:
            persona.name = name[:16]

    async def add_persona(
        self, persona_id: str, name: str, role: str, now: datetime, *, phone: str | None = None
    ) -> WebPersona:
        persona = WebPersona(id=persona_id, name=name, role=role, created_at=now, phone=phone)
        self.session.add(persona)
        await self.session.flush()
        return persona

    async def rooms_of(self, persona_id: str) -> list[str]:
        stmt = select(WebRoomMember.room_id).where(WebRoomMember.persona_id == persona_id)
        return list((await self.session.execute(stmt)).scalars())

    async def join_room(self, room_id: str, persona_id: str, now: datetime) -> None:
        await insert_ignore(
            self.session,
            WebRoomMember.__table__,
            {"room_id": room_id, "persona_id": persona_id, "joined_at": now},
            WebRoomMember.room_id,
        )

    async def leave_room(self, room_id: str, persona_id: str) -> None:
        await self.session.execute(
            delete(WebRoomMember).where(
                WebRoomMember.room_id == room_id, WebRoomMember.persona_id == persona_id
            )
        )

    async def add_user_line(
        self, *, chat_id: str, sender_id: str, sender_name: str, text: str, now: datetime
    ) -> int:
        line = WebChatLine(
            chat_id=chat_id,
            sender_id=sender_id,
            sender_name=sender_name,
            from_bot=False,
            text=text,
            created_at=now,
        )
        self.session.add(line)
        await self.session.flush()
        return line.id

    async def add_bot_line_once(
        self, *, outbox_id: int, chat_id: str, bot_name: str, text: str, now: datetime
    ) -> int | None:
        """Deliver an outbox row into the transcript; None if it was already delivered."""
        return await insert_ignore(
            self.session,
            WebChatLine.__table__,
            {
                "chat_id": chat_id,
                "sender_id": "bot",
                "sender_name": bot_name,
                "from_bot": True,
                "text": text,
                "outbox_id": outbox_id,
                "created_at": now,
            },
            WebChatLine.id,
        )

    async def lines(self, chat_id: str, after_id: int = 0, limit: int = 200) -> list[WebChatLine]:
        stmt = (
            select(WebChatLine)
            .where(WebChatLine.chat_id == chat_id, WebChatLine.id > after_id)
            .order_by(WebChatLine.id.desc())
            .limit(limit)
        )
        return list(reversed(list((await self.session.execute(stmt)).scalars())))

    async def lines_since(self, after_id: int, limit: int = 500) -> list[WebChatLine]:
        stmt = select(WebChatLine).where(WebChatLine.id > after_id).order_by(WebChatLine.id).limit(limit)
        return list((await self.session.execute(stmt)).scalars())
