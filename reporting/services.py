"""The dashboard's daily roll-up: closed local days pre-aggregated, so no period rescans a million rows.

One ``CallDailyRollup`` row per local day × provider × agent × team member × campaign × outcome bucket ×
hang-up reason, holding counts and sums only; every widget of a past day is a sum over those rows and
equals the live grouped queries (``reporting/tests/test_rollup.py`` checks it). Reads are in ``rollup``.

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
from django.db.models import Case, CharField, Count, Max, Q, QuerySet, Sum, Value, When
from django.db.models.functions import TruncDate
from django.utils import timezone

from telephony import calls
from telephony.status import CallStatus

from .definitions import HAPPENED, NO_ANSWER_STATUSES, SETTLED_STATUSES, as_date, connected_q, has_conversions
from .models import CallDailyRollup, CallRollupDay
from .periods import local_midnight, local_today, local_zone
from .rollup import day_runs

logger = logging.getLogger(__name__)
Outcome = CallDailyRollup.Outcome

#: Days rebuilt per transaction: one grouped query per provider covers the whole batch.
REBUILD_BATCH_DAYS = 31
#: How far before the last refresh the next one looks for call logs updated without a hook.
SWEEP_MARGIN = dt.timedelta(minutes=10)
LAST_REFRESH_KEY = "reporting:rollup:last_refresh"

_OUTCOME = Case(
    When(status=CallStatus.COMPLETED, then=Value(Outcome.COMPLETED.value)),
    When(status__in=NO_ANSWER_STATUSES, then=Value(Outcome.NO_ANSWER.value)),
    When(status=CallStatus.FAILED, then=Value(Outcome.FAILED.value)),
    When(status__in=SETTLED_STATUSES, then=Value(Outcome.CLOSED.value)),
    default=Value(Outcome.OPEN.value),
    output_field=CharField(),
)


def _created_in(runs: list[tuple[dt.date, dt.date]]) -> Q:
    q = Q()
    for first, last in runs:
        q |= Q(created_at__gte=local_midnight(first), created_at__lt=local_midnight(last + dt.timedelta(days=1)))
    return q


#: Group keys some providers' calls carry (Call Karo's agent, campaign and hang-up reason).
_OPTIONAL_KEYS = ("agent_id", "campaign_id", "hangup_reason")


def _grouped_rows(provider: str, runs: list[tuple[dt.date, dt.date]]) -> list[CallDailyRollup]:
    """ONE grouped query: the roll-up rows of one provider for the given days."""
    optional = [k for k in _OPTIONAL_KEYS if calls.call_log_has(provider, k.removesuffix("_id"))]
    keys = ["rollup_day", "team_member_id", "outcome", *optional]
    aggs: dict[str, Any] = {
        "n_calls": Count("id"),
        "n_connected": Count("id", filter=connected_q(provider)),
        "n_talk": Sum("duration_seconds", default=0),
    }
    if has_conversions(provider):
        aggs["n_conversions"] = Count("id", filter=Q(converted=True))
    qs = (
        calls.calls(provider)
        .filter(_created_in(runs), HAPPENED)
        .annotate(rollup_day=TruncDate("created_at", tzinfo=local_zone()), outcome=_OUTCOME)
        .values(*keys)
        .annotate(**aggs)
        .order_by()
    )
    return [
        CallDailyRollup(
            day=as_date(r["rollup_day"]),
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
            rows = [row for provider in calls.call_log_models() for row in _grouped_rows(provider, runs)]
            CallDailyRollup.objects.filter(day__in=batch).delete()
            CallDailyRollup.objects.bulk_create(rows, batch_size=2000)
            CallRollupDay.objects.filter(day__in=batch).update(built_at=started)
            CallRollupDay.objects.filter(day__in=batch, dirty_at__lte=started).update(dirty_at=None)
        written += len(rows)
    return written


def rollup_first_day() -> dt.date | None:
    """The local day of the first call of any provider (one indexed MIN query per provider)."""
    first = calls.first_call_at()
    return timezone.localtime(first, local_zone()).date() if first is not None else None


def _days_touched_since(since: dt.datetime, before: dt.datetime) -> set[dt.date]:
    """Closed days with call logs updated since ``since``: catches bulk updates that run no final-call hook
    (stuck calls marked unknown, a campaign's queued calls cancelled)."""
    days: set[dt.date] = set()
    for provider in calls.call_log_models():
        qs: QuerySet = (
            calls.calls(provider, updated_at__gte=since, created_at__lt=before)
            .annotate(rollup_day=TruncDate("created_at", tzinfo=local_zone()))
            .values_list("rollup_day", flat=True)
            .distinct()
            .order_by()
        )
        days.update(as_date(d) for d in qs)
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
    """A ``call_became_final`` receiver: a call of a closed day changed, so that day is counted live
    until rebuilt."""
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
