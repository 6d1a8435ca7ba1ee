"""Group commit for SQLite: writers that queue up share one transaction, each in its own savepoint.

SQLite has one writer at a time, so this process already queues its writers (one asyncio lock).
Beginning and committing a transaction per writer cost more than the writer's own statements
(the commit writes the WAL; now and then it also checkpoints). Here the queue is kept, but while
writers are waiting the transaction stays open:

* a writer takes the lock and gets the batch's session, its work inside a ``SAVEPOINT``
  (``storage.sqlite.savepoint``); an error rolls back to it — that writer's changes go, the others' stay —
  and is raised to that writer alone; afterwards the session forgets what the writer loaded
  (``expunge_all``), as closing a session of its own would;
* the transaction commits a few turns of the event loop after its first writer, once the writers
  queued by then have had their turn (or when the batch holds ``max_members`` writers) — a
  message that has just arrived takes a few turns to get from its socket to the queue, and with
  SQLite on the loop's own thread a writer never waits on I/O, so "nobody is queued right now"
  would be true almost always;
* every writer returns from ``transaction()`` only after the batch it belongs to has committed,
  so nothing is answered, sent or acknowledged before it is durable; if the commit fails, every
  writer of the batch gets the error (none of their changes happened).

A lone writer commits at once, so a quiet service behaves exactly as before; under load a batch
is as large as the queue. The connection stays open between batches (its page cache stays warm).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, AsyncTransaction

from storage.sqlite.inline_sqlite import CONNECTION_CACHES
from storage.sqlite.savepoint import holds_objects, savepoint

log = logging.getLogger("storage.sqlite.group_commit")


class _Batch:
    def __init__(
        self, connection: AsyncConnection, transaction: AsyncTransaction, session: AsyncSession
    ) -> None:
        self.connection = connection
        self.transaction = transaction
        self.session = session
        self.members = 0
        self.committer: asyncio.Task[None] | None = None
        self.committed: asyncio.Future[None] = asyncio.get_running_loop().create_future()


def _forget_writer(session: AsyncSession) -> None:
    """The previous writer's hooks and caches go; which connection the transaction holds stays."""
    info = session.info
    if info:
        kept = {key: info[key] for key in CONNECTION_CACHES if key in info}
        info.clear()
        info.update(kept)


class GroupCommit:
    """SQLite writers of one process queue here and share one commit, each in its own savepoint."""

    def __init__(
        self,
        engine: AsyncEngine,
        make_session: Callable[..., AsyncSession],
        before_commit: Callable[[AsyncSession], Awaitable[None]],
        *,
        max_members: int = 32,
        quiet_turns: int = 3,
    ) -> None:
        self.engine = engine
        self.make_session = make_session
        self.before_commit = before_commit
        self.max_members = max_members
        self.quiet_turns = quiet_turns
        self._lock = asyncio.Lock()
        self._batch: _Batch | None = None
        self._connection: AsyncConnection | None = None
        self.batches = 0
        """Transactions committed (for tests and the benchmark: writers ÷ batches)."""

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        await self._lock.acquire()
        batch: _Batch | None = None
        try:
            batch = self._batch or await self._begin()
            batch.members += 1
            session = batch.session
            _forget_writer(session)
            try:
                async with savepoint(session):
                    yield session
                    await self.before_commit(session)
            finally:
                # What this writer loaded stays readable for it, detached, as from a closed
                # session; the next writer starts with nothing cached.
                if holds_objects(session.sync_session):
                    session.expunge_all()
        except BaseException:
            if batch is not None and self._batch is batch and not self._intact(batch):
                await self._abort(batch, RuntimeError("the shared transaction was lost"))
            raise
        finally:
            try:
                if batch is not None and self._batch is batch:
                    if batch.members >= self.max_members:
                        await self._commit(batch)
                    elif batch.committer is None:
                        batch.committer = asyncio.get_running_loop().create_task(
                            self._commit_when_quiet(batch)
                        )
            finally:
                self._lock.release()
        await asyncio.shield(batch.committed)

    async def _commit_when_quiet(self, batch: _Batch) -> None:
        """Commit after a few turns of the event loop (a message that has just arrived needs
        them to get from its socket to the queue) and after every writer queued by then: they
        join this batch. Waiting for the lock, not spinning, while writers are at work."""
        for _ in range(self.quiet_turns):
            await asyncio.sleep(0)
        async with self._lock:
            if self._batch is batch:
                await self._commit(batch)

    async def _begin(self) -> _Batch:
        if self._connection is None or self._connection.closed:
            self._connection = await self.engine.connect()
        try:
            transaction = await self._connection.begin()
        except BaseException:
            await self._discard_connection()
            raise
        # One session for the batch (setting a session up and down cost more than a message's
        # statements); it never commits or rolls back the shared transaction itself.
        session = self.make_session(bind=self._connection, join_transaction_mode="rollback_only")
        self._batch = _Batch(self._connection, transaction, session)
        return self._batch

    async def _commit(self, batch: _Batch) -> None:
        if not self._intact(batch):
            await self._abort(batch, RuntimeError("the shared transaction was lost"))
            return
        self._batch = None
        await batch.session.close()
        try:
            await batch.transaction.commit()
        except BaseException as exc:
            log.error("group commit of %d writer(s) failed: %r", batch.members, exc)
            batch.committed.set_exception(exc if isinstance(exc, Exception) else RuntimeError(repr(exc)))
            batch.committed.exception()  # retrieved: the writers re-raise it themselves
            await self._discard_connection()
            return
        self.batches += 1
        batch.committed.set_result(None)

    @staticmethod
    def _intact(batch: _Batch) -> bool:
        """Still inside the shared transaction? (SQLite rolls a transaction back by itself on
        some errors — disk full, I/O — and SQLAlchemy would not know.)"""
        if not batch.connection.in_transaction():
            return False
        raw = batch.connection.sync_connection.connection.driver_connection  # type: ignore[union-attr]
        return bool(getattr(raw, "in_transaction", True))

    async def _abort(self, batch: _Batch, exc: Exception) -> None:
        """The batch cannot commit: every writer in it gets ``exc``."""
        self._batch = None
        try:
            await batch.session.close()
        except Exception:
            log.debug("closing an abandoned batch's session", exc_info=True)
        if not batch.committed.done():
            batch.committed.set_exception(exc)
            batch.committed.exception()
        log.error("group commit of %d writer(s) abandoned: %r", batch.members, exc)
        try:
            await batch.transaction.rollback()
        except Exception:
            log.debug("rolling back an abandoned batch", exc_info=True)
        await self._discard_connection()

    async def _discard_connection(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            try:
                await connection.close()
            except Exception:  # already broken; the pool replaces it
                log.debug("closing a failed writer connection", exc_info=True)

    async def close(self) -> None:
        async with self._lock:
            if self._batch is not None:
                await self._commit(self._batch)
            await self._discard_connection()
