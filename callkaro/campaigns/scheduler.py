"""The dispatcher behind the beat task: claim due rows, then hand them to the claim-then-dial task.

Scheduled calls live in the database (docs/architecture.md), never in long Celery ETAs. Each tick:
recovers rows a lost message or a killed worker left behind, pauses or resumes campaigns with
the Call Karo breaker, claims due single calls, then shares the free capacity across running
campaigns round-robin (pace, max concurrent, calling hours in the lead's time zone, priority).
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from telephony.calling_hours import inside_hours
from telephony.status import LIVE_STATUSES, CallStatus

from ..models import CallKaroCallLog, CallKaroCampaign
from .calls import AUTO_PAUSE_REASON
from .lifecycle import campaign_complete_if_done, campaign_pause, campaign_resume, campaign_start_due

logger = logging.getLogger(__name__)

LOCK_KEY = "callkaro:scheduler:lock"
ROTATION_KEY = "callkaro:scheduler:rotation"
Status = CallKaroCampaign.Status


@dataclass
class TickResult:
    claimed: list[int] = field(default_factory=list)
    requeued: list[int] = field(default_factory=list)
    marked_unknown: int = 0
    paused: int = 0
    resumed: int = 0
    completed: int = 0
    skipped_locked: bool = False


def enqueue_dispatch(call_log_ids: list[int]) -> None:
    """Send one dispatch message per claimed row (called on commit; a tick claims a page, never 100k)."""
    from telephony.tasks import call_dispatch_task

    for pk in call_log_ids:
        call_dispatch_task.delay("callkaro", pk)


def scheduler_tick(*, now: dt.datetime | None = None) -> TickResult:
    """One pass of the dispatcher. Overlapping ticks are skipped; the claims are safe either way."""
    result = TickResult()
    lock_ttl = max(int(settings.CAMPAIGN_SCHEDULER_INTERVAL_SECONDS * 6), 30)
    if not cache.add(LOCK_KEY, "1", timeout=lock_ttl):
        result.skipped_locked = True
        return result
    try:
        now = now or timezone.now()
        result.marked_unknown = recover_stuck_dispatching(now=now)
        result.requeued = requeue_stuck_queued(now=now)
        result.paused, result.resumed = follow_breaker()
        result.paused += pause_blocked_campaigns()
        campaign_start_due(now=now)
        result.claimed += claim_single_calls(now=now)
        result.claimed += claim_campaign_calls(now=now)
        for campaign in CallKaroCampaign.objects.filter(status=Status.RUNNING):
            result.completed += campaign_complete_if_done(campaign=campaign, now=now)
    finally:
        cache.delete(LOCK_KEY)
    return result


# --- Recovery ------------------------------------------------------------------------------------


def recover_stuck_dispatching(*, now: dt.datetime) -> int:
    """A row left ``dispatching`` long past the read timeout lost its worker mid-dial.

    The request may have reached Call Karo, so it becomes ``unknown`` (the webhook or
    reconciliation settles it) and is never dialled again.
    """
    cutoff = now - dt.timedelta(seconds=settings.CAMPAIGN_DISPATCHING_STUCK_SECONDS)
    # ``call_dispatch`` stamps ``updated_at`` when it claims the row, so that is when dialling began.
    return CallKaroCallLog.objects.filter(status=CallStatus.DISPATCHING, updated_at__lt=cutoff).update(
        status=CallStatus.UNKNOWN,
        error_message="Worker lost mid-dial: the outcome is unknown; not re-dialled.",
        updated_at=now,
    )


def requeue_stuck_queued(*, now: dt.datetime) -> list[int]:
    """A row left ``queued`` lost its message: send it again. ``call_dispatch``'s claim makes a duplicate a no-op."""
    cutoff = now - dt.timedelta(seconds=settings.CAMPAIGN_QUEUED_STUCK_SECONDS)
    with transaction.atomic():
        stale = CallKaroCallLog.objects.select_for_update(skip_locked=True).filter(
            status=CallStatus.QUEUED, updated_at__lt=cutoff
        )
        ids = list(stale.values_list("pk", flat=True)[: settings.CAMPAIGN_SCHEDULER_BATCH])
        if ids:
            CallKaroCallLog.objects.filter(pk__in=ids, status=CallStatus.QUEUED).update(
                dispatched_at=now, updated_at=now
            )
            logger.warning("Re-enqueueing %d call(s) stuck in queued", len(ids))
            transaction.on_commit(lambda: enqueue_dispatch(ids))
    return ids


def follow_breaker() -> tuple[int, int]:
    """While Call Karo's circuit is open, running campaigns pause with the reason shown; when it
    closes, the ones it paused resume (``CAMPAIGN_AUTO_RESUME``; a hand pause is never undone)."""
    from telephony.breaker import breaker_for

    paused = resumed = 0
    if breaker_for("callkaro").is_open():
        for campaign in CallKaroCampaign.objects.filter(status=Status.RUNNING):
            paused += campaign_pause(campaign=campaign, reason=AUTO_PAUSE_REASON)
    elif settings.CAMPAIGN_AUTO_RESUME:
        for campaign in CallKaroCampaign.objects.filter(status=Status.PAUSED, status_reason=AUTO_PAUSE_REASON):
            resumed += campaign_resume(campaign=campaign)
    return paused, resumed


def pause_blocked_campaigns() -> int:
    """Running campaigns pause, with the reason, while AI calling is switched off or their agent is gone:
    their due rows stay scheduled (none is dialled to fail), and a person resumes after the fix."""
    from ..config import get_effective_config

    paused = 0
    config = get_effective_config()
    for campaign in CallKaroCampaign.objects.filter(status=Status.RUNNING).select_related("agent"):
        if not config.is_enabled:
            reason = "AI calling is switched off on the configuration page"
        elif not config.api_key:
            reason = "Call Karo has no API key"
        elif not campaign.agent.is_active:
            reason = f"The agent {campaign.agent.name} is disabled"
        else:
            continue
        paused += campaign_pause(campaign=campaign, reason=reason)
    return paused


# --- Claiming ------------------------------------------------------------------------------------


def _claim(qs: QuerySet[CallKaroCallLog], limit: int, now: dt.datetime) -> list[int]:
    """Move up to ``limit`` rows scheduled → queued under ``SKIP LOCKED`` and enqueue them on commit."""
    if limit <= 0:
        return []
    with transaction.atomic():
        ordered = qs.order_by(F("priority").desc(nulls_last=True), "scheduled_at", "id")
        ids = list(ordered.select_for_update(skip_locked=True, of=("self",)).values_list("pk", flat=True)[:limit])
        if not ids:
            return []
        CallKaroCallLog.objects.filter(pk__in=ids, status=CallStatus.SCHEDULED).update(
            status=CallStatus.QUEUED, dispatched_at=now, updated_at=now
        )
        transaction.on_commit(lambda: enqueue_dispatch(ids))
    return ids


def _due(now: dt.datetime) -> QuerySet[CallKaroCallLog]:
    return CallKaroCallLog.objects.filter(status=CallStatus.SCHEDULED).filter(
        Q(scheduled_at__lte=now) | Q(scheduled_at__isnull=True)
    )


def claim_single_calls(*, now: dt.datetime) -> list[int]:
    """Reps' own scheduled calls: dialled when due, outside campaign limits (they chose the time)."""
    return _claim(_due(now).filter(campaign__isnull=True), settings.CAMPAIGN_SCHEDULER_BATCH, now)


def _live(qs: QuerySet[CallKaroCallLog], now: dt.datetime) -> QuerySet[CallKaroCallLog]:
    """Calls on the line or about to be. One with no webhook for a long time stops counting."""
    stale = now - dt.timedelta(minutes=settings.CAMPAIGN_LIVE_CALL_MAX_MINUTES)
    return qs.filter(status__in=[CallStatus.QUEUED, *LIVE_STATUSES]).filter(
        Q(dispatched_at__gte=stale) | Q(dispatched_at__isnull=True, updated_at__gte=stale)
    )


def _zone(name: str, default: ZoneInfo) -> ZoneInfo:
    try:
        return ZoneInfo(name) if name else default
    except (ZoneInfoNotFoundError, ValueError):
        return default


def in_calling_window(campaign: CallKaroCampaign, zone: ZoneInfo, now: dt.datetime) -> bool:
    """Inside the campaign's hours and days and the legal calling hours, read in ``zone``.

    A campaign saved before the calling policy may still hold an overnight window: the legal
    hours cut it, so its rows wait for the morning instead of being dialled or skipped."""
    if not inside_hours(zone.key, now):
        return False
    local = now.astimezone(zone)
    if campaign.days_of_week and local.weekday() not in campaign.days_of_week:
        return False
    start, end, t = campaign.calling_hours_start, campaign.calling_hours_end, local.time()
    return start <= t < end if start < end else (t >= start or t < end)


def _open_zones_filter(campaign: CallKaroCampaign, due: QuerySet[CallKaroCallLog], now: dt.datetime) -> Q | None:
    """Which leads' time zones are inside the window now; None when none is."""
    campaign_zone = _zone(campaign.time_zone, ZoneInfo(settings.TIME_ZONE))
    lead_zones = set(due.values_list("lead__time_zone", flat=True).distinct())
    open_names = [name for name in lead_zones if in_calling_window(campaign, _zone(name or "", campaign_zone), now)]
    if not open_names:
        return None
    return Q(lead__time_zone__in=open_names)


def campaign_budget(campaign: CallKaroCampaign, now: dt.datetime) -> int:
    """How many more calls this campaign may start now: its pace over the last minute, and its concurrency."""
    calls = CallKaroCallLog.objects.filter(campaign=campaign)
    started_last_minute = calls.filter(dispatched_at__gte=now - dt.timedelta(seconds=60)).count()
    by_pace = campaign.pace_per_minute - started_last_minute
    by_concurrency = campaign.max_concurrent - _live(calls, now).count()
    return max(0, min(by_pace, by_concurrency))


def claim_campaign_calls(*, now: dt.datetime) -> list[int]:
    """Share the free capacity across running campaigns, one slot each per round, so none starves.

    Capacity is the global cap of live AI calls minus what is reserved for reps' own clicks.
    Higher-priority campaigns come first within a round; the start rotates between ticks.
    """
    running = list(CallKaroCampaign.objects.filter(status=Status.RUNNING).order_by("-priority", "id"))
    if not running:
        return []
    live_all = _live(CallKaroCallLog.objects.all(), now).count()
    capacity = settings.CAMPAIGN_GLOBAL_MAX_LIVE - settings.CAMPAIGN_RESERVED_FOR_REPS - live_all
    # Keep the broker's backlog short: claim more only as the workers take what was claimed.
    backlog = CallKaroCallLog.objects.filter(status=CallStatus.QUEUED).count()
    capacity = min(capacity, settings.CAMPAIGN_SCHEDULER_BATCH, settings.CAMPAIGN_MAX_QUEUED - backlog)
    if capacity <= 0:
        return []
    wanted: dict[int, int] = {}
    querysets: dict[int, QuerySet[CallKaroCallLog]] = {}
    for campaign in running:
        due = _due(now).filter(campaign=campaign)
        zones = _open_zones_filter(campaign, due, now)
        budget = campaign_budget(campaign, now)
        if zones is None or budget <= 0:
            continue
        qs = due.filter(zones)
        # Never more than there is to dial, so unused slots go to the next campaign.
        wanted[campaign.pk] = len(qs.values_list("pk", flat=True)[: min(budget, capacity)])
        querysets[campaign.pk] = qs
    order = [c.pk for c in running if wanted.get(c.pk)]
    if not order:
        return []
    rotation = _rotation() % len(order)
    order = order[rotation:] + order[:rotation]
    allotted = dict.fromkeys(order, 0)
    while capacity > 0 and any(allotted[pk] < wanted[pk] for pk in order):
        for pk in order:
            if capacity > 0 and allotted[pk] < wanted[pk]:
                allotted[pk] += 1
                capacity -= 1
    claimed: list[int] = []
    for pk in order:
        claimed += _claim(querysets[pk], allotted[pk], now)
    return claimed


def _rotation() -> int:
    try:
        return cache.incr(ROTATION_KEY)
    except ValueError:
        cache.set(ROTATION_KEY, 0, timeout=None)
        return 0
