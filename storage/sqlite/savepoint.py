"""Savepoints that cost what SQLite charges for them.

Every chat message runs in two savepoints: its writer's in a shared transaction
(``storage.sqlite.group_commit``) and its dialog step's (``dialogs.engine``). Through SQLAlchemy's
``begin_nested`` each cost ≈ 30 µs of session bookkeeping (a nested session transaction, snapshots
of the session's objects, a Core nested transaction) around two statements SQLite runs in ≈ 1 µs —
together a quarter of a message's time. Most such blocks never touch an ORM object: their
statements are the hot ones (``storage.sqlite.hot``).

``savepoint(session)`` on the inline SQLite dialect issues ``SAVEPOINT`` on the ``sqlite3``
connection itself; ``RELEASE`` when the block ends, ``ROLLBACK TO`` and ``RELEASE`` when it raises.
SQLAlchemy's nested transaction is added inside it only once ORM objects are in play — the
session holds objects when the block opens, or an ORM method (``get``, ``execute``, ``add``,
``flush`` …) runs inside it (``storage.sqlite.inline_sqlite.orm_in_play``), or an inner block leaves
objects behind — and from that moment on:

* a failed flush rolls back to that nested transaction, not the whole shared one (SQLAlchemy rolls
  back to its nearest savepoint);
* when the block raises, the objects it changed are expired or expunged, as ``begin_nested``
  does; then the raw savepoint undoes everything the block wrote, hot statements included.

A block that only ran hot statements has no ORM state to put back. On every other database
(PostgreSQL) and driver (aiosqlite) it is ``session.begin_nested()``.
"""

from __future__ import annotations

import logging
import sqlite3
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from storage.sqlite.hot import raw_connection
from storage.sqlite.inline_sqlite import LAZY_SAVEPOINTS, LazySavepoint, innermost, orm_in_play

log = logging.getLogger("storage.sqlite.savepoint")


def holds_objects(sync: Session) -> bool:
    """Does the session hold any object (loaded, new or to be deleted)?"""
    # Session.new / .deleted build a set on every call; their dicts answer the same question.
    return bool(sync.identity_map or sync._new or sync._deleted)


class savepoint:  # used as ``async with savepoint(session):``
    """The block's writes happen entirely or (when it raises) not at all; the transaction
    around it goes on either way. (A class, not ``asynccontextmanager``: two per message.)"""

    __slots__ = ("_orm", "_raw", "_sp", "session")

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def __aenter__(self) -> None:
        session = self.session
        found = await raw_connection(session)
        if found is None:
            self._orm = session.begin_nested()
            await self._orm.__aenter__()
            return
        self._orm = None
        raw = self._raw = found[1]
        sync = session.sync_session
        if holds_objects(sync):
            sync.flush()  # what is pending belongs to the enclosing block, as with begin_nested
        stack: list[LazySavepoint] = sync.info.setdefault(LAZY_SAVEPOINTS, [])
        sp = self._sp = LazySavepoint(f'"lg_lazy_{len(stack)}"', innermost(sync))
        raw.execute(f"SAVEPOINT {sp.name}").close()
        stack.append(sp)
        if holds_objects(sync):
            orm_in_play(sync)  # objects loaded earlier may be changed in here

    async def __aexit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if self._orm is not None:
            await self._orm.__aexit__(exc_type, exc, tb)
            return
        sync = self.session.sync_session
        sp, raw = self._sp, self._raw
        try:
            if exc_type is not None:
                _undo(sync, raw, sp)
                return
            try:
                if sp.nested is not None:
                    sp.nested.commit()  # flushes what the block changed; a failure is undone
                raw.execute(f"RELEASE {sp.name}").close()
            except BaseException:
                _undo(sync, raw, sp)
                raise
        finally:
            stack = sync.info[LAZY_SAVEPOINTS]
            popped = stack.pop()
            assert popped is sp, "savepoints closed out of order"
            if stack and holds_objects(sync):
                orm_in_play(sync)  # the enclosing block now has objects in play


def _undo(sync: Session, raw: Any, sp: LazySavepoint) -> None:
    if sp.nested is not None and sync.get_nested_transaction() is sp.nested:
        sp.nested.rollback()  # its SQL savepoint, and the objects changed since
    if not raw.in_transaction:
        return  # SQLite ended the transaction itself (I/O error, disk full): nothing to undo here
    try:
        raw.execute(f"ROLLBACK TO {sp.name}").close()
        raw.execute(f"RELEASE {sp.name}").close()
    except sqlite3.Error:
        # The savepoint is gone with the transaction; whoever owns the transaction finds out
        # (storage.sqlite.group_commit checks before committing).
        log.warning("savepoint %s could not be rolled back", sp.name, exc_info=True)
