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
from sqlalchemy.dialects.sqlite.pysqlite import SQLiteDialect_pysqlite
from sqlalchemy.engine import URL, Connection
from sqlalchemy.ext.asyncio import AsyncSession, AsyncSessionTransaction
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

    # Savepoints are two per message (each writer's in a shared transaction, and the dialog
    # step's). SQLAlchemy numbers them ``sa_savepoint_N`` with N growing for as long as the
    # connection lives; every new name was a new statement for sqlite3's prepared-statement cache,
    # pushing the per-message statements out of it. SQLite resolves a savepoint name to the most
    # recent one, and SQLAlchemy nests savepoints strictly (last opened, first closed), so a
    # handful of reused names behave the same. ROLLBACK TO is followed by RELEASE, as SQLAlchemy
    # considers a rolled-back savepoint gone.
    def do_savepoint(self, connection: Any, name: str) -> None:
        _raw(connection, f"SAVEPOINT {_slot(name)}")

    def do_rollback_to_savepoint(self, connection: Any, name: str) -> None:
        slot = _slot(name)
        _raw(connection, f"ROLLBACK TO SAVEPOINT {slot}")
        _raw(connection, f"RELEASE SAVEPOINT {slot}")

    def do_release_savepoint(self, connection: Any, name: str) -> None:
        _raw(connection, f"RELEASE SAVEPOINT {_slot(name)}")

    def create_connect_args(self, url: URL) -> Any:
        args, kwargs = super().create_connect_args(url)
        kwargs["check_same_thread"] = False  # the pool may be disposed from another thread
        return args, kwargs


def _slot(name: str) -> str:
    """``sa_savepoint_13`` → ``"lg_sp_1"``: one of four names, by SQLAlchemy's number."""
    digits = name.rsplit("_", 1)[-1]
    return f'"lg_sp_{int(digits) % 4}"' if digits.isdigit() else '"' + name.replace('"', "") + '"'


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
RAW_CONNECTION = "linggong_hot_connection"
"""``Session.info`` key: (the innermost transaction, its dialect, its sqlite3 connection), for
``storage.sqlite.hot``."""
CONNECTION_CACHES = (_READY, RAW_CONNECTION)
"""``Session.info`` entries keyed by the transaction they describe: still right for a later user
of the same session and transaction (``storage.sqlite.group_commit`` keeps them between writers)."""
_PREBUFFER = immutabledict({"prebuffer_rows": True})


def _options(execution_options: Any) -> Any:
    return immutabledict(execution_options).union(_PREBUFFER) if execution_options else _PREBUFFER


LAZY_SAVEPOINTS = "linggong_lazy_savepoints"
"""``Session.info`` key: the open savepoints of ``storage.sqlite.savepoint`` (innermost last)."""


class LazySavepoint:
    """A ``SAVEPOINT`` issued on the ``sqlite3`` connection, and — from the moment ORM objects can
    be in play inside it — the SQLAlchemy nested transaction that keeps the session's objects in
    step with it (``nested``). See ``storage.sqlite.savepoint``."""

    __slots__ = ("name", "nested", "opened_in")

    def __init__(self, name: str, opened_in: Any) -> None:
        self.name = name
        self.opened_in = opened_in  # SQLAlchemy's innermost transaction when it opened
        self.nested: Any = None


def innermost(sync: Any) -> Any:
    """SQLAlchemy's innermost transaction of a (sync) session: its open savepoint, or the root."""
    return sync.get_nested_transaction() or sync.get_transaction()


def orm_in_play(sync: Any) -> None:
    """The ORM is about to load, add or flush objects, or to begin a nested transaction of its
    own: the innermost open savepoint gets its SQLAlchemy nested transaction now (so that a
    failed flush rolls back to it, not the whole transaction, and a rollback restores the objects
    changed inside it). Not when SQLAlchemy's own ``begin_nested`` already covers the work."""
    stack = sync.info.get(LAZY_SAVEPOINTS)
    if stack:
        top = stack[-1]
        if top.nested is None and innermost(sync) is top.opened_in:
            top.nested = sync.begin_nested()


class InlineSession(AsyncSession):
    """An ``AsyncSession`` for this dialect whose operations call the ORM directly.

    ``AsyncSession`` runs every operation in a fresh greenlet so that an async driver can suspend
    it; this dialect never suspends, and a greenlet per statement cost more than the statement
    (≈ 60–100 µs each here). Only taking a connection from the pool may have to wait, so a
    session bound to the engine takes its connection the usual way (once per transaction); one
    bound to a connection (``storage.sqlite.group_commit``) never does. ``AsyncConnection.execute``
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
        return await self._statement(
            self.sync_session.execute, statement, params, execution_options, bind_arguments, kw
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
        return await self._statement(self.sync_session.scalar, statement, params, execution_options, bind_arguments, kw)

    async def _statement(
        self, run: Any, statement: Any, params: Any, execution_options: Any, bind_arguments: Any, kw: Any
    ) -> Any:
        await self._ready_for_orm()
        return run(
            statement,
            params=params,
            execution_options=_options(execution_options),
            bind_arguments=bind_arguments,
            **kw,
        )

    async def _ready_for_orm(self) -> None:
        """Before any ORM operation: the connection taken, the open savepoint ready for objects."""
        await self.ensure_connection()
        orm_in_play(self.sync_session)

    async def get(self, *args: Any, **kw: Any) -> Any:  # type: ignore[override]
        await self._ready_for_orm()
        return self.sync_session.get(*args, **kw)

    async def get_one(self, *args: Any, **kw: Any) -> Any:  # type: ignore[override]
        await self._ready_for_orm()
        return self.sync_session.get_one(*args, **kw)

    async def refresh(self, *args: Any, **kw: Any) -> None:  # type: ignore[override]
        await self._ready_for_orm()
        self.sync_session.refresh(*args, **kw)

    async def delete(self, instance: object) -> None:
        await self._ready_for_orm()
        self.sync_session.delete(instance)

    async def merge(self, *args: Any, **kw: Any) -> Any:  # type: ignore[override]
        await self._ready_for_orm()
        return self.sync_session.merge(*args, **kw)

    async def flush(self, objects: Any = None) -> None:
        await self._ready_for_orm()
        self.sync_session.flush(objects=objects)

    def add(self, instance: object, *, _warn: bool = True) -> None:
        orm_in_play(self.sync_session)
        self.sync_session.add(instance, _warn=_warn)

    def add_all(self, instances: Any) -> None:
        orm_in_play(self.sync_session)
        self.sync_session.add_all(instances)

    def begin_nested(self) -> AsyncSessionTransaction:
        orm_in_play(self.sync_session)
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
