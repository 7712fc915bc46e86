"""A hot read built and compiled by the ORM once per process, then re-run with new values.

The dial's one read (``dial_checks.dial_row``) joins the lead, rep, agent and campaign and carries a
dozen subqueries; building and compiling that queryset cost most of a dial's CPU (about 6 ms of 10),
paid again for every call although only the call's id and "now" change. ``prepared_first`` builds
the queryset twice with two different sets of placeholder values, compiles both and keeps the SQL
once it has seen that the two differ in those parameters and nowhere else. Later runs swap the real
values into the kept parameters and hand Django's own iterator the kept compiler, so the rows come
back exactly as ``queryset.first()`` would give them: the model, its ``select_related`` rows and its
annotations, with the database's converters applied.

When the check fails (a value derived from a placeholder, a query that changes shape with its
values) nothing is kept and every run builds its queryset, as before. A compiler belongs to one
database connection, and Django's connections are per thread, so what is kept is per thread.
"""

from __future__ import annotations

import copy
import datetime as dt
import threading
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet

#: Two sets of placeholder values no real row or clock can take (ids are positive; 1971 and 1972 are past).
_PLACEHOLDERS = (
    {"pk": -7_000_000_001, "now": dt.datetime(1971, 2, 3, 4, 5, 6, 789012, tzinfo=dt.UTC)},
    {"pk": -7_000_000_002, "now": dt.datetime(1972, 3, 4, 5, 6, 7, 890123, tzinfo=dt.UTC)},
)
_local = threading.local()


@dataclass(frozen=True)
class _Prepared:
    queryset: QuerySet
    compiler: Any
    sql: str
    params: tuple[Any, ...]
    slots: tuple[tuple[int, str], ...]

    def first(self, values: dict[str, Any]) -> Any | None:
        ops = self.compiler.connection.ops
        params = list(self.params)
        for index, name in self.slots:
            params[index] = _adapt(ops, values[name])
        compiler = copy.copy(self.compiler)
        sql, bound = self.sql, tuple(params)
        compiler.as_sql = lambda *args, **kwargs: (sql, bound)
        queryset = self.queryset._chain()  # a fresh result cache; the query's other state is shared, read-only
        queryset.query.get_compiler = lambda *args, **kwargs: compiler
        return next(iter(queryset), None)


def _adapt(ops: Any, value: Any) -> Any:
    """A value as the ORM would put it in the parameters (datetimes differ by database)."""
    return ops.adapt_datetimefield_value(value) if isinstance(value, dt.datetime) else value


def _prepare(build: Callable[..., QuerySet]) -> _Prepared | None:
    """Compile ``build`` with both placeholder sets; kept only if they differ in the placeholders alone."""
    compiled = []
    for values in _PLACEHOLDERS:
        queryset = build(**values)
        compiler = queryset.query.get_compiler(using=queryset.db)
        sql, params = compiler.as_sql()
        compiled.append((queryset, compiler, sql, tuple(params)))
    (queryset, compiler, sql, params), (_, _, other_sql, other_params) = compiled
    if sql != other_sql or len(params) != len(other_params):
        return None
    ops = compiler.connection.ops
    slots = []
    for index, (mine, theirs) in enumerate(zip(params, other_params, strict=True)):
        if mine == theirs:
            continue
        name = next(
            (
                name
                for name in _PLACEHOLDERS[0]
                if mine == _adapt(ops, _PLACEHOLDERS[0][name]) and theirs == _adapt(ops, _PLACEHOLDERS[1][name])
            ),
            None,
        )
        if name is None:  # a parameter derived from a placeholder: it cannot be swapped
            return None
        slots.append((index, name))
    return _Prepared(queryset, compiler, sql, params, tuple(slots))


def prepared_first(key: Hashable, build: Callable[..., QuerySet], *, pk: int, now: dt.datetime) -> Any | None:
    """``build(pk=pk, now=now).first()``, compiled once per thread for ``key``.

    ``key`` must name everything besides ``pk`` and ``now`` that shapes the query. ``build`` must return
    at most one row (a filter on the primary key) and use ``now`` only as a value, never in arithmetic.
    """
    kept: dict[Any, _Prepared | None] = getattr(_local, "kept", None) or {}
    _local.kept = kept
    if key not in kept:
        kept[key] = _prepare(build)
    prepared = kept[key]
    if prepared is None:
        return build(pk=pk, now=now).first()
    return prepared.first({"pk": pk, "now": now})


def prepared_forget() -> None:
    """Drop what this thread kept (tests that swap the database or the registered checks)."""
    _local.kept = {}
