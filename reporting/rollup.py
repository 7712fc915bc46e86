"""Reads of the daily roll-up: which days it answers, and the dashboard's aggregates summed from it.

What it answers equals the live grouped queries of ``selectors`` for the same days
(``reporting/tests/test_rollup.py`` checks it); ``services`` keeps it right.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.db.models import Q, Sum

from callkaro.models import CallKaroCampaign
from telephony import calls

from .campaign_progress import CAMPAIGN_LIMIT, campaign_calls_counted, campaign_progress_rows, latest_campaigns
from .definitions import Ranges, as_date, has_conversions
from .models import CallDailyRollup, CallRollupDay
from .periods import DashboardFilters

Outcome = CallDailyRollup.Outcome


def day_runs(days: Iterable[dt.date]) -> list[tuple[dt.date, dt.date]]:
    """Consecutive days as inclusive ``(first, last)`` runs: a few ranges instead of a long IN list."""
    runs: list[list[dt.date]] = []
    for day in sorted(set(days)):
        if runs and day == runs[-1][1] + dt.timedelta(days=1):
            runs[-1][1] = day
        else:
            runs.append([day, day])
    return [(a, b) for a, b in runs]


def _in_days(days: list[dt.date]) -> Q:
    q = Q()
    for first, last in day_runs(days):
        q |= Q(day__gte=first, day__lte=last)
    return q


def rollup_clean_days(first: dt.date | None, last: dt.date) -> list[dt.date]:
    """ONE query: the days in ``[first, last]`` the roll-up answers (built and not dirty)."""
    qs = CallRollupDay.objects.filter(built_at__isnull=False, dirty_at__isnull=True, day__lte=last)
    if first is not None:
        qs = qs.filter(day__gte=first)
    return sorted(qs.values_list("day", flat=True))


#: Aggregate aliases carry this prefix: Django refuses an annotation named like a model field ("calls").
_P = "r_"


def _sum(column: str, **where: Any) -> Sum:
    return Sum(column, filter=Q(**where) if where else None, default=0)


def _kpi_sums() -> dict[str, Any]:
    """The live ``kpi_aggregates`` columns, as sums over roll-up rows (aliases prefixed, see ``_plain``)."""
    aggs: dict[str, Any] = {
        "calls": _sum("calls"),
        "settled": Sum("calls", filter=~Q(outcome=Outcome.OPEN), default=0),
        "connected": _sum("connected"),
        "completed": _sum("calls", outcome=Outcome.COMPLETED),
        "no_answer": _sum("calls", outcome=Outcome.NO_ANSWER),
        "failed": _sum("calls", outcome=Outcome.FAILED),
        "talk_seconds": _sum("talk_seconds"),
        "conversions": _sum("conversions"),
    }
    return {_P + k: v for k, v in aggs.items()}


def _plain(row: dict[str, Any]) -> dict[str, Any]:
    """A roll-up row as the live queries shape it: plain aliases, and no conversions for a provider
    that reports none."""
    row = {k.removeprefix(_P): v for k, v in row.items()}
    provider = row.pop("provider", None)
    if provider is not None and not has_conversions(provider):
        row.pop("conversions")
    return row | ({"provider": provider} if provider is not None else {})


def _add(into: dict[Any, dict[str, Any]], key: Any, row: dict[str, Any]) -> None:
    """Sum ``row``'s numbers into ``into[key]`` (names and keys kept from the first row)."""
    target = into.get(key)
    if target is None:
        into[key] = dict(row)
        return
    for col, value in row.items():
        if isinstance(value, int) and not isinstance(value, bool) and not col.endswith("_id"):
            target[col] += value


def _agents_and_hangups(rows, providers: list[str]) -> tuple[list[dict], list[dict]]:
    """ONE query for both: rows per agent and hang-up reason, summed two ways."""
    by_agent_reason = (
        rows.filter(provider__in=providers).values("agent_id", "agent__name", "hangup_reason").annotate(**_kpi_sums())
    )
    agents: dict[Any, dict[str, Any]] = {}
    hangups: dict[str, dict[str, Any]] = {}
    for r in map(_plain, by_agent_reason.order_by()):
        reason = r.pop("hangup_reason")
        _add(agents, r["agent_id"], r)
        _add(hangups, reason, {"hangup_reason": reason, "calls": r["calls"], "connected": r["connected"]})
    return list(agents.values()), list(hangups.values())


def rollup_aggregates(days: list[dt.date], filters: DashboardFilters) -> dict[str, Any]:
    """The same aggregates as ``selectors.period_aggregates``, for rolled-up days, in at most 3 queries."""
    rows = CallDailyRollup.objects.filter(_in_days(days))
    if filters.agent_id:
        rows = rows.filter(agent_id=filters.agent_id)
    if filters.campaign_id:
        rows = rows.filter(campaign_id=filters.campaign_id)
    if filters.team_member_id:
        rows = rows.filter(team_member_id=filters.team_member_id)
    providers = list(calls.call_log_models())
    wanted = filters.providers
    out: dict[str, Any] = {"days": {p: [] for p in providers}, "team": {p: [] for p in providers}}
    out["hangups"], out["agents"] = [], []
    by_day = (
        rows.values("provider", "day")
        .annotate(**_kpi_sums(), r_other=_sum("calls", outcome__in=[Outcome.CLOSED, Outcome.OPEN]))
        .order_by("day", "provider")
    )
    for r in map(_plain, by_day):
        r["day"] = as_date(r["day"])
        out["days"].setdefault(r.pop("provider"), []).append(r)
    with_agents = [p for p in calls.providers_with("agent", wanted) if calls.call_log_has(p, "hangup_reason")]
    if with_agents:
        out["agents"], out["hangups"] = _agents_and_hangups(rows, with_agents)
    if wanted:
        team = (
            rows.filter(provider__in=wanted)
            .values("provider", "team_member_id", "team_member__name")
            .annotate(**_kpi_sums())
            .order_by()
        )
        for r in map(_plain, team):
            out["team"].setdefault(r.pop("provider"), []).append(r)
    return out


def rollup_team_totals(days: list[dt.date]) -> list[dict[str, Any]]:
    """ONE grouped query: per team member (calls with one only), the leaderboard's sums over rolled-up days,
    under the names its live query gives them."""
    rows = (
        CallDailyRollup.objects.filter(_in_days(days), team_member__isnull=False)
        .values("team_member_id", "team_member__name")
        .annotate(r_calls=_sum("calls"), r_connects=_sum("connected"), r_conversions=_sum("conversions"))
        .annotate(r_talk_seconds=_sum("talk_seconds"))
        .order_by()
    )
    return [{k.removeprefix(_P): v for k, v in row.items()} for row in rows]


def rollup_campaign_progress(
    filters: DashboardFilters, rolled_up: list[dt.date], ranges: Ranges, limit: int = CAMPAIGN_LIMIT
) -> list[dict[str, Any]]:
    """``campaign_progress.campaign_progress`` (all time) in 3 small queries: the latest campaigns, their
    calls summed from the roll-up's days, and their calls in the ``ranges`` the roll-up does not answer."""
    ids = latest_campaigns(filters, limit)
    if ids is None:
        return []
    meta = list(
        CallKaroCampaign.objects.filter(pk__in=ids)
        .values("pk", "name", "status", "total_leads", "created_at")
        .order_by("-created_at", "-pk")
    )
    if not meta:
        return []
    pks = [m["pk"] for m in meta]
    counts = {pk: {"n_calls": 0, "n_settled": 0, "n_completed": 0} for pk in pks}
    parts: list[Iterable[dict[str, Any]]] = []
    if rolled_up:
        parts.append(
            CallDailyRollup.objects.filter(_in_days(rolled_up), campaign_id__in=pks)
            .values("campaign_id")
            .annotate(
                n_calls=_sum("calls"),
                n_settled=Sum("calls", filter=~Q(outcome=Outcome.OPEN), default=0),
                n_completed=_sum("calls", outcome=Outcome.COMPLETED),
            )
            .order_by()
        )
    if ranges:
        parts.append(campaign_calls_counted(pks, ranges))
    for rows in parts:
        for r in rows:
            for col in ("n_calls", "n_settled", "n_completed"):
                counts[r["campaign_id"]][col] += r[col]
    return campaign_progress_rows({**m, **counts[m["pk"]]} for m in meta)
