"""Campaign progress on the dashboard: the latest launched campaigns and their calls (all time)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db.models import Count, Q, QuerySet

from callkaro.models import CallKaroCampaign
from telephony import calls
from telephony.status import CallStatus

from .definitions import SETTLED_STATUSES
from .periods import DashboardFilters
from .widgets import rate

CAMPAIGN_LIMIT = 10


def campaign_providers(filters: DashboardFilters) -> list[str]:
    """The providers the filters let through whose calls belong to campaigns."""
    return [p for p in filters.providers if calls.call_log_has(p, "campaign")]


def latest_campaigns(filters: DashboardFilters, limit: int = CAMPAIGN_LIMIT) -> QuerySet[CallKaroCampaign] | None:
    """The ids of the latest launched campaigns the filters allow (a subquery), or None when the filters
    leave no provider with campaigns."""
    if not campaign_providers(filters):
        return None
    latest = CallKaroCampaign.objects.exclude(status=CallKaroCampaign.Status.DRAFT)
    if filters.campaign_id:
        latest = latest.filter(pk=filters.campaign_id)
    if filters.agent_id:
        latest = latest.filter(agent_id=filters.agent_id)
    return latest.order_by("-created_at", "-id").values("pk")[:limit]


def campaign_progress_rows(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Progress is settled calls over the campaign's planned leads (or its calls, if more); for a
    cancelled campaign, whose unplaced calls settle as cancelled, it is completed calls instead (never a
    false "100 % done"). The completion rate is completed calls over settled ones."""
    out = []
    for r in rows:
        planned = max(r["total_leads"], r["n_calls"])
        cancelled = r["status"] == CallKaroCampaign.Status.CANCELLED
        out.append(
            {
                "id": r["pk"],
                "name": r["name"],
                "status": r["status"],
                "planned": planned,
                "calls": r["n_calls"],
                "settled": r["n_settled"],
                "completed": r["n_completed"],
                "progress": rate(r["n_completed"] if cancelled else r["n_settled"], planned) or 0.0,
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


def campaign_calls_counted(pks: list[int], ranges: calls.Ranges) -> list[dict[str, Any]]:
    """Per campaign, its calls created in ``ranges``: one grouped query per provider with campaigns."""
    out: list[dict[str, Any]] = []
    for provider in calls.providers_with("campaign"):
        out.extend(
            calls.calls(provider, ranges=ranges, campaign_id__in=pks)
            .values("campaign_id")
            .annotate(
                n_calls=Count("campaign_id"),
                n_settled=Count("campaign_id", filter=Q(status__in=SETTLED_STATUSES)),
                n_completed=Count("campaign_id", filter=Q(status=CallStatus.COMPLETED)),
            )
            .order_by()
        )
    return out
