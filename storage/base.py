"""Declarative base with a constraint naming convention and UTC-aware timestamps."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, MetaData
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncAttrs
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp that is always timezone-aware UTC in Python.

    PostgreSQL stores ``timestamptz``; SQLite has no zone, so values are stored as naive UTC and
    given their zone back on load. Naive datetimes are refused on the way in: a naive time is a bug.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def bind_processor(self, dialect: Dialect) -> Any:
        """On SQLite, one function straight to SQLAlchemy's DATETIME text format (the same text
        its own two-step processing writes; a test checks they agree). Every write carries a few
        timestamps; this halves their cost."""
        if dialect.name != "sqlite":
            return super().bind_processor(dialect)

        known: dict[datetime, str] = {}  # one message writes the same few instants many times

        def process(value: datetime | None) -> str | None:
            if value is None:
                return None
            text = known.get(value)  # an aware key never equals a naive value
            if text is not None:
                return text
            if value.tzinfo is None:
                raise ValueError("naive datetime given to a UTC column")
            v = value if value.tzinfo is UTC else value.astimezone(UTC)
            text = v.isoformat(" ", "microseconds")[:26]  # without the "+00:00"
            if len(known) >= 64:
                known.clear()
            known[value] = text
            return text

        return process

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(AsyncAttrs, DeclarativeBase):
    """The declarative base: constraint naming convention, datetimes stored as aware UTC."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime()}  # noqa: RUF012  (SQLAlchemy reads this class attribute)


def utcnow() -> datetime:
    return datetime.now(UTC)
