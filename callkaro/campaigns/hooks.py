"""Campaign telephony hooks: after a call ends (opt-outs, our retries, completion) and before each dial."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from telephony.dial_checks import DialNeeds
from telephony.status import CallStatus

from ..models import CallKaroCallLog, CallKaroCampaign
from .audience import AudienceMember
from .calls import SCOPE_OWN, SKIP_PAUSED, Status, campaign_call_row, campaign_retry_gaps
from .lifecycle import campaign_complete_if_done, campaign_pause


def on_call_final(call_log: Any, provider: str, **_: Any) -> None:
    """A ``call_became_final`` receiver: our retries, completion. (Opt-outs: ``telephony.outcomes``
    for structured signals, ``crm.opt_out`` for what a transcript proposes.)"""
    if provider != "callkaro" or not getattr(call_log, "campaign_id", None):
        return
    campaign = CallKaroCampaign.objects.get(pk=call_log.campaign_id)
    if (
        campaign.retry_owner == CallKaroCampaign.RetryOwner.SCHEDULER
        and call_log.status in (CallStatus.NO_ANSWER, CallStatus.BUSY)
        and call_log.attempt <= campaign.max_retries
        and campaign.status in (Status.RUNNING, Status.PAUSED, Status.SCHEDULED)
    ):
        campaign_retry_schedule(call_log=call_log, campaign=campaign)
    if campaign.status == Status.RUNNING:
        campaign_complete_if_done(campaign=campaign)


def on_call_blocked(call_log: Any, provider: str, reason: str, **_: Any) -> bool:
    """A ``call_blocked`` receiver: the campaign pauses with the reason (its due rows stay scheduled)."""
    campaign_id = getattr(call_log, "campaign_id", None)
    if provider != "callkaro" or not campaign_id:
        return False
    campaign = CallKaroCampaign.objects.get(pk=campaign_id)
    campaign_pause(campaign=campaign, reason=reason)
    return True


def campaign_retry_schedule(*, call_log: CallKaroCallLog, campaign: CallKaroCampaign) -> CallKaroCallLog | None:
    """Our scheduler's retry: a new row (attempt + 1) due after the gap. Once per call, under a row lock."""
    with transaction.atomic():
        locked = CallKaroCallLog.objects.select_for_update().get(pk=call_log.pk)
        if locked.retries.exists():
            return None
        gap = campaign_retry_gaps(campaign, locked.attempt)[locked.attempt - 1]
        row = campaign_call_row(
            campaign,
            AudienceMember(lead_id=locked.lead_id, phone=locked.to_number, assigned_to_id=locked.team_member_id),
            timezone.now() + dt.timedelta(minutes=gap),
            attempt=locked.attempt + 1,
        )
        row.retry_of = locked
        row.metadata_sent = {k: v for k, v in locked.metadata_sent.items() if k != "call_log_id"}
        row.save()
    return row


def campaign_dial_needs(model: type, now: dt.datetime) -> DialNeeds:
    """What ``campaign_lead_eligible`` reads, loaded with the dialled row: the campaign, the lead and
    whether the lead was already reached in this campaign."""
    if model is not CallKaroCallLog:
        return DialNeeds()
    reached = CallKaroCallLog.objects.filter(
        campaign_id=OuterRef("campaign_id"), lead_id=OuterRef("lead_id"), status=CallStatus.COMPLETED
    ).exclude(pk=OuterRef("pk"))
    return DialNeeds(related=("campaign", "lead"), annotations={"dial_campaign_reached": Exists(reached)})


def campaign_lead_eligible(call_log: Any) -> str | None:
    """Pre-dial check (``telephony.dial_checks``): a skip reason, or None to dial.

    Only what is the campaign's own (its state, its scope, a lead already reached); everything about
    the lead itself is the shared eligibility rule, registered by telephony and run first.
    """
    campaign_id = getattr(call_log, "campaign_id", None)
    if not campaign_id:
        return None
    campaign = call_log.campaign  # joined by the dispatch (``campaign_dial_needs``)
    if campaign.status != Status.RUNNING:
        return (
            SKIP_PAUSED if campaign.status == Status.PAUSED else f"Campaign is {campaign.get_status_display().lower()}"
        )
    lead = call_log.lead
    # Do-not-call, stage, number, hours and gap: the shared rule (``telephony.eligibility.dial_check``).
    if campaign.audience.get("scope") == SCOPE_OWN and lead.assigned_to_id != campaign.created_by_id:
        return "Lead reassigned away from the campaign's owner"
    reached = getattr(call_log, "dial_campaign_reached", None)
    if reached is None:  # a row loaded without the needs
        reached = (
            CallKaroCallLog.objects.filter(campaign_id=campaign_id, lead_id=lead.pk, status=CallStatus.COMPLETED)
            .exclude(pk=call_log.pk)
            .exists()
        )
    if reached:
        return "Already reached in this campaign"
    return None
