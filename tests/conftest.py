"""Shared fixtures: databases on SQLite *and* PostgreSQL, a fixed clock, the real engine, chats.

PostgreSQL (127.0.0.1:5432, trust auth) is where this project is developed and checked; tests
that take ``db`` run on both backends and never skip. A fresh PostgreSQL database is created for
each test session and dropped after it.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from bot.app import Services, build_services
from bot.config import AppConfig, load_config
from dialogs.events import InboundMessage
from storage.base import Base
from storage.db import Database
from storage.migrate import upgrade

PG_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
ROOT = Path(__file__).resolve().parent.parent


class FakeClock:
    """A settable clock, timezone-aware UTC (2026-11-26 08:00 Beijing time by default)."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 11, 26, 0, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> datetime:
        self.now += timedelta(**kwargs)
        return self.now


async def _pg_admin(sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(PG_ADMIN_URL)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite") / "template.db"
    upgrade(f"sqlite+aiosqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    name = f"lg_test_{uuid.uuid4().hex[:10]}"
    asyncio.run(_pg_admin(f'CREATE DATABASE "{name}"'))
    base = PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
    url = f"{base}/{name}"
    upgrade(url)
    yield url
    asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated, empty database URL on each backend."""
    if request.param == "sqlite":
        path = tmp_path / "test.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite+aiosqlite:///{path}"
    url = request.getfixturevalue("postgres_url")
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)

    async def truncate() -> None:
        db = Database(url)
        try:
            async with db.transaction() as session:
                await session.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        finally:
            await db.dispose()

    asyncio.run(truncate())
    return url


@pytest.fixture
async def db(db_url: str) -> AsyncIterator[Database]:
    database = Database(db_url)
    yield database
    await database.dispose()


@pytest.fixture
def no_db_url(tmp_path: Path) -> str:
    """For tests that take no database, so they run once instead of once per backend: an SQLite
    file without tables, where any query fails loudly rather than finding some database."""
    return f"sqlite+aiosqlite:///{tmp_path / 'no-tables.db'}"


@pytest.fixture
async def no_db(no_db_url: str) -> AsyncIterator[Database]:
    """A ``Database`` on ``no_db_url``, for code that wants one but must never query it."""
    database = Database(no_db_url)
    yield database
    await database.dispose()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def cfg(db_url: str) -> AppConfig:
    return load_config(ROOT / "config.yaml", env={"DATABASE_URL": db_url})


@pytest.fixture
async def services(cfg: AppConfig, db: Database, clock: FakeClock) -> Services:
    return build_services(cfg, db=db, clock=clock)


@pytest.fixture
async def no_db_services(no_db_url: str, no_db: Database, clock: FakeClock) -> Services:
    """``services`` wired the same way on ``no_db``: for tests of the wiring that never query."""
    cfg = load_config(ROOT / "config.yaml", env={"DATABASE_URL": no_db_url})
    return build_services(cfg, db=no_db, clock=clock)


@dataclass
class Chat:
    """A person talking to the real engine; ``say`` returns the bot's replies as text."""

    services: Services
    user_id: str = "u1"
    channel: str = "web"
    name: str = "测试用户"
    chat_id: str | None = None
    is_group: bool = False
    mentions_bot: bool = False
    _n: int = 0
    transcript: list[tuple[str, str]] = field(default_factory=list)

    def message(self, text: str, message_id: str | None = None) -> InboundMessage:
        self._n += 1
        return InboundMessage(
            channel=self.channel,
            chat_id=self.chat_id or self.user_id,
            user_id=self.user_id,
            is_group=self.is_group,
            mentions_bot=self.mentions_bot,
            text=text,
            message_id=message_id or f"{self.user_id}-{self._n}-{uuid.uuid4().hex[:6]}",
            received_at=self.services.clock(),
            sender_name=self.name,
        )

    async def say(self, text: str) -> str:
        """Send one message; the bot's replies joined by newlines."""
        result = await self.services.engine.handle(self.message(text))
        reply = "\n".join(r.text for r in result.replies)
        self.transcript += [("user", text), ("bot", reply)]
        return reply


@pytest.fixture
def chat(services: Services) -> Chat:
    return Chat(services)


@pytest.fixture
def make_chat(services: Services):  # type: ignore[no-untyped-def]
    def make(user_id: str, **kwargs: object) -> Chat:
        return Chat(services, user_id=user_id, **kwargs)  # type: ignore[arg-type]

    return make
