"""The funnel by Meta form, campaign and ad, and the rep leaderboard: the manager's "where do leads go
and who works them", each one grouped query per table (leads; each provider's calls; follow-ups).

Definitions (tested on a hand-built data set in ``tests/test_funnel.py``):

* **leads in**: leads that arrived in the period (``created_at``), grouped by the Meta form, campaign
  and ad names they came with (blank for other sources).
* **called**: of those, leads with a dialled call of any provider (not queued, scheduled or cancelled).
* **connected**: leads with a call of talk time above zero (the dashboard's definition).
* **interested**: leads now at interested or further (site visit, negotiation, converted).
* **converted**: leads now at converted.
* **time to first call**: the median, over called leads, of first dialled call − arrival (Meta's
  ``created_time`` when known, else the lead's arrival here); **to first human touch**: the same for the
  first call of a provider a person makes (Acefone).
* **leaderboard**: per team member, calls created in the period, connects, conversions (calls marked
  converted: by the AI, or by the rep's wrap-up), talk time, and follow-ups overdue now.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import defaultdict
from typing import Any

from django.db.models import Count, Exists, F, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from crm.models import FollowUp, Lead, LeadStage, TeamMember
from telephony import calls, registry
from telephony.status import CallStatus

from .definitions import connected_q, has_conversions
from .periods import Period

NOT_DIALLED = (CallStatus.QUEUED, CallStatus.SCHEDULED, CallStatus.CANCELLED)
INTERESTED_STAGES = (LeadStage.INTERESTED, LeadStage.SITE_VISIT, LeadStage.NEGOTIATION, LeadStage.CONVERTED)
FUNNEL_KEYS = ("meta_form_name", "meta_campaign_name", "meta_ad_name")
FUNNEL_LIMIT = 200


def _leads_in(period: Period):
    qs = Lead.objects.filter(created_at__lt=period.end)
    return qs.filter(created_at__gte=period.start) if period.start is not None else qs


def _any_call(**filters: Any) -> Q:
    q = Q()
    for name in registry.provider_names():
        q |= Q(Exists(calls.calls(name, lead=OuterRef("pk"), **filters).exclude(status__in=NOT_DIALLED)))
    return q


def funnel_counts(period: Period) -> list[dict[str, Any]]:
    """ONE grouped query over the period's leads: the funnel's counts per form, campaign and ad."""
    rows = (
        _leads_in(period)
        .values(*FUNNEL_KEYS)
        .annotate(
            leads=Count("id"),
            called=Count("id", filter=_any_call()),
            connected=Count("id", filter=_any_call(duration_seconds__gt=0)),
            interested=Count("id", filter=Q(stage__in=INTERESTED_STAGES)),
            converted=Count("id", filter=Q(stage=LeadStage.CONVERTED)),
        )
        .order_by("-leads", *FUNNEL_KEYS)[:FUNNEL_LIMIT]
    )
    return list(rows)


def _first_call(name: str) -> Subquery:
    dialled = calls.calls(name, lead=OuterRef("pk")).exclude(status__in=NOT_DIALLED)
    return Subquery(dialled.order_by("created_at").values("created_at")[:1])


def _median_seconds(values: list[float]) -> int | None:
    return int(statistics.median(values)) if values else None


def funnel_speeds(period: Period) -> dict[tuple, dict[str, int | None]]:
    """ONE query (a row per lead of the period, first call per provider as subqueries): the medians."""
    human = {name for name in registry.provider_names() if registry._provider_class(name).asks_wrap_up}
    firsts = {f"first_{name}": _first_call(name) for name in registry.provider_names()}
    rows = (
        _leads_in(period)
        .annotate(arrived=Coalesce(F("meta_created_at"), F("created_at")), **firsts)
        .values(*FUNNEL_KEYS, "arrived", *firsts)
    )
    to_call: dict[tuple, list[float]] = defaultdict(list)
    to_human: dict[tuple, list[float]] = defaultdict(list)
    for row in rows:
        key = tuple(row[k] for k in FUNNEL_KEYS)
        times = {name: _aware(row[f"first_{name}"]) for name in registry.provider_names()}
        dialled = [t for t in times.values() if t is not None]
        arrived = _aware(row["arrived"])
        if dialled:
            to_call[key].append(max(0.0, (min(dialled) - arrived).total_seconds()))
        touched = [t for name, t in times.items() if name in human and t is not None]
        if touched:
            to_human[key].append(max(0.0, (min(touched) - arrived).total_seconds()))
    keys = set(to_call) | set(to_human)
    return {k: {"to_first_call": _median_seconds(to_call[k]), "to_human": _median_seconds(to_human[k])} for k in keys}


def _aware(value: Any) -> dt.datetime | None:
    if value is None:
        return None
    if isinstance(value, str):  # SQLite hands back subquery datetimes as text
        value = dt.datetime.fromisoformat(value)
    return value if timezone.is_aware(value) else timezone.make_aware(value, dt.UTC)


def funnel_report(period: Period) -> list[dict[str, Any]]:
    """The funnel rows with their medians (two queries in all)."""
    speeds = funnel_speeds(period)
    out = []
    for row in funnel_counts(period):
        key = tuple(row[k] for k in FUNNEL_KEYS)
        out.append({**row, **speeds.get(key, {"to_first_call": None, "to_human": None})})
    return out


def leaderboard(period: Period, *, now: dt.datetime | None = None) -> list[dict[str, Any]]:
    """Per team member: calls, connects, conversions, talk time (one grouped query per provider's
    calls) and follow-ups overdue now (one grouped query), best converters first."""
    board: dict[int, dict[str, Any]] = {}

    def entry(member_id: int) -> dict[str, Any]:
        return board.setdefault(
            member_id,
            {"member_id": member_id, "calls": 0, "connects": 0, "conversions": 0, "talk_seconds": 0, "overdue": 0},
        )

    for name in registry.provider_names():
        aggs: dict[str, Any] = {
            "n": Count("id"),
            "conn": Count("id", filter=connected_q(name)),
            "talk": Sum("duration_seconds", default=0),
        }
        if has_conversions(name):
            aggs["conv"] = Count("id", filter=Q(converted=True))
        ranges = [(period.start, period.end)]
        qs = calls.calls(name, ranges=ranges, team_member__isnull=False).exclude(status=CallStatus.SCHEDULED)
        for row in qs.values("team_member_id").annotate(**aggs):
            e = entry(row["team_member_id"])
            e["calls"] += row["n"]
            e["connects"] += row["conn"]
            e["talk_seconds"] += row["talk"] or 0
            e["conversions"] += row.get("conv", 0)
    overdue = (
        FollowUp.objects.filter(done_at__isnull=True, due_at__lt=now or timezone.now(), owner__isnull=False)
        .values("owner_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    for row in overdue:
        entry(row["owner_id"])["overdue"] = row["n"]
    names = dict(TeamMember.objects.filter(pk__in=list(board)).values_list("pk", "name"))
    rows = [{**e, "name": names.get(e["member_id"], "?")} for e in board.values()]
    rows.sort(key=lambda r: (-r["conversions"], -r["connects"], -r["calls"], r["name"]))
    return rows
