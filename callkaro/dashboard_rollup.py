"""The dashboard's daily roll-up: closed local days pre-aggregated, so no period rescans a million rows.

One ``CallDailyRollup`` row per local day × provider × agent × team member × campaign × outcome bucket ×
hang-up reason, holding counts and sums only; every widget of a past day is a sum over those rows and
equals the live grouped queries (``callkaro/tests/test_dashboard_rollup.py`` checks it).

Keeping it right: a day is rebuilt whole (delete + insert in one transaction, one grouped query per
provider) by ``rollup_days_rebuild``. A call of a closed day that turns final marks its day dirty
(``rollup_call_final``, a ``call_became_final`` receiver); the beat task ``rollup_refresh`` rebuilds
dirty days, yesterday, days the beat missed, and days whose calls were updated since the last build
(bulk updates that run no hook). Until then the reader counts any day that is not built or is dirty live
(``rollup_clean_days``), so a figure is never stale, only slower for that day.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from typing import Any

from django.core.cache import cache
from django.db import transaction
from django.db.models import Case, CharField, Count, Max, Min, Q, Sum, Value, When
from django.db.models.functions import TruncDate
from django.utils import timezone

from acefone.models import AcefoneCallLog
from telephony.status import CallStatus

from .dashboard import (
    CAMPAIGN_LIMIT,
    CONNECTED,
    NO_ANSWER_STATUSES,
    SETTLED_STATUSES,
    Ranges,
    campaign_progress_rows,
    in_ranges,
    latest_campaigns,
)
from .dashboard_periods import DashboardFilters, local_midnight, local_today, local_zone
from .models import CallDailyRollup, CallKaroCallLog, CallKaroCampaign, CallRollupDay

logger = logging.getLogger(__name__)
Outcome = CallDailyRollup.Outcome
Provider = CallDailyRollup.Provider

#: Days rebuilt per transaction: one grouped query per provider covers the whole batch.
REBUILD_BATCH_DAYS = 31
#: How far before the last refresh the next one looks for call logs updated without a hook.
SWEEP_MARGIN = dt.timedelta(minutes=10)
LAST_REFRESH_KEY = "callkaro:dashboard:rollup:last_refresh"

_OUTCOME = Case(
    When(status=CallStatus.COMPLETED, then=Value(Outcome.COMPLETED.value)),
    When(status__in=NO_ANSWER_STATUSES, then=Value(Outcome.NO_ANSWER.value)),
    When(status=CallStatus.FAILED, then=Value(Outcome.FAILED.value)),
    When(status__in=SETTLED_STATUSES, then=Value(Outcome.CLOSED.value)),
    default=Value(Outcome.OPEN.value),
    output_field=CharField(),
)
_SOURCES = ((Provider.AI, CallKaroCallLog), (Provider.HUMAN, AcefoneCallLog))


def day_runs(days: Iterable[dt.date]) -> list[tuple[dt.date, dt.date]]:
    """Consecutive days as inclusive ``(first, last)`` runs: a few ranges instead of a long IN list."""
    runs: list[list[dt.date]] = []
    for day in sorted(set(days)):
        if runs and day == runs[-1][1] + dt.timedelta(days=1):
            runs[-1][1] = day
        else:
            runs.append([day, day])
    return [(a, b) for a, b in runs]


def _created_in(runs: list[tuple[dt.date, dt.date]]) -> Q:
    q = Q()
    for first, last in runs:
        q |= Q(created_at__gte=local_midnight(first), created_at__lt=local_midnight(last + dt.timedelta(days=1)))
    return q


def _as_date(value: Any) -> dt.date:
    return dt.date.fromisoformat(value) if isinstance(value, str) else value  # SQLite without a converter


def _grouped_rows(provider: str, model: type, runs: list[tuple[dt.date, dt.date]]) -> list[CallDailyRollup]:
    """ONE grouped query: the roll-up rows of one provider for the given days."""
    ai = provider == Provider.AI
    keys = ["rollup_day", "team_member_id", "outcome", *(("agent_id", "campaign_id", "hangup_reason") if ai else ())]
    aggs: dict[str, Any] = {
        "n_calls": Count("id"),
        "n_connected": Count("id", filter=CONNECTED),
        "n_talk": Sum("duration_seconds", default=0),
    }
    if ai:
        aggs["n_conversions"] = Count("id", filter=Q(converted=True))
    qs = (
        model.objects.filter(_created_in(runs))
        .annotate(rollup_day=TruncDate("created_at", tzinfo=local_zone()), outcome=_OUTCOME)
        .values(*keys)
        .annotate(**aggs)
        .order_by()
    )
    return [
        CallDailyRollup(
            day=_as_date(r["rollup_day"]),
            provider=provider,
            agent_id=r.get("agent_id"),
            team_member_id=r["team_member_id"],
            campaign_id=r.get("campaign_id"),
            outcome=r["outcome"],
            hangup_reason=r.get("hangup_reason") or "",
            calls=r["n_calls"],
            connected=r["n_connected"],
            conversions=r.get("n_conversions", 0),
            talk_seconds=r["n_talk"] or 0,
        )
        for r in qs
    ]


def rollup_days_rebuild(*, days: Iterable[dt.date]) -> int:
    """Rebuild the given local days: idempotent, safe to run twice at once. Returns the rows written.

    Each batch is one transaction: lock the days' state rows (so a concurrent rebuild waits instead of
    inserting twice), run one grouped query per provider, replace the rows, and clear ``dirty_at`` only
    where it predates this build: a call that changed meanwhile keeps its day dirty for the next run.
    """
    ordered = sorted(set(days))
    written = 0
    for i in range(0, len(ordered), REBUILD_BATCH_DAYS):
        batch = ordered[i : i + REBUILD_BATCH_DAYS]
        with transaction.atomic():
            CallRollupDay.objects.bulk_create([CallRollupDay(day=d) for d in batch], ignore_conflicts=True)
            list(CallRollupDay.objects.select_for_update().filter(day__in=batch).values_list("pk", flat=True))
            started = timezone.now()
            runs = day_runs(batch)
            rows = [row for provider, model in _SOURCES for row in _grouped_rows(provider, model, runs)]
            CallDailyRollup.objects.filter(day__in=batch).delete()
            CallDailyRollup.objects.bulk_create(rows, batch_size=2000)
            CallRollupDay.objects.filter(day__in=batch).update(built_at=started)
            CallRollupDay.objects.filter(day__in=batch, dirty_at__lte=started).update(dirty_at=None)
        written += len(rows)
    return written


def rollup_first_day() -> dt.date | None:
    """The local day of the first call of either provider (two indexed MIN queries)."""
    firsts = [m.objects.aggregate(first=Min("created_at"))["first"] for _, m in _SOURCES]
    firsts = [f for f in firsts if f is not None]
    return timezone.localtime(min(firsts), local_zone()).date() if firsts else None


def _days_touched_since(since: dt.datetime, before: dt.datetime) -> set[dt.date]:
    """Closed days with call logs updated since ``since``: catches bulk updates that run no final-call hook
    (stuck calls marked unknown, a campaign's queued calls cancelled)."""
    days: set[dt.date] = set()
    for _, model in _SOURCES:
        qs = (
            model.objects.filter(updated_at__gte=since, created_at__lt=before)
            .annotate(rollup_day=TruncDate("created_at", tzinfo=local_zone()))
            .values_list("rollup_day", flat=True)
            .distinct()
            .order_by()
        )
        days.update(_as_date(d) for d in qs)
    return days


def rollup_refresh(*, now: dt.datetime | None = None) -> dict[str, int]:
    """The beat task's service: rebuild dirty days, yesterday, missed days and days touched since the last build."""
    today = local_today(now)
    yesterday = today - dt.timedelta(days=1)
    days = set(CallRollupDay.objects.filter(dirty_at__isnull=False, day__lt=today).values_list("day", flat=True))
    days.add(yesterday)
    last = CallRollupDay.objects.filter(built_at__isnull=False).aggregate(day=Max("day"), built=Max("built_at"))
    if last["day"] is not None:
        days.update(last["day"] + dt.timedelta(days=n) for n in range(1, (yesterday - last["day"]).days + 1))
    # Since the last refresh started (a hand-run rebuild of some days must not move it), else the last build.
    since = cache.get(LAST_REFRESH_KEY) or last["built"]
    started = timezone.now()
    if since is not None:
        days |= _days_touched_since(since - SWEEP_MARGIN, local_midnight(today))
    days = {d for d in days if d < today}
    result = {"days": len(days), "rows": rollup_days_rebuild(days=days)}
    cache.set(LAST_REFRESH_KEY, started, None)
    return result


def rollup_call_final(call_log: Any, provider: str, **_: Any) -> None:
    """A ``call_became_final`` receiver: a call of a closed day changed, so that day is counted live until rebuilt."""
    created = getattr(call_log, "created_at", None)
    if created is None:
        return
    day = timezone.localtime(created, local_zone()).date()
    if day >= local_today():
        return  # today is always counted live
    CallRollupDay.objects.bulk_create(
        [CallRollupDay(day=day, dirty_at=timezone.now())],
        update_conflicts=True,
        unique_fields=["day"],
        update_fields=["dirty_at"],
    )


# --- reading -----------------------------------------------------------------------------------------------


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


def _kpi_sums(*, with_conversions: bool) -> dict[str, Any]:
    """The live ``_kpi_aggregates`` columns, as sums over roll-up rows (aliases prefixed, see ``_plain``)."""
    aggs: dict[str, Any] = {
        "calls": _sum("calls"),
        "settled": Sum("calls", filter=~Q(outcome=Outcome.OPEN), default=0),
        "connected": _sum("connected"),
        "completed": _sum("calls", outcome=Outcome.COMPLETED),
        "no_answer": _sum("calls", outcome=Outcome.NO_ANSWER),
        "failed": _sum("calls", outcome=Outcome.FAILED),
        "talk_seconds": _sum("talk_seconds"),
    }
    if with_conversions:
        aggs["conversions"] = _sum("conversions")
    return {_P + k: v for k, v in aggs.items()}


def _plain(row: dict[str, Any]) -> dict[str, Any]:
    return {k.removeprefix(_P): v for k, v in row.items()}


def _add(into: dict[Any, dict[str, Any]], key: Any, row: dict[str, Any]) -> None:
    """Sum ``row``'s numbers into ``into[key]`` (names and keys kept from the first row)."""
    target = into.get(key)
    if target is None:
        into[key] = dict(row)
        return
    for col, value in row.items():
        if isinstance(value, int) and not isinstance(value, bool) and not col.endswith("_id"):
            target[col] += value


def rollup_aggregates(days: list[dt.date], filters: DashboardFilters) -> dict[str, list[dict[str, Any]]]:
    """The same six aggregates as ``dashboard.period_aggregates``, for rolled-up days, in at most 3 queries."""
    q = Q()
    for first, last in day_runs(days):
        q |= Q(day__gte=first, day__lte=last)
    rows = CallDailyRollup.objects.filter(q)
    if filters.agent_id:
        rows = rows.filter(agent_id=filters.agent_id)
    if filters.campaign_id:
        rows = rows.filter(campaign_id=filters.campaign_id)
    if filters.team_member_id:
        rows = rows.filter(team_member_id=filters.team_member_id)
    ai = rows.filter(provider=Provider.AI)
    out: dict[str, list[dict[str, Any]]] = {"ai_days": [], "human_days": [], "hangups": [], "agents": [], "team_ai": []}
    out["team_human"] = []
    by_day = (
        rows.values("provider", "day")
        .annotate(**_kpi_sums(with_conversions=True), r_other=_sum("calls", outcome__in=[Outcome.CLOSED, Outcome.OPEN]))
        .order_by("day", "provider")
    )
    for r in map(_plain, by_day):
        provider = r.pop("provider")
        r["day"] = _as_date(r["day"])
        if provider == Provider.HUMAN:
            r.pop("conversions")
        out[f"{provider}_days"].append(r)
    if filters.wants_ai:  # one query for both: rows per agent and hang-up reason, summed two ways below
        by_agent_reason = ai.values("agent_id", "agent__name", "hangup_reason").annotate(
            **_kpi_sums(with_conversions=True)
        )
        agents: dict[Any, dict[str, Any]] = {}
        hangups: dict[str, dict[str, Any]] = {}
        for r in map(_plain, by_agent_reason.order_by()):
            reason = r.pop("hangup_reason")
            _add(agents, r["agent_id"], r)
            _add(hangups, reason, {"hangup_reason": reason, "calls": r["calls"], "connected": r["connected"]})
        out["agents"], out["hangups"] = list(agents.values()), list(hangups.values())
    providers = [p for p, wanted in ((Provider.AI, filters.wants_ai), (Provider.HUMAN, filters.wants_human)) if wanted]
    if providers:
        team = (
            rows.filter(provider__in=providers)
            .values("provider", "team_member_id", "team_member__name")
            .annotate(**_kpi_sums(with_conversions=True))
            .order_by()
        )
        for r in map(_plain, team):
            provider = r.pop("provider")
            if provider == Provider.HUMAN:
                r.pop("conversions")
            out[f"team_{provider}"].append(r)
    return out


def rollup_campaign_progress(
    filters: DashboardFilters, rolled_up: list[dt.date], ranges: Ranges, limit: int = CAMPAIGN_LIMIT
) -> list[dict[str, Any]]:
    """``dashboard.campaign_progress`` (all time) in 3 small queries: the latest campaigns, their calls
    summed from the roll-up's days, and their calls in the ``ranges`` the roll-up does not answer."""
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
    parts = []
    if rolled_up:
        q = Q()
        for first, last in day_runs(rolled_up):
            q |= Q(day__gte=first, day__lte=last)
        parts.append(
            CallDailyRollup.objects.filter(q, provider=Provider.AI, campaign_id__in=pks)
            .values("campaign_id")
            .annotate(
                n_calls=_sum("calls"),
                n_settled=Sum("calls", filter=~Q(outcome=Outcome.OPEN), default=0),
                n_completed=_sum("calls", outcome=Outcome.COMPLETED),
            )
            .order_by()
        )
    if ranges:
        parts.append(
            in_ranges(CallKaroCallLog.objects.filter(campaign_id__in=pks), ranges)
            .values("campaign_id")
            .annotate(
                n_calls=Count("campaign_id"),
                n_settled=Count("campaign_id", filter=Q(status__in=SETTLED_STATUSES)),
                n_completed=Count("campaign_id", filter=Q(status=CallStatus.COMPLETED)),
            )
            .order_by()
        )
    for rows in parts:
        for r in rows:
            for col in ("n_calls", "n_settled", "n_completed"):
                counts[r["campaign_id"]][col] += r[col]
    return campaign_progress_rows({**m, **counts[m["pk"]]} for m in meta)
