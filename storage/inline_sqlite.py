"""aiosqlite without its thread: statements run inline on the event loop.

aiosqlite hands every call (execute, fetch, commit …) to a worker thread and back; with ~30 such
calls per chat message that hand-off, not SQLite, was most of the time (measured: 7.4 → 2.1 ms per
message). SQLite on a local file answers in microseconds, and this process already serialises its
own writers (``storage.db.Database``), so running the calls inline is both faster and simpler.

The cost: while another *process* holds the write lock, this loop waits in SQLite's busy handler.
Keep other writers' transactions short (the CLI commands are), or switch it off with
``database.sqlite_inline: false``.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Generator
from typing import Any

import aiosqlite


class _InlineQueue:
    """Stands in for aiosqlite's queue to its thread (SQLAlchemy's adapter uses it directly for
    ``isolation_level``): runs the function at once and settles the future."""

    def put_nowait(self, item: tuple[Any, Callable[[], Any]]) -> None:
        future, function = item
        try:
            result = function()
        except BaseException as exc:  # handed to the awaiting caller
            if future is not None:
                future.set_exception(exc)
            return
        if future is not None:
            future.set_result(result)


class InlineConnection(aiosqlite.Connection):
    """An ``aiosqlite.Connection`` whose operations run in the calling thread."""

    def __init__(self, connector: Callable[[], sqlite3.Connection]) -> None:
        super().__init__(connector, iter_chunk_size=64)
        self._tx = _InlineQueue()  # type: ignore[assignment]

    def __await__(self) -> Generator[Any, None, aiosqlite.Connection]:
        return self._connect().__await__()

    async def _connect(self) -> aiosqlite.Connection:
        if self._connection is None:
            self._connection = self._connector()
        return self

    async def _execute(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        if not self._running or self._connection is None:
            raise ValueError("Connection closed")
        return fn(*args, **kwargs)

    def stop(self) -> None:  # type: ignore[override]
        self._running = False
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    async def close(self) -> None:
        self.stop()

    def __del__(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


def inline_creator(path: str, timeout: float) -> Callable[[], Any]:
    """An ``async_creator`` for ``create_async_engine``."""

    async def create() -> InlineConnection:
        conn = InlineConnection(lambda: sqlite3.connect(path, timeout=timeout, check_same_thread=False))
        return await conn

    return create
