"""Reads for the manager's dashboard: one aggregate query per widget, a fixed number per page.

Definitions, in one place (the tests check each one):

* **calls**: call logs *created* in the period (any status, pending and live included).
* **settled**: calls in a terminal status (completed, no answer, busy, failed, cancelled, unknown).
* **connected**: ``status = completed`` OR ``duration_seconds > 0`` (see ``CONNECTED``). A voicemail or
  a call whose webhook reported talk time counts; a completed call with no duration still counts.
* **no answer**: ``no_answer`` or ``busy`` (the customer was not reached).
* **connect rate** = connected / settled; **conversion rate** = conversions / connected.
* **talk time**: the sum of ``duration_seconds``; **average talk time** = talk time / connected.
* **conversions**: AI calls with ``converted = true``. Acefone reports no conversion: ``None`` there.
* **calls per day** = calls / days in the period (for "all time": days since the first call).

Periods and filters live in ``dashboard_periods``, the widgets' shaping in ``dashboard_widgets``, the
daily roll-up in ``dashboard_rollup`` and the CSV export in ``dashboard_export``.

The KPI cards are summed from the calls-over-time query (grouped by local day), which carries every KPI
column: one scan feeds both widgets. ``dashboard_figures_cached`` (what the views use) takes every clean
past day from the daily roll-up table and counts the rest (today, and any day not rolled up yet or marked
dirty by a late webhook) live; see docs/performance.md ("Dashboard") for the measurements and the reasons.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable
from dataclasses import asdict
from typing import Any

from django.core.cache import cache
from django.db.models import BooleanField, Count, ExpressionWrapper, Q, QuerySet, Sum
from django.db.models.functions import TruncDate

from acefone.models import AcefoneCallLog
from telephony.status import TERMINAL_STATUSES, CallStatus

from .dashboard_periods import (  # noqa: F401 - re-exported: the dashboard's public names
    PERIODS,
    PROVIDERS,
    DashboardFilters,
    Period,
    local_midnight,
    local_today,
    local_zone,
    period_resolve,
)
from .dashboard_widgets import (  # noqa: F401 - re-exported
    OUTCOMES,
    DashboardFigures,
    Kpis,
    aggregates_merge,
    figures_build,
    rate,
)
from .models import CallKaroAgent, CallKaroCallLog, CallKaroCampaign

#: The one definition of a connected call (module docstring).
CONNECTED = Q(status=CallStatus.COMPLETED) | Q(duration_seconds__gt=0)
NO_ANSWER_STATUSES = (CallStatus.NO_ANSWER, CallStatus.BUSY)
SETTLED_STATUSES = tuple(sorted(TERMINAL_STATUSES))

RECENT_LIMIT = 15
CAMPAIGN_LIMIT = 10

#: Half-open ``[start, end)`` ranges of aware datetimes; a None start means "from the first call".
Ranges = list[tuple[dt.datetime | None, dt.datetime]]


def in_ranges(qs: QuerySet, ranges: Ranges) -> QuerySet:
    """Rows created in any of the ranges: one OR of index ranges, so still one query."""
    if not ranges:
        return qs.none()
    q = Q()
    for start, end in ranges:
        q |= Q(created_at__lt=end) & (Q(created_at__gte=start) if start is not None else Q())
    return qs.filter(q)


def ai_calls(period: Period, filters: DashboardFilters, *, ranges: Ranges | None = None) -> QuerySet[CallKaroCallLog]:
    """AI calls in the period (or the given ranges of it) under the agent, campaign and team-member filters."""
    qs = in_ranges(CallKaroCallLog.objects.all(), [(period.start, period.end)] if ranges is None else ranges)
    if filters.agent_id:
        qs = qs.filter(agent_id=filters.agent_id)
    if filters.campaign_id:
        qs = qs.filter(campaign_id=filters.campaign_id)
    if filters.team_member_id:
        qs = qs.filter(team_member_id=filters.team_member_id)
    return qs.order_by()


def human_calls(period: Period, filters: DashboardFilters, *, ranges: Ranges | None = None) -> QuerySet[AcefoneCallLog]:
    """Acefone calls in the period; none when an agent or campaign filter is set (AI-only notions)."""
    if filters.agent_id or filters.campaign_id:
        return AcefoneCallLog.objects.none()
    qs = in_ranges(AcefoneCallLog.objects.all(), [(period.start, period.end)] if ranges is None else ranges)
    if filters.team_member_id:
        qs = qs.filter(team_member_id=filters.team_member_id)
    return qs.order_by()


def _kpi_aggregates(*, with_conversions: bool) -> dict[str, Any]:
    aggs: dict[str, Any] = {
        "calls": Count("id"),
        "settled": Count("id", filter=Q(status__in=SETTLED_STATUSES)),
        "connected": Count("id", filter=CONNECTED),
        "completed": Count("id", filter=Q(status=CallStatus.COMPLETED)),
        "no_answer": Count("id", filter=Q(status__in=NO_ANSWER_STATUSES)),
        "failed": Count("id", filter=Q(status=CallStatus.FAILED)),
        "talk_seconds": Sum("duration_seconds"),
    }
    if with_conversions:
        aggs["conversions"] = Count("id", filter=Q(converted=True))
    return aggs


def calls_by_day(qs: QuerySet, *, with_conversions: bool) -> list[dict[str, Any]]:
    """ONE grouped query: every KPI column per local day, plus the chart's outcome split."""
    aggs = _kpi_aggregates(with_conversions=with_conversions)
    aggs["other"] = Count("id", filter=~Q(status__in=(CallStatus.COMPLETED, CallStatus.FAILED, *NO_ANSWER_STATUSES)))
    rows = qs.annotate(day=TruncDate("created_at", tzinfo=local_zone())).values("day").annotate(**aggs).order_by("day")
    out = []
    for row in rows:
        day = row["day"]
        if isinstance(day, str):  # SQLite without a converter
            day = dt.date.fromisoformat(day)
        row["day"] = day
        row["talk_seconds"] = row["talk_seconds"] or 0
        out.append(row)
    return out


def hangup_rows(qs: QuerySet[CallKaroCallLog]) -> list[dict[str, Any]]:
    """ONE grouped query: AI calls per hang-up reason (Call Karo's own outcome field)."""
    return list(qs.values("hangup_reason").annotate(calls=Count("id"), connected=Count("id", filter=CONNECTED)))


def agent_rows(qs: QuerySet[CallKaroCallLog]) -> list[dict[str, Any]]:
    """ONE grouped query: every KPI column per AI agent."""
    return list(qs.values("agent_id", "agent__name").annotate(**_kpi_aggregates(with_conversions=True)))


def team_rows(qs: QuerySet, *, with_conversions: bool) -> list[dict[str, Any]]:
    """ONE grouped query per provider: every KPI column per team member."""
    return list(
        qs.values("team_member_id", "team_member__name").annotate(**_kpi_aggregates(with_conversions=with_conversions))
    )


def period_aggregates(
    period: Period, filters: DashboardFilters, *, ranges: Ranges | None = None
) -> dict[str, list[dict[str, Any]]]:
    """The six grouped queries of a period (or of the given ranges of it). Every column is a count or a sum,
    so two disjoint ranges' aggregates add up to the aggregates of their union (``aggregates_merge``)."""
    ai_qs, human_qs = ai_calls(period, filters, ranges=ranges), human_calls(period, filters, ranges=ranges)
    return {
        "ai_days": calls_by_day(ai_qs, with_conversions=True),
        "human_days": calls_by_day(human_qs, with_conversions=False),
        "hangups": hangup_rows(ai_qs) if filters.wants_ai else [],
        "agents": agent_rows(ai_qs) if filters.wants_ai else [],
        "team_ai": team_rows(ai_qs, with_conversions=True) if filters.wants_ai else [],
        "team_human": team_rows(human_qs, with_conversions=False) if filters.wants_human else [],
    }


def latest_campaigns(filters: DashboardFilters, limit: int = CAMPAIGN_LIMIT) -> QuerySet[CallKaroCampaign] | None:
    """The ids of the latest launched campaigns the filters allow (a subquery), or None for human calls only."""
    if filters.provider == "human":
        return None
    latest = CallKaroCampaign.objects.exclude(status=CallKaroCampaign.Status.DRAFT)
    if filters.campaign_id:
        latest = latest.filter(pk=filters.campaign_id)
    if filters.agent_id:
        latest = latest.filter(agent_id=filters.agent_id)
    return latest.order_by("-created_at", "-id").values("pk")[:limit]


def campaign_progress_rows(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Progress is settled calls over the campaign's planned leads (or its calls, if more);
    the completion rate is completed calls over settled ones."""
    out = []
    for r in rows:
        planned = max(r["total_leads"], r["n_calls"])
        out.append(
            {
                "id": r["pk"],
                "name": r["name"],
                "status": r["status"],
                "planned": planned,
                "calls": r["n_calls"],
                "settled": r["n_settled"],
                "completed": r["n_completed"],
                "progress": rate(r["n_settled"], planned) or 0.0,
                "completion_rate": rate(r["n_completed"], r["n_settled"]),
            }
        )
    return out


def campaign_progress(filters: DashboardFilters, limit: int = CAMPAIGN_LIMIT) -> list[dict[str, Any]]:
    """ONE grouped query: the latest launched campaigns with their calls' progress (all time)."""
    ids = latest_campaigns(filters, limit)
    if ids is None:
        return []
    rows = (
        CallKaroCampaign.objects.filter(pk__in=ids)
        .values("pk", "name", "status", "total_leads", "created_at")
        .annotate(
            # Counting calls.campaign_id (not calls.id) lets PostgreSQL answer from the (campaign, status)
            # index alone: an index-only scan over the campaigns' calls.
            n_calls=Count("calls__campaign"),
            n_settled=Count("calls__campaign", filter=Q(calls__status__in=SETTLED_STATUSES)),
            n_completed=Count("calls__campaign", filter=Q(calls__status=CallStatus.COMPLETED)),
        )
        .order_by("-created_at", "-pk")
    )
    return campaign_progress_rows(rows)


_RECENT_FIELDS = ("id", "created_at", "status", "duration_seconds", "lead_id", "lead__name", "team_member__name")


def recent_calls(ai_qs: QuerySet, human_qs: QuerySet, filters: DashboardFilters, limit: int = RECENT_LIMIT) -> list:
    """The latest calls of both providers (one indexed LIMIT query each), newest first."""
    rows: list[dict[str, Any]] = []
    if filters.wants_ai:
        has_transcript = ExpressionWrapper(~Q(transcript=""), output_field=BooleanField())
        ai_rows = (
            ai_qs.order_by("-created_at", "-id")
            .annotate(has_transcript=has_transcript)
            .values(*_RECENT_FIELDS, "agent__name", "hangup_reason", "recording_url", "has_transcript")[:limit]
        )
        rows.extend({**r, "provider": "ai"} for r in ai_rows)
    if filters.wants_human:
        for r in human_qs.order_by("-created_at", "-id").values(*_RECENT_FIELDS, "recording_url")[:limit]:
            rows.append({**r, "provider": "human", "agent__name": "", "hangup_reason": "", "has_transcript": False})
    for r in rows:
        r["lead_name"] = r.pop("lead__name")
        r["team_member_name"] = r.pop("team_member__name") or ""
        r["agent_name"] = r.pop("agent__name") or ""
    rows.sort(key=lambda r: (r["created_at"], r["id"]), reverse=True)
    return rows[:limit]


def dashboard_figures(period: Period, filters: DashboardFilters) -> DashboardFigures:
    """Every widget's figures, uncached: at most 9 queries whatever the row count."""
    ai_qs, human_qs = ai_calls(period, filters), human_calls(period, filters)
    return figures_build(
        period,
        filters,
        period_aggregates(period, filters),
        campaign_progress(filters),
        recent_calls(ai_qs, human_qs, filters),
    )


#: Campaign progress counts every call of the latest campaigns (all time): kept for a short while.
CAMPAIGN_SECONDS = 15


def _cache_key(kind: str, *parts: Any) -> str:
    return f"callkaro:dashboard:{kind}:" + hashlib.sha256(repr(parts).encode()).hexdigest()[:32]


def live_ranges(period: Period, rolled_up: list[dt.date]) -> Ranges:
    """The parts of the period the roll-up does not answer: ``[start, end)`` minus the rolled-up days."""
    ranges: Ranges = []
    cursor = period.start
    for day in sorted(rolled_up):
        day_start = local_midnight(day)
        if cursor is None or cursor < day_start:
            ranges.append((cursor, day_start))
        cursor = local_midnight(day + dt.timedelta(days=1))
    if cursor is None or cursor < period.end:
        ranges.append((cursor, period.end))
    return ranges


def dashboard_figures_cached(
    period: Period, filters: DashboardFilters, *, now: dt.datetime | None = None
) -> DashboardFigures:
    """The figures with clean past days read from the daily roll-up and everything else counted live.

    One query finds the rolled-up days (built and not dirty); the period's aggregates come from
    ``CallDailyRollup`` (3 small grouped queries), and the rest of the period (today, and any day not
    rolled up yet or changed by a late webhook since its build) is aggregated live from the call logs
    over those ranges only. Campaign progress (all time) is summed the same way. The sum equals
    ``dashboard_figures``: the roll-up never serves a stale day.
    """
    # The roll-up builds on this module's definitions, hence the late import.
    from .dashboard_rollup import rollup_aggregates, rollup_campaign_progress, rollup_clean_days

    today = local_today(now)
    clean = rollup_clean_days(None, today - dt.timedelta(days=1))
    rolled_up = [d for d in clean if (period.first_day is None or d >= period.first_day) and d <= period.last_day]
    parts: list[dict[str, list[dict]]] = []
    if rolled_up:
        parts.append(rollup_aggregates(rolled_up, filters))
    ranges = live_ranges(period, rolled_up)
    if ranges:
        parts.append(period_aggregates(period, filters, ranges=ranges))
    aggs = parts[0] if len(parts) == 1 else aggregates_merge(parts[0], parts[1])
    campaigns_key = _cache_key("campaigns", asdict(filters))
    campaigns = cache.get(campaigns_key)
    if campaigns is None:
        campaigns = rollup_campaign_progress(filters, clean, live_ranges(period_resolve("all", now=now), clean))
        cache.set(campaigns_key, campaigns, CAMPAIGN_SECONDS)
    recent = recent_calls(ai_calls(period, filters), human_calls(period, filters), filters)
    return figures_build(period, filters, aggs, campaigns, recent)


def filter_choices() -> dict[str, list[tuple[int, str]]]:
    """Options for the filter form (three small queries, only on the full page)."""
    from crm.models import TeamMember

    return {
        "agents": list(CallKaroAgent.objects.order_by("name").values_list("pk", "name")),
        "team_members": list(TeamMember.objects.order_by("name").values_list("pk", "name")),
        "campaigns": list(
            CallKaroCampaign.objects.exclude(status=CallKaroCampaign.Status.DRAFT)
            .order_by("-created_at")
            .values_list("pk", "name")[:200]
        ),
    }
