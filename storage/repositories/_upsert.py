"""Portable ``INSERT ... ON CONFLICT DO NOTHING``."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession


async def insert_ignore(
    session: AsyncSession, table: Table, values: dict[str, Any], returning: Any
) -> Any | None:
    """Insert a row unless it would violate a unique key; return ``returning`` or None."""
    dialect = session.bind.dialect.name
    module = postgresql if dialect == "postgresql" else sqlite
    stmt = module.insert(table).values(**values).on_conflict_do_nothing().returning(returning)
    result = await session.execute(stmt)
    return result.scalar_one_or_none()
