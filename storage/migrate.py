"""Run Alembic migrations: the only way the schema is made."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Literal, TypeVar

from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

SchemaStatus = Literal["current", "missing", "behind", "unknown"]
"""``current``: at the scripts' head. ``missing``: never migrated (no file, no version table).
``behind``: at an older revision of these scripts. ``unknown``: at a revision these scripts do
not have (a newer release migrated it)."""
_T = TypeVar("_T")

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def _in_thread(fn, *args) -> None:  # type: ignore[no-untyped-def]
    """env.py calls asyncio.run(); from inside a running loop, do it in a worker thread."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        fn(*args)
        return
    import threading

    errors: list[BaseException] = []

    def target() -> None:
        try:
            fn(*args)
        except BaseException as exc:  # re-raised below in the caller's thread
            errors.append(exc)

    t = threading.Thread(target=target)
    t.start()
    t.join()
    if errors:
        raise errors[0]


def _call(fn: Callable[[], _T]) -> _T:
    """``fn()``, in a worker thread when called from inside a running event loop."""
    result: list[_T] = []

    def run() -> None:
        result.append(fn())

    _in_thread(run)
    return result[0]


def _compare(current: frozenset[str], script: ScriptDirectory) -> SchemaStatus:
    if not current:
        return "missing"
    if current == frozenset(script.get_heads()):
        return "current"
    for rev in current:
        try:
            if script.get_revision(rev) is None:
                return "unknown"
        except CommandError:  # alembic's ResolutionError is one
            return "unknown"
    return "behind"


def _sqlite_file_missing(url: str) -> bool:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return False
    database = parsed.database or ""
    if not database or database == ":memory:" or database.startswith("file:"):
        return False
    return not Path(database).exists()


@contextmanager
def _quiet_alembic() -> Iterator[None]:
    """Alembic's INFO chatter (plugins, context impl) is noise for a status check."""
    logger = logging.getLogger("alembic")
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(level)


async def schema_status_async(url: str) -> SchemaStatus:
    """How the database at ``url`` stands against the migration scripts (read-only: an absent
    SQLite file is ``missing`` and is not created)."""
    if _sqlite_file_missing(url):
        return "missing"

    def heads(conn: Connection) -> frozenset[str]:
        return frozenset(MigrationContext.configure(conn).get_current_heads())

    with _quiet_alembic():
        script = ScriptDirectory.from_config(alembic_config(url))
        engine = create_async_engine(url, poolclass=NullPool)
        try:
            async with engine.connect() as conn:
                current = await conn.run_sync(heads)
        finally:
            await engine.dispose()
        return _compare(current, script)


def schema_status(url: str) -> SchemaStatus:
    """``schema_status_async`` for synchronous callers (``linggong serve`` before it starts)."""
    return _call(lambda: asyncio.run(schema_status_async(url)))


def upgrade(url: str, revision: str = "head") -> None:
    _in_thread(command.upgrade, alembic_config(url), revision)


def downgrade(url: str, revision: str) -> None:
    _in_thread(command.downgrade, alembic_config(url), revision)
