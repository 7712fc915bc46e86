"""Reads for the manager's dashboard: one aggregate query per widget and provider, a fixed number per page.

The figures are defined in ``definitions``; periods and filters live in ``periods``, the widgets' shaping
in ``widgets``, campaign progress in ``campaign_progress``, the daily roll-up's reads in ``rollup`` and the
CSV export in ``export``. Calls are read through ``telephony.calls`` (the one reader of calls), one
queryset per provider, so each grouped query stays one indexed scan of one table.

The KPI cards are summed from the calls-over-time query (grouped by local day), which carries every KPI
column: one scan feeds both widgets. ``dashboard_figures_cached`` (what the views use) takes every clean
past day from the daily roll-up table and counts the rest (today, and any day not rolled up yet or marked
dirty by a late webhook) live; see docs/performance.md ("Dashboard") for the measurements and the reasons.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import asdict
from typing import Any

from django.db.models import BooleanField, Count, ExpressionWrapper, Q, QuerySet
from django.db.models.functions import TruncDate

from callkaro.models import CallKaroAgent, CallKaroCampaign
from crm.cache_fallback import cache_get_or_none, cache_set_quietly
from telephony import calls
from telephony.status import CallStatus

from .campaign_progress import campaign_progress
from .definitions import HAPPENED, NO_ANSWER_STATUSES, Ranges, connected_q, has_conversions, kpi_aggregates
from .periods import DashboardFilters, Period, local_midnight, local_today, local_zone, period_resolve
from .rollup import rollup_aggregates, rollup_campaign_progress, rollup_clean_days
from .widgets import DashboardFigures, aggregates_merge, figures_build

RECENT_LIMIT = 15


def provider_calls(
    provider: str, period: Period, filters: DashboardFilters, *, ranges: Ranges | None = None
) -> QuerySet:
    """One provider's calls in the period (or the given ranges of it) under the agent, campaign and
    team-member filters; none when an agent or campaign filter is set and its calls carry neither."""
    qs = calls.calls(provider, ranges=[(period.start, period.end)] if ranges is None else ranges).filter(HAPPENED)
    if (filters.agent_id and not calls.call_log_has(provider, "agent")) or (
        filters.campaign_id and not calls.call_log_has(provider, "campaign")
    ):
        return qs.none()
    if filters.agent_id:
        qs = qs.filter(agent_id=filters.agent_id)
    if filters.campaign_id:
        qs = qs.filter(campaign_id=filters.campaign_id)
    if filters.team_member_id:
        qs = qs.filter(team_member_id=filters.team_member_id)
    return qs


def calls_by_day(qs: QuerySet, *, with_conversions: bool, provider: str | None = None) -> list[dict[str, Any]]:
    """ONE grouped query: every KPI column per local day, plus the chart's outcome split."""
    aggs = kpi_aggregates(with_conversions=with_conversions, provider=provider)
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


def hangup_rows(qs: QuerySet, provider: str = "callkaro") -> list[dict[str, Any]]:
    """ONE grouped query: calls per hang-up reason (Call Karo's own outcome field)."""
    connected = Count("id", filter=connected_q(provider))
    return list(qs.values("hangup_reason").annotate(calls=Count("id"), connected=connected))


def agent_rows(qs: QuerySet, provider: str = "callkaro") -> list[dict[str, Any]]:
    """ONE grouped query: every KPI column per AI agent."""
    aggs = kpi_aggregates(with_conversions=True, provider=provider)
    return list(qs.values("agent_id", "agent__name").annotate(**aggs))


def team_rows(qs: QuerySet, *, with_conversions: bool, provider: str | None = None) -> list[dict[str, Any]]:
    """ONE grouped query per provider: every KPI column per team member."""
    aggs = kpi_aggregates(with_conversions=with_conversions, provider=provider)
    return list(qs.values("team_member_id", "team_member__name").annotate(**aggs))


def period_aggregates(period: Period, filters: DashboardFilters, *, ranges: Ranges | None = None) -> dict[str, Any]:
    """The grouped queries of a period (or of the given ranges of it): per provider, its days (always:
    the comparison shows every provider) and, when wanted, its team rows; hang-up reasons and agents
    where the provider's calls carry them. Every column is a count or a sum, so two disjoint ranges'
    aggregates add up to the aggregates of their union (``aggregates_merge``)."""
    out: dict[str, Any] = {"days": {}, "team": {}, "hangups": [], "agents": []}
    for provider in calls.call_log_models():
        qs = provider_calls(provider, period, filters, ranges=ranges)
        conversions = has_conversions(provider)
        out["days"][provider] = calls_by_day(qs, with_conversions=conversions, provider=provider)
        if not filters.wants(provider):
            out["team"][provider] = []
            continue
        if calls.call_log_has(provider, "hangup_reason"):
            out["hangups"].extend(hangup_rows(qs, provider))
        if calls.call_log_has(provider, "agent"):
            out["agents"].extend(agent_rows(qs, provider))
        out["team"][provider] = team_rows(qs, with_conversions=conversions, provider=provider)
    return out


_RECENT_FIELDS = ("id", "created_at", "status", "duration_seconds", "lead_id", "lead__name", "team_member__name")
#: Columns some providers' calls carry, with what the recent-calls table shows for the others.
_RECENT_OPTIONAL = {"agent__name": "", "hangup_reason": "", "recording_url": ""}


def _recent_of(provider: str, qs: QuerySet, limit: int) -> list[dict[str, Any]]:
    """ONE indexed LIMIT query: a provider's latest calls with the columns it carries."""
    optional = [f for f in _RECENT_OPTIONAL if calls.call_log_has(provider, f.split("__")[0])]
    if calls.call_log_has(provider, "transcript"):
        qs = qs.annotate(has_transcript=ExpressionWrapper(~Q(transcript=""), output_field=BooleanField()))
        optional.append("has_transcript")
    rows = qs.order_by("-created_at", "-id").values(*_RECENT_FIELDS, *optional)[:limit]
    return [{**_RECENT_OPTIONAL, "has_transcript": False, **r, "provider": provider} for r in rows]


def recent_calls(period: Period, filters: DashboardFilters, limit: int = RECENT_LIMIT) -> list:
    """The latest calls of every wanted provider (one indexed LIMIT query each), newest first."""
    labels = calls.provider_labels()
    rows: list[dict[str, Any]] = []
    for provider in filters.providers:
        placed = provider_calls(provider, period, filters).exclude(status=CallStatus.QUEUED)
        rows.extend(_recent_of(provider, placed, limit))
    for r in rows:
        r["provider_label"] = labels[r["provider"]]
        r["lead_name"] = r.pop("lead__name")
        r["team_member_name"] = r.pop("team_member__name") or ""
        r["agent_name"] = r.pop("agent__name") or ""
    rows.sort(key=lambda r: (r["created_at"], r["id"]), reverse=True)
    return rows[:limit]


def _build(period: Period, filters: DashboardFilters, aggs: dict[str, Any], campaigns: list) -> DashboardFigures:
    providers = list(calls.call_log_models())
    return figures_build(
        period,
        filters,
        aggs,
        campaigns,
        recent_calls(period, filters),
        labels=calls.provider_labels(),
        conversions={p: has_conversions(p) for p in providers},
    )


def dashboard_figures(period: Period, filters: DashboardFilters) -> DashboardFigures:
    """Every widget's figures, uncached: at most 9 queries whatever the row count."""
    return _build(period, filters, period_aggregates(period, filters), campaign_progress(filters))


#: Campaign progress counts every call of the latest campaigns (all time): kept for a short while.
CAMPAIGN_SECONDS = 15
CACHE_FEATURE = "the dashboard's cache"


def _cache_key(kind: str, *parts: Any) -> str:
    return f"reporting:dashboard:{kind}:" + hashlib.sha256(repr(parts).encode()).hexdigest()[:32]


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
    today = local_today(now)
    clean = rollup_clean_days(None, today - dt.timedelta(days=1))
    rolled_up = [d for d in clean if (period.first_day is None or d >= period.first_day) and d <= period.last_day]
    parts: list[dict[str, Any]] = []
    if rolled_up:
        parts.append(rollup_aggregates(rolled_up, filters))
    ranges = live_ranges(period, rolled_up)
    if ranges:
        parts.append(period_aggregates(period, filters, ranges=ranges))
    aggs = parts[0] if len(parts) == 1 else aggregates_merge(parts[0], parts[1])
    campaigns_key = _cache_key("campaigns", asdict(filters))
    campaigns = cache_get_or_none(campaigns_key, feature=CACHE_FEATURE)  # the cache down: counted live
    if campaigns is None:
        campaigns = rollup_campaign_progress(filters, clean, live_ranges(period_resolve("all", now=now), clean))
        cache_set_quietly(campaigns_key, campaigns, CAMPAIGN_SECONDS, feature=CACHE_FEATURE)
    return _build(period, filters, aggs, campaigns)


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
