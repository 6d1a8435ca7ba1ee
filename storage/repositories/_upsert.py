"""Portable ``INSERT ... ON CONFLICT DO NOTHING``."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import Insert


@lru_cache(maxsize=256)
def _statement(dialect: str, table: Table, returning: Any) -> Insert:
    """Built once per table: the values travel as parameters, so SQLAlchemy's compiled-statement
    cache serves every later call (this is on the hot path of every message)."""
    module = postgresql if dialect == "postgresql" else sqlite
    return module.insert(table).on_conflict_do_nothing().returning(returning)


async def insert_ignore(
    session: AsyncSession, table: Table, values: dict[str, Any], returning: Any
) -> Any | None:
    """Insert a row unless it would violate a unique key; return ``returning`` or None."""
    stmt = _statement(session.bind.dialect.name, table, returning)
    result = await session.execute(stmt, values)
    return result.scalar_one_or_none()
