"""The database handle: engine, session factory, and the one way to open a write transaction.

SQLite (embedded default) runs in WAL mode and every transaction starts with ``BEGIN IMMEDIATE``,
so a read-then-write never fails half-way on a lock upgrade; inside one process writers queue
instead of spinning in SQLite's busy handler, and writers that queue up share one commit, each in
its own savepoint (``storage.sqlite.group_commit``). PostgreSQL runs at READ
COMMITTED with row locks and advisory locks where a service needs them.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from storage.sqlite.group_commit import GroupCommit

# ``async with savepoint(session):`` — the block's writes happen entirely or (when it raises) not
# at all; the transaction around it goes on. The public name, outside storage, of
# ``storage.sqlite.savepoint.savepoint``: a raw SAVEPOINT on the inline SQLite dialect,
# ``session.begin_nested()`` everywhere else.
from storage.sqlite.savepoint import savepoint as savepoint

READ_ONLY = "linggong_read_only"


def _prepare_sqlite_path(url: str) -> None:
    database = make_url(url).database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)


def make_engine(url: str, *, sqlite_inline: bool = True, **kwargs: Any) -> AsyncEngine:
    if url.startswith("sqlite"):
        _prepare_sqlite_path(url)
        database = make_url(url).database or ":memory:"
        # More prepared statements kept per connection than sqlite3's default 128: the app has a
        # few hundred distinct statements, and a miss means parsing the SQL again.
        kwargs["connect_args"] = {"timeout": 60, "cached_statements": 1024}
        if sqlite_inline and database != ":memory:":
            from storage.sqlite.inline_sqlite import inline_url

            engine = create_async_engine(inline_url(url), pool_use_lifo=True, **kwargs)
        else:
            engine = create_async_engine(url, **kwargs)

        @event.listens_for(engine.sync_engine, "connect")
        def _on_connect(dbapi_conn: Any, _record: Any) -> None:
            # Let SQLAlchemy, not pysqlite, decide when transactions begin (SQLAlchemy's recipe).
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=60000")
            cur.execute("PRAGMA mmap_size=268435456")
            cur.execute("PRAGMA cache_size=-32000")
            cur.execute("PRAGMA temp_store=MEMORY")
            cur.close()

        @event.listens_for(engine.sync_engine, "begin")
        def _on_begin(conn: Any) -> None:
            # The DBAPI cursor, not conn.exec_driver_sql: once per transaction, but that path
            # costs ~100 µs of bookkeeping here for a statement SQLite runs in ~5 µs.
            cursor = conn.connection.cursor()
            try:
                cursor.execute("BEGIN" if conn.get_execution_options().get(READ_ONLY) else "BEGIN IMMEDIATE")
            finally:
                cursor.close()

        return engine
    return create_async_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True, **kwargs)


BEFORE_COMMIT = "linggong_before_commit"


def before_commit(session: AsyncSession, hook: Callable[[AsyncSession], Awaitable[None]]) -> None:
    """Run ``hook`` inside this transaction just before it commits (once per registration)."""
    session.info.setdefault(BEFORE_COMMIT, []).append(hook)


async def run_before_commit(session: AsyncSession) -> None:
    while session.info.get(BEFORE_COMMIT):
        hook = session.info[BEFORE_COMMIT].pop(0)
        await hook(session)


def lock_key(*parts: str) -> int:
    """A stable signed 64-bit key for ``pg_advisory_xact_lock``."""
    digest = hashlib.blake2b("\x1f".join(parts).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


class Database:
    """Owns the engine and hands out transactions.

    ``transaction()`` is the only way application code writes: one session, one transaction,
    committed on success and rolled back on any exception.
    """

    def __init__(self, url: str, *, sqlite_inline: bool = True, **engine_kwargs: Any) -> None:
        self.url = url
        self.engine = make_engine(url, sqlite_inline=sqlite_inline, **engine_kwargs)
        self.is_sqlite = self.engine.dialect.name == "sqlite"
        session_class: type[AsyncSession] = AsyncSession
        if self.engine.dialect.driver == "linggong_inline":
            from storage.sqlite.inline_sqlite import InlineSession

            session_class = InlineSession
        self.sessions = async_sessionmaker(
            self.engine, expire_on_commit=False, class_=session_class
        )
        self._group: GroupCommit | None = None
        if self.is_sqlite:
            self._group = GroupCommit(self.engine, self.sessions, run_before_commit)

    def transaction(self, *, lock: tuple[str, ...] | None = None) -> AbstractAsyncContextManager[AsyncSession]:
        """Open a session inside one transaction.

        ``lock`` names a resource (e.g. a conversation key) held exclusively until commit, across
        processes: PostgreSQL takes a transaction-scoped advisory lock; SQLite's ``BEGIN
        IMMEDIATE`` already serialises all writers.
        """
        if self._group is not None:  # one writer at a time; queued writers share a commit
            return self._group.transaction()
        return self._transaction(lock)

    @asynccontextmanager
    async def _transaction(self, lock: tuple[str, ...] | None) -> AsyncIterator[AsyncSession]:
        async with self.sessions() as session, session.begin():
            if lock is not None:
                await session.execute(
                    text("SELECT pg_advisory_xact_lock(:k)"), {"k": lock_key(*lock)}
                )
            yield session
            await run_before_commit(session)

    @asynccontextmanager
    async def reader(self) -> AsyncIterator[AsyncSession]:
        """A read-only session for pages and reports (no writer lock taken)."""
        async with self.sessions() as session:
            await session.connection(execution_options={READ_ONLY: True})
            yield session

    async def dispose(self) -> None:
        if self._group is not None:
            await self._group.close()
        await self.engine.dispose()
