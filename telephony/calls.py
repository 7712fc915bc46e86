"""The one reader of calls across providers: every read that spans call-log tables starts here.

Each provider keeps its own call-log table (its model is named by the provider class in the registry,
``settings.TELEPHONY_PROVIDERS``). Nothing outside this module lists those models or writes a union of
them by hand: the in-flight check, a lead's history, stuck calls, the dashboard, the roll-up, the export
and a campaign's audience all ask here. The provider key (``callkaro``, ``acefone``) is the only name a
provider has in data; its ``label`` is for display.

Readers get one queryset per provider (so a grouped query stays one indexed scan per table, which the
dashboard's query-count tests and benchmarks rely on), an ``Exists`` filter over every table for lead
querysets, or a ``UNION ALL`` of common columns with a ``provider`` column when rows must be merged.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.db.models import CharField, Exists, Min, OuterRef, Q, QuerySet, Value

from .models import BaseCallLog
from .registry import _provider_class, call_log_model, provider_names
from .status import LIVE_STATUSES, PENDING_STATUSES

#: A call that may still dial or talk: a second call to the same lead must wait for it.
IN_FLIGHT_STATUSES = frozenset(PENDING_STATUSES | LIVE_STATUSES)

#: Half-open ``[start, end)`` ranges of aware datetimes; a None start means "from the first call".
Ranges = list[tuple[dt.datetime | None, dt.datetime]]


def call_log_models() -> dict[str, type[BaseCallLog]]:
    """Every provider's call-log model, keyed by provider, in registry order."""
    return {name: call_log_model(name) for name in provider_names()}


def provider_labels() -> dict[str, str]:
    """Display labels by provider key ("Call Karo AI", "Acefone (human)"): for pages, never for data."""
    return {name: _provider_class(name).label for name in provider_names()}


def call_log_has(provider: str, field: str) -> bool:
    """Whether this provider's calls carry ``field`` (an agent, a campaign, a conversion flag...)."""
    try:
        call_log_model(provider)._meta.get_field(field)
    except FieldDoesNotExist:
        return False
    return True


def providers_with(field: str, providers: Iterable[str] | None = None) -> list[str]:
    """The providers (of ``providers``, default all) whose calls carry ``field``."""
    return [p for p in (provider_names() if providers is None else providers) if call_log_has(p, field)]


def created_in(qs: QuerySet, ranges: Ranges) -> QuerySet:
    """Rows created in any of the ranges: one OR of index ranges, so still one query."""
    if not ranges:
        return qs.none()
    q = Q()
    for start, end in ranges:
        q |= Q(created_at__lt=end) & (Q(created_at__gte=start) if start is not None else Q())
    return qs.filter(q)


def calls(provider: str, *, ranges: Ranges | None = None, **filters: Any) -> QuerySet:
    """One provider's calls, unordered: created in ``ranges`` (if given) and matching ``filters``."""
    qs = call_log_model(provider).objects.filter(**filters)
    if ranges is not None:
        qs = created_in(qs, ranges)
    return qs.order_by()


def calls_union(*fields: str, ranges: Ranges | None = None, **filters: Any) -> QuerySet:
    """``UNION ALL`` of every provider's calls as rows of ``provider`` plus the given common columns."""
    parts = [
        calls(name, ranges=ranges, **filters)
        .annotate(provider=Value(name, output_field=CharField()))
        .values("provider", *fields)
        for name in provider_names()
    ]
    return parts[0].union(*parts[1:], all=True)


def lead_call_exists(
    *,
    lead: Any = None,
    since: dt.datetime | None = None,
    statuses: Iterable[str] | None = None,
    exclude_statuses: Iterable[str] | None = None,
) -> Q:
    """A filter for Lead querysets: the lead has a call of any provider, created since ``since``, in
    ``statuses`` and not in ``exclude_statuses`` (each if given). ``lead`` defaults to the outer row's
    ``pk``. One EXISTS per provider table, OR-ed: negate it (``~``) for "never called"."""
    q = Q()
    for name in provider_names():
        sub = calls(name, lead=OuterRef("pk") if lead is None else lead)
        if since is not None:
            sub = sub.filter(created_at__gte=since)
        if statuses is not None:
            sub = sub.filter(status__in=list(statuses))
        if exclude_statuses is not None:
            sub = sub.exclude(status__in=list(exclude_statuses))
        q |= Q(Exists(sub))
    return q


def leads_with_calls_in_flight() -> Q:
    """A filter for Lead querysets: a call of any provider is pending or live (audience, eligibility)."""
    return lead_call_exists(statuses=IN_FLIGHT_STATUSES)


def lead_has_call_in_flight(lead_id: int) -> bool:
    """Whether any provider has a pending or live call to this lead (at most one query per provider)."""
    return any(calls(name, lead_id=lead_id, status__in=IN_FLIGHT_STATUSES).exists() for name in provider_names())


def calls_for_lead(lead_id: int, *, limit: int = 50) -> list[tuple[str, BaseCallLog]]:
    """The lead's latest calls of every provider as ``(provider, call_log)``, newest first."""
    rows: list[tuple[str, BaseCallLog]] = []
    for name in provider_names():
        related = ["team_member", *[f for f in ("agent",) if call_log_has(name, f) and _is_relation(name, f)]]
        qs = calls(name, lead_id=lead_id).select_related(*related).order_by("-created_at", "-id")[:limit]
        rows.extend((name, log) for log in qs)
    rows.sort(key=lambda row: (row[1].created_at, row[1].pk), reverse=True)
    return rows[:limit]


def _is_relation(provider: str, field: str) -> bool:
    return bool(call_log_model(provider)._meta.get_field(field).is_relation)


def calls_stuck(*, cutoff: dt.datetime, limit: int = 500) -> dict[str, list[BaseCallLog]]:
    """Live calls with no progress since ``cutoff``, oldest first, per provider (at most ``limit`` each)."""
    out: dict[str, list[BaseCallLog]] = {}
    for name in provider_names():
        stuck = (
            calls(name, status__in=list(LIVE_STATUSES), created_at__lt=cutoff)
            .exclude(initiated_at__gte=cutoff)
            .exclude(dispatched_at__gte=cutoff)
            .exclude(scheduled_at__gte=cutoff)
        )
        out[name] = list(stuck.order_by("created_at")[:limit])
    return out


def first_call_at() -> dt.datetime | None:
    """When the first call of any provider was created (one indexed MIN per table)."""
    firsts = [calls(name).aggregate(first=Min("created_at"))["first"] for name in provider_names()]
    firsts = [f for f in firsts if f is not None]
    return min(firsts) if firsts else None
