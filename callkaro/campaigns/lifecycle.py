"""Campaign lifecycle: pause, resume, cancel (withdrawing what Call Karo still holds), start and completion."""

from __future__ import annotations

import datetime as dt
import logging

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from telephony.status import LIVE_STATUSES, PENDING_STATUSES, CallStatus

from ..models import CallKaroCallLog, CallKaroCampaign
from .audience import AudienceMember
from .calls import (
    ACTIVE_CAMPAIGN_STATUSES,
    SKIP_CANCELLED,
    SKIP_PAUSED,
    Status,
    campaign_call_row,
    campaign_retry_gaps,
)

logger = logging.getLogger(__name__)


def campaign_pause(*, campaign: CallKaroCampaign, reason: str = "Paused by hand") -> bool:
    """Stop new dials at once: claimed-but-not-dialled rows go back to ``scheduled``; live calls finish."""
    with transaction.atomic():
        changed = CallKaroCampaign.objects.filter(pk=campaign.pk, status__in=[Status.RUNNING, Status.SCHEDULED]).update(
            status=Status.PAUSED, status_reason=reason[:300], updated_at=timezone.now()
        )
        if changed:
            campaign.calls.filter(status=CallStatus.QUEUED).update(
                status=CallStatus.SCHEDULED, updated_at=timezone.now()
            )
    campaign.refresh_from_db()
    return bool(changed)


def campaign_resume(*, campaign: CallKaroCampaign, now: dt.datetime | None = None) -> bool:
    """Continue where it stopped; calls skipped by a pause race are scheduled again."""
    now = now or timezone.now()
    with transaction.atomic():
        changed = CallKaroCampaign.objects.filter(pk=campaign.pk, status=Status.PAUSED).update(
            status=Status.RUNNING, status_reason="", started_at=campaign.started_at or now, updated_at=now
        )
        if changed:
            lost = campaign.calls.filter(status=CallStatus.CANCELLED, skip_reason=SKIP_PAUSED, retries__isnull=True)
            for row in lost.select_related("lead"):
                again = campaign_call_row(
                    campaign,
                    AudienceMember(lead_id=row.lead_id, phone=row.to_number, assigned_to_id=row.team_member_id),
                    now,
                    attempt=row.attempt,
                )
                again.retry_of = row
                again.metadata_sent = {k: v for k, v in row.metadata_sent.items() if k != "call_log_id"}
                again.save()
    campaign.refresh_from_db()
    return bool(changed)


def campaign_cancel(*, campaign: CallKaroCampaign, reason: str = "Cancelled by hand") -> int:
    """Mark the remaining calls cancelled, and withdraw at Call Karo the ones it still holds scheduled."""
    now = timezone.now()
    with transaction.atomic():
        changed = CallKaroCampaign.objects.filter(pk=campaign.pk, status__in=ACTIVE_CAMPAIGN_STATUSES).update(
            status=Status.CANCELLED, status_reason=reason[:300], finished_at=now, updated_at=now
        )
        if not changed:
            return 0
        cancelled = campaign.calls.filter(status__in=PENDING_STATUSES).update(
            status=CallStatus.CANCELLED, skip_reason=SKIP_CANCELLED, ended_at=now, updated_at=now
        )
        handed_over = list(_handed_over_scheduled(campaign, now).values_list("pk", flat=True))
        transaction.on_commit(lambda: _withdraw_at_callkaro(handed_over))
    campaign.refresh_from_db()
    return cancelled


def _handed_over_scheduled(campaign: CallKaroCampaign, now: dt.datetime):
    """Calls Call Karo may still dial on its own: handed over with a schedule, or with its own retries pending."""
    qs = campaign.calls.filter(provider_call_id__isnull=False).exclude(status=CallStatus.COMPLETED)
    cond = Q(scheduled_at__gt=now, status=CallStatus.INITIATED)
    if campaign.retry_owner == CallKaroCampaign.RetryOwner.CALLKARO:
        cond |= Q(try_count__lt=campaign.max_retries)
    return qs.filter(cond)


def _withdraw_at_callkaro(call_log_ids: list[int]) -> None:
    from telephony.errors import TelephonyError
    from telephony.services import call_cancel

    for row in CallKaroCallLog.objects.filter(pk__in=call_log_ids):
        try:
            call_cancel(provider="callkaro", call_log=row)
        except TelephonyError as exc:  # the call may already be gone; cancellation stands on our side
            logger.warning("Could not withdraw call %s at Call Karo: %s", row.pk, exc)


def campaign_start_due(*, now: dt.datetime | None = None) -> int:
    """Scheduled campaigns whose start time has come become running."""
    now = now or timezone.now()
    return CallKaroCampaign.objects.filter(status=Status.SCHEDULED, start_at__lte=now).update(
        status=Status.RUNNING, started_at=now, updated_at=now
    )


def campaign_complete_if_done(*, campaign: CallKaroCampaign, now: dt.datetime | None = None) -> bool:
    """A running campaign with nothing pending or live (nor Call Karo retries due) is completed."""
    now = now or timezone.now()
    open_calls = campaign.calls.filter(status__in=[*PENDING_STATUSES, *LIVE_STATUSES])
    if open_calls.exists():
        return False
    if campaign.retry_owner == CallKaroCampaign.RetryOwner.CALLKARO and campaign.max_retries:
        # Call Karo's own retries: a not-reached call with tries left is still pending there.
        window = dt.timedelta(minutes=sum(campaign_retry_gaps(campaign, campaign.max_retries)) + 30)
        if campaign.calls.filter(
            status__in=[CallStatus.NO_ANSWER, CallStatus.BUSY],
            try_count__lt=campaign.max_retries,
            updated_at__gte=now - window,
        ).exists():
            return False
    return bool(
        CallKaroCampaign.objects.filter(pk=campaign.pk, status=Status.RUNNING).update(
            status=Status.COMPLETED, finished_at=now, updated_at=now
        )
    )
