"""Portable ``INSERT ... ON CONFLICT DO NOTHING``."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from storage.sqlite.hot import HotStatement


@lru_cache(maxsize=256)
def _statement(dialect: str, table: Table, returning: Any) -> HotStatement:
    """Built once per table (this is on the path of every message)."""
    module = postgresql if dialect == "postgresql" else sqlite
    return HotStatement(module.insert(table).on_conflict_do_nothing().returning(returning))


async def insert_ignore(
    session: AsyncSession, table: Table, values: dict[str, Any], returning: Any
) -> Any | None:
    """Insert a row unless it would violate a unique key; return ``returning`` or None."""
    stmt = _statement(session.bind.dialect.name, table, returning)
    return (await stmt.execute(session, values)).scalar()
