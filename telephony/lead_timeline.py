"""The lead's call timeline on ``crm.Lead`` (``first_call_at``, ``first_human_call_at``,
``first_connect_at``): written where calls happen, so the funnel reads lead rows instead of every call log.

* A call is **dialled** once its status is anything but queued, scheduled or cancelled (``NOT_DIALLED``).
* Its **dial time** is ``dispatched_at`` (our claim, just before the provider is asked), else ``created_at``
  (a call we never dispatched ourselves: demo data, rows from before the claim stamped it). A call handed
  to Call Karo with a later ``schedule_at`` counts from the hand-over, as its status says "initiated".
* ``first_call_at``: the earliest dial time of the lead's dialled calls, any provider;
  ``first_human_call_at``: the same over providers whose calls a person makes (``asks_wrap_up``: Acefone);
  ``first_connect_at``: the earliest dial time of a dialled call with talk time (``duration_seconds > 0``).

Every write only moves a time earlier (``Least(Coalesce(field, t), t)``, filtered to rows it changes), so
writes are idempotent and order-independent: a duplicate, late or out-of-order event never moves a time
later. When the caller has just read the lead, a time it shows as early already costs no query.

Writers: the dispatch's result (``telephony.services._dispatch``: every dial, a rep's Acefone
click-to-call included), the follow-up of a call turning final (``telephony.events`` per call,
``telephony.final_calls`` per drain batch: it also sets the connect), and ``lead_timeline_backfill``,
one set-based ``UPDATE … FROM (SELECT lead_id, min(…) … GROUP BY lead_id)`` per call-log table, for rows
written in bulk (the data migrations, the demo history, the benchmark seed).
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterable
from typing import Any

from django.db import connection as default_connection
from django.db.models import DateTimeField, F, Q, Value
from django.db.models.functions import Coalesce, Least

from crm.models import Lead

from .registry import _provider_class, call_log_model, provider_names
from .status import CallStatus

#: Statuses of a call not dialled (yet, or ever): everything else counts as dialled.
NOT_DIALLED = (CallStatus.QUEUED, CallStatus.SCHEDULED, CallStatus.CANCELLED)
FIELDS = ("first_call_at", "first_human_call_at", "first_connect_at")
Times = dict[str, dt.datetime]


def is_human(provider: str) -> bool:
    """Whether a person makes this provider's calls (its calls are wrapped up by the rep)."""
    return bool(_provider_class(provider).asks_wrap_up)


def human_providers() -> list[str]:
    return [name for name in provider_names() if is_human(name)]


def dialled_times(*, provider: str, at: dt.datetime, connected: bool = False) -> Times:
    """The timeline times one dialled call at ``at`` proves for its lead."""
    times = {"first_call_at": at}
    if is_human(provider):
        times["first_human_call_at"] = at
    if connected:
        times["first_connect_at"] = at
    return times


def call_times(call_log: Any, provider: str) -> Times:
    """What a call log proves for its lead's timeline: nothing while it is not dialled."""
    at = call_log.dispatched_at or call_log.created_at
    if call_log.status in NOT_DIALLED or at is None:
        return {}
    return dialled_times(provider=provider, at=at, connected=(call_log.duration_seconds or 0) > 0)


def loaded_lead(call_log: Any) -> Lead | None:
    """The call's lead if it was read with the call (``select_related``), else None: never a query."""
    return call_log.lead if type(call_log).lead.is_cached(call_log) else None


def _still_needed(times: Times, known: Lead | None) -> Times:
    """The times a lead row just read does not already show as early (all of them when unread)."""
    if known is None:
        return dict(times)
    return {f: t for f, t in times.items() if getattr(known, f) is None or getattr(known, f) > t}


def _earlier(field: str, at: dt.datetime) -> Least:
    value = Value(at, output_field=DateTimeField())
    return Least(Coalesce(F(field), value), value)


def lead_timeline_note(*, lead_id: int, times: Times, known: Lead | None = None) -> bool:
    """At most one conditional UPDATE moving the lead's times earlier; none when ``known`` (the lead as
    the caller just read it) already shows each time as early. True when a row was written."""
    times = _still_needed(times, known)
    if not times:
        return False
    later = Q()
    for field, at in times.items():
        later |= Q(**{f"{field}__isnull": True}) | Q(**{f"{field}__gt": at})
    updates = {field: _earlier(field, at) for field, at in times.items()}
    return bool(Lead.objects.filter(pk=lead_id).filter(later).update(**updates))


def leads_timeline_note(calls: Iterable[tuple[str, Any]]) -> int:
    """The timelines of many calls' leads in at most one UPDATE (a CASE per column). A call whose lead is
    loaded on it (``call_log.lead``) and already early costs nothing. Returns the leads written."""
    wanted: dict[int, Times] = {}
    known: dict[int, Lead | None] = {}
    for provider, log in calls:
        for field, at in call_times(log, provider).items():
            mine = wanted.setdefault(log.lead_id, {})
            mine[field] = min(at, mine.get(field, at))
        known.setdefault(log.lead_id, loaded_lead(log))
    needed = {pk: rest for pk, times in wanted.items() if (rest := _still_needed(times, known.get(pk)))}
    if not needed:
        return 0
    if len(needed) == 1:
        ((pk, times),) = needed.items()
        return int(lead_timeline_note(lead_id=pk, times=times))
    return _many_earlier(needed)


def _many_earlier(needed: dict[int, Times], connection: Any = default_connection) -> int:
    """Every lead's times in ONE ``executemany`` (psycopg 3 pipelines it): the same only-earlier rule as
    ``lead_timeline_note``, a time the lead does not need given as NULL. Django's ``Case``/``When`` per lead
    cost about 0.4 ms of CPU per lead in a drain batch; this costs a tuple of parameters."""
    qn, adapt = connection.ops.quote_name, connection.ops.adapt_datetimefield_value
    value = "%s::timestamptz" if connection.vendor == "postgresql" else "%s"  # a NULL needs its type there
    lead = qn(Lead._meta.db_table)
    sets, changes = _earlier_sets(lead, dict.fromkeys(FIELDS, value))  # the backfill's rule, one value per time
    sql = f"UPDATE {lead} SET {sets} WHERE {lead}.{qn('id')} = %s AND ({changes})"  # noqa: S608
    params = []
    for pk, times in needed.items():
        values = [adapt(times.get(f)) for f in FIELDS]
        params.append((*[v for v in values for _ in range(3)], pk, *[v for v in values for _ in range(2)]))
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)
        return max(cursor.rowcount, 0)


_DIALLED_WHERE = "status NOT IN ({})".format(", ".join(f"'{s}'" for s in NOT_DIALLED))  # our own constants
_AT = "coalesce(dispatched_at, created_at)"
_CONNECTED_AT = f"CASE WHEN duration_seconds > 0 THEN {_AT} END"


def _earlier_sets(lead: str, values: dict[str, str]) -> tuple[str, str]:
    """``SET`` assignments that only move a column earlier, and the condition that one of them does."""
    sets, changes = [], []
    for column, value in values.items():
        earlier = f"{value} IS NOT NULL AND ({lead}.{column} IS NULL OR {value} < {lead}.{column})"
        sets.append(f"{column} = CASE WHEN {earlier} THEN {value} ELSE {lead}.{column} END")
        changes.append(f"({earlier})")
    return ", ".join(sets), " OR ".join(changes)


def _columns(human: bool, dialled: str, connected: str) -> dict[str, str]:
    columns = {"first_call_at": dialled, "first_connect_at": connected}
    return columns | ({"first_human_call_at": dialled} if human else {})


def backfill_sql(lead: str, calls: str, *, human: bool, update_from: bool = True) -> str:
    """The backfill of one call-log table (quoted names): ONE ``UPDATE … FROM`` a grouped query
    (PostgreSQL, SQLite 3.33+), or correlated subqueries per lead for an older SQLite (slow, small data).
    Only quoted table names and this module's constants go into the text: no value is interpolated."""
    if update_from:
        sets, changes = _earlier_sets(lead, _columns(human, "f.dialled", "f.connected"))
        grouped = (
            f"SELECT lead_id, min({_AT}) AS dialled, min({_CONNECTED_AT}) AS connected "  # noqa: S608
            f"FROM {calls} WHERE {_DIALLED_WHERE} GROUP BY lead_id"
        )
        return f"UPDATE {lead} SET {sets} FROM ({grouped}) AS f WHERE {lead}.id = f.lead_id AND ({changes})"  # noqa: S608
    where = f"FROM {calls} WHERE {calls}.lead_id = {lead}.id AND {_DIALLED_WHERE}"
    sets, changes = _earlier_sets(
        lead, _columns(human, f"(SELECT min({_AT}) {where})", f"(SELECT min({_CONNECTED_AT}) {where})")
    )
    return f"UPDATE {lead} SET {sets} WHERE {changes}"  # noqa: S608


def lead_timeline_backfill_table(
    *, lead_table: str, call_table: str, human: bool, connection: Any = default_connection
) -> int:
    """Fill the timeline from one call-log table, set-based, only ever moving times earlier. Takes table
    names, so a data migration can run it on its historical models. Returns the leads written."""
    quote = connection.ops.quote_name
    old_sqlite = connection.vendor == "sqlite" and sqlite3.sqlite_version_info < (3, 33)
    sql = backfill_sql(quote(lead_table), quote(call_table), human=human, update_from=not old_sqlite)
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return cursor.rowcount


def lead_timeline_backfill(*, providers: Iterable[str] | None = None) -> int:
    """``lead_timeline_backfill_table`` for each provider's calls (all by default): after a bulk load."""
    written = 0
    for name in provider_names() if providers is None else providers:
        table = call_log_model(name)._meta.db_table
        written += lead_timeline_backfill_table(lead_table=Lead._meta.db_table, call_table=table, human=is_human(name))
    return written
