"""SQLite on the event loop itself: the standard-library driver behind SQLAlchemy's asyncio API.

aiosqlite hands every call (execute, fetch, commit …) to a worker thread and back, and
SQLAlchemy's adapter wraps each of those calls in a greenlet switch and a coroutine. SQLite on a
local file answers in microseconds, so that machinery — not SQLite — was most of the time of a
chat message. This dialect is SQLAlchemy's own ``pysqlite`` dialect, marked as usable from
``create_async_engine``: ``AsyncSession`` still runs each operation through ``greenlet_spawn``,
but the statements inside run straight on ``sqlite3`` with no further hand-offs. This process
already serialises its own writers (``storage.db.Database``).

The cost: while another *process* holds the write lock, this loop waits in SQLite's busy handler.
Keep other writers' transactions short (the CLI commands are), or switch it off with
``database.sqlite_inline: false`` (aiosqlite, with its thread).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import registry
from sqlalchemy.ext.asyncio import AsyncSession, AsyncSessionTransaction
from sqlalchemy.dialects.sqlite.pysqlite import SQLiteDialect_pysqlite
from sqlalchemy.engine import URL, Connection
from sqlalchemy.pool import AsyncAdaptedQueuePool
from sqlalchemy.util import EMPTY_DICT, immutabledict

DRIVER = "linggong_inline"


class InlineSQLiteDialect(SQLiteDialect_pysqlite):
    """``pysqlite``, accepted by ``create_async_engine``: calls never leave the loop's thread."""

    driver = DRIVER
    is_async = True
    supports_statement_cache = True

    @classmethod
    def get_pool_class(cls, url: URL) -> Any:
        # Waiting for a pooled connection must await, never block the loop's thread.
        return AsyncAdaptedQueuePool

    # Savepoints are two per message (the dialog step's, and each writer's in a shared
    # transaction); compiling a SavepointClause per call cost more than the rest of the message's
    # statements. SQLAlchemy generates the names (``sa_savepoint_N``); quoted all the same.
    def do_savepoint(self, connection: Any, name: str) -> None:
        _raw(connection, f'SAVEPOINT "{name}"')

    def do_rollback_to_savepoint(self, connection: Any, name: str) -> None:
        _raw(connection, f'ROLLBACK TO SAVEPOINT "{name}"')

    def do_release_savepoint(self, connection: Any, name: str) -> None:
        _raw(connection, f'RELEASE SAVEPOINT "{name}"')

    def create_connect_args(self, url: URL) -> Any:
        args, kwargs = super().create_connect_args(url)
        kwargs["check_same_thread"] = False  # the pool may be disposed from another thread
        return args, kwargs


def _raw(connection: Any, sql: str) -> None:
    """Run one statement on the ``sqlite3`` connection under a SQLAlchemy ``Connection``."""
    connection.connection.driver_connection.execute(sql).close()


registry.register(f"sqlite.{DRIVER}", __name__, "InlineSQLiteDialect")


def inline_url(url: str | URL) -> URL:
    """The same database through this dialect (``sqlite+aiosqlite://…`` → ``sqlite+linggong_inline://…``)."""
    from sqlalchemy.engine import make_url

    return make_url(url).set(drivername=f"sqlite+{DRIVER}")


_READY = "linggong_ready_for"
"""``Session.info`` key: the root transaction known to hold its connection."""
_PREBUFFER = immutabledict({"prebuffer_rows": True})


def _options(execution_options: Any) -> Any:
    return immutabledict(execution_options).union(_PREBUFFER) if execution_options else _PREBUFFER


class InlineSession(AsyncSession):
    """An ``AsyncSession`` for this dialect whose operations call the ORM directly.

    ``AsyncSession`` runs every operation in a fresh greenlet so that an async driver can suspend
    it; this dialect never suspends, and a greenlet per statement cost more than the statement
    (≈ 60–100 µs each here). Only taking a connection from the pool may have to wait, so a
    session bound to the engine takes its connection the usual way (once per transaction); one
    bound to a connection (``storage.group_commit``) never does. ``AsyncConnection.execute``
    insists on an awaiting driver: use the session's methods (as the application does), not the
    connection's.
    """

    async def ensure_connection(self) -> None:
        """Make sure the transaction holds its connection (from the pool the usual way)."""
        sync = self.sync_session
        transaction = sync.get_transaction()
        if transaction is not None and sync.info.get(_READY) is transaction:
            return
        if transaction is None or not transaction.connections:
            if isinstance(sync.bind, Connection):
                sync.connection()
            else:
                await AsyncSession.connection(self)
            transaction = sync.get_transaction()
        sync.info[_READY] = transaction

    def begin(self) -> AsyncSessionTransaction:
        return _DirectTransaction(self)

    async def commit(self) -> None:
        self.sync_session.commit()

    async def rollback(self) -> None:
        self.sync_session.rollback()

    async def close(self) -> None:
        self.sync_session.close()

    async def execute(  # type: ignore[override]
        self,
        statement: Any,
        params: Any = None,
        *,
        execution_options: Any = EMPTY_DICT,
        bind_arguments: Any = None,
        **kw: Any,
    ) -> Any:
        await self.ensure_connection()
        return self.sync_session.execute(
            statement,
            params=params,
            execution_options=_options(execution_options),
            bind_arguments=bind_arguments,
            **kw,
        )

    async def scalar(  # type: ignore[override]
        self,
        statement: Any,
        params: Any = None,
        *,
        execution_options: Any = EMPTY_DICT,
        bind_arguments: Any = None,
        **kw: Any,
    ) -> Any:
        await self.ensure_connection()
        return self.sync_session.scalar(
            statement,
            params=params,
            execution_options=_options(execution_options),
            bind_arguments=bind_arguments,
            **kw,
        )

    async def get(self, *args: Any, **kw: Any) -> Any:  # type: ignore[override]
        await self.ensure_connection()
        return self.sync_session.get(*args, **kw)

    async def get_one(self, *args: Any, **kw: Any) -> Any:  # type: ignore[override]
        await self.ensure_connection()
        return self.sync_session.get_one(*args, **kw)

    async def refresh(self, *args: Any, **kw: Any) -> None:  # type: ignore[override]
        await self.ensure_connection()
        self.sync_session.refresh(*args, **kw)

    async def delete(self, instance: object) -> None:
        await self.ensure_connection()
        self.sync_session.delete(instance)

    async def merge(self, *args: Any, **kw: Any) -> Any:  # type: ignore[override]
        await self.ensure_connection()
        return self.sync_session.merge(*args, **kw)

    async def flush(self, objects: Any = None) -> None:
        await self.ensure_connection()
        self.sync_session.flush(objects=objects)

    def begin_nested(self) -> AsyncSessionTransaction:
        return _DirectTransaction(self, nested=True)


class _DirectTransaction(AsyncSessionTransaction):
    """``begin()`` / ``begin_nested()`` of an ``InlineSession``, called directly (the connection
    is taken lazily, by the first statement, as ``Session.begin`` does)."""

    __slots__ = ()

    async def start(self, is_ctxmanager: bool = False) -> AsyncSessionTransaction:
        sync = self.session.sync_session
        if self.nested:
            await self.session.ensure_connection()  # type: ignore[attr-defined]
        self.sync_transaction = self._assign_proxied(
            sync.begin_nested() if self.nested else sync.begin()
        )
        if is_ctxmanager:
            self.sync_transaction.__enter__()
        return self

    async def commit(self) -> None:
        self._sync_transaction().commit()

    async def rollback(self) -> None:
        self._sync_transaction().rollback()

    async def __aexit__(self, type_: Any, value: Any, traceback: Any) -> None:
        self._sync_transaction().__exit__(type_, value, traceback)
