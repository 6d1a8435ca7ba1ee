"""Statements on the per-message path, compiled once and run straight on SQLite.

Every chat message runs the same handful of statements (record the message id, read and write
the conversation's place, find the person, queue the replies, claim the passive answer). Through
``Session.execute`` each costs ≈ 100–160 µs of SQLAlchemy bookkeeping here — per call it builds an
execution context, looks the compiled form up by cache key, runs events and wraps the result —
while SQLite answers in ≈ 5 µs. On the inline SQLite dialect (``storage.sqlite.inline_sqlite``) a
``HotStatement`` keeps what SQLAlchemy computes once (the SQL text for the dialect, parameter
order, the type processors for parameters and result columns, Python-side column defaults) and
per call only orders the values, runs the SQL on the transaction's own ``sqlite3`` connection and
converts the result columns. Pending ORM changes are flushed first, as ``Session.execute`` would.

On every other database (PostgreSQL) it is plain ``session.execute``: same statement, same
parameters, same answers — the tests run both.

Limits, checked when a statement is first compiled: no ``IN`` lists that expand per call, and
column defaults must be plain values or zero-argument callables.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import Executable
from sqlalchemy.sql.dml import Insert

from storage.sqlite.inline_sqlite import DRIVER, innermost
from storage.sqlite.inline_sqlite import RAW_CONNECTION as _RAW

Processor = Callable[[Any], Any] | None


class HotResult:
    """All rows (already fetched and converted) and the count of rows changed."""

    __slots__ = ("rowcount", "rows")

    def __init__(self, rows: list[tuple[Any, ...]], rowcount: int) -> None:
        self.rows = rows  # sqlite3 rows are tuples already
        self.rowcount = rowcount

    def first(self) -> tuple[Any, ...] | None:
        return self.rows[0] if self.rows else None

    def scalar(self) -> Any:
        return self.rows[0][0] if self.rows else None

    def scalar_one(self) -> Any:
        if len(self.rows) != 1:
            raise LookupError(f"expected one row, got {len(self.rows)}")
        return self.rows[0][0]


@dataclass(frozen=True)
class _Plan:
    sql: str
    order: tuple[str, ...]
    binds: tuple[Processor, ...]
    defaults: Mapping[str, Any]
    prefetch: tuple[tuple[str, Callable[[], Any]], ...]
    results: tuple[Processor, ...]


class HotStatement:
    """A prebuilt Core statement (values as ``bindparam``) for the per-message path."""

    def __init__(self, statement: Executable) -> None:
        self.statement = statement
        self._is_insert = isinstance(statement, Insert)
        self._plans: dict[tuple[int, tuple[str, ...] | None], _Plan] = {}

    async def execute(self, session: AsyncSession, params: Mapping[str, Any]) -> HotResult:
        sync = session.sync_session
        found = _cached_raw(sync) or await raw_connection(session)
        if found is None:
            result = await session.execute(self.statement, dict(params))
            rows = [tuple(r) for r in result] if result.returns_rows else []
            return HotResult(rows, result.rowcount if not result.returns_rows else len(rows))
        dialect, raw = found
        if sync.autoflush:
            sync.flush()
        plan = self._plan(dialect, params)
        if plan.defaults or plan.prefetch:
            values = {**plan.defaults, **params}
            for name, make in plan.prefetch:
                if name not in values:
                    values[name] = make()
        else:
            values = params
        args = [
            values[name] if proc is None else proc(values[name])
            for name, proc in zip(plan.order, plan.binds, strict=True)
        ]
        cursor = raw.execute(plan.sql, args)
        try:
            fetched = cursor.fetchall() if cursor.description is not None else []
            rowcount = cursor.rowcount
        finally:
            cursor.close()
        procs = plan.results
        if procs:
            fetched = [
                tuple(v if p is None else p(v) for p, v in zip(procs, row, strict=True))
                for row in fetched
            ]
        return HotResult(fetched, rowcount if rowcount >= 0 else len(fetched))

    def _plan(self, dialect: Dialect, params: Mapping[str, Any]) -> _Plan:
        # An INSERT compiles to the columns it is given, like Session.execute does.
        keys = tuple(params) if self._is_insert else None
        key = (id(dialect), keys)
        plan = self._plans.get(key)
        if plan is None:
            columns = frozenset(keys) if keys is not None else None
            plan = self._plans[key] = _compile(self.statement, dialect, columns)
        return plan


async def raw_connection(session: AsyncSession) -> tuple[Dialect, Any] | None:
    """The dialect and the ``sqlite3`` connection of the session's current transaction (its
    innermost savepoint begun), or None when the session is not on the inline SQLite dialect."""
    sync = session.sync_session
    found = _cached_raw(sync)
    if found is not None:
        return found
    if session.bind.dialect.driver != DRIVER:
        return None
    await session.ensure_connection()  # type: ignore[attr-defined]  # an InlineSession
    dialect = session.bind.dialect
    raw = sync.connection().connection.driver_connection  # in the current savepoint
    sync.info[_RAW] = (innermost(sync), dialect, raw)
    return dialect, raw


def _cached_raw(sync: Any) -> tuple[Dialect, Any] | None:
    # Keyed by the innermost transaction: a savepoint opened since must first take its
    # connection (SQLAlchemy emits the SAVEPOINT lazily, then).
    cached = sync.info.get(_RAW)
    if cached is not None and cached[0] is innermost(sync) and cached[0] is not None:
        return cached[1], cached[2]
    return None


def _compile(statement: Executable, dialect: Dialect, keys: frozenset[str] | None) -> _Plan:
    compiled = statement.compile(dialect=dialect, column_keys=sorted(keys) if keys else None)
    by_name: dict[str, Any] = {}
    for bind, name in compiled.bind_names.items():
        if bind.expanding:
            raise ValueError(f"{name}: expanding IN parameters are not supported here")
        by_name[name] = bind
    order: Sequence[str] = compiled.positiontup or ()
    binds = tuple(by_name[n].type.dialect_impl(dialect).bind_processor(dialect) for n in order)
    prefetch = []
    for column in [*compiled.insert_prefetch, *compiled.update_prefetch]:
        default = column.default if column in compiled.insert_prefetch else column.onupdate
        if default is None or not (default.is_scalar or default.is_callable):
            raise ValueError(f"{column}: only plain or zero-argument defaults are supported here")
        if default.is_scalar:
            prefetch.append((column.key, (lambda v=default.arg: v)))
        else:
            prefetch.append((column.key, (lambda f=default.arg: f(None))))
    computed = {name for name, _ in prefetch}
    defaults = {n: b.value for n, b in by_name.items() if not b.required and n not in computed}
    columns = list(getattr(statement, "exported_columns", ()))
    results = tuple(c.type.dialect_impl(dialect).result_processor(dialect, None) for c in columns)
    if all(p is None for p in results):
        results = ()  # rows come back as they are
    return _Plan(compiled.string, tuple(order), binds, defaults, tuple(prefetch), results)
