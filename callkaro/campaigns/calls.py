"""What every campaign module shares: its statuses and skip reasons, its error, and one call row.

Used by ``services`` (drafts, preview, launch), ``lifecycle`` (pause, resume, cancel, completion)
and ``hooks`` (retries, opt-outs, the pre-dial check).
"""

from __future__ import annotations

import datetime as dt

from telephony.status import CallStatus

from ..models import CallKaroCallLog, CallKaroCampaign
from ..options import CallKaroOptions
from .audience import AudienceMember
from .selectors import ACTIVE_CAMPAIGN_STATUSES, Status  # noqa: F401 - shared with the campaign modules from here

AUTO_PAUSE_REASON = "Call Karo is unavailable (circuit open); paused automatically"
SKIP_PAUSED = "Campaign paused"
SKIP_CANCELLED = "Campaign cancelled"
#: The creator's lead scope, fixed at launch: a rep's campaign reaches only leads still assigned to them.
SCOPE_ALL, SCOPE_OWN = "all", "own"
DEFAULT_RETRY_GAP_MINUTES = 30


class CampaignError(ValueError):
    """A request the campaign cannot honour (shown to the user as a 4xx)."""


def campaign_call_options(campaign: CallKaroCampaign) -> CallKaroOptions:
    """The options of each of the campaign's calls: its agent, priority and hours; Call Karo's retries
    only when Call Karo owns them (one retry owner per call)."""
    callkaro_retries = campaign.retry_owner == CallKaroCampaign.RetryOwner.CALLKARO
    gaps = campaign.retry_gaps_minutes or [DEFAULT_RETRY_GAP_MINUTES]
    return CallKaroOptions(
        agent_id=campaign.agent.agent_id,
        language=campaign.agent.language,
        priority=campaign.priority,
        number_of_retries=campaign.max_retries if callkaro_retries else None,
        gap_between_retries=(gaps if len(gaps) > 1 else gaps[0]) if callkaro_retries else None,
        min_trigger_time=campaign.calling_hours_start,
        max_trigger_time=campaign.calling_hours_end,
        batch_id=campaign.batch_id,
    )


#: The columns that differ between one campaign's calls at launch (``member_values``); a launch
#: writes every other column once, from a template row (``rows.rows_write``).
MEMBER_COLUMNS = ("lead_id", "team_member_id", "to_number", "metadata_sent")


def member_values(campaign: CallKaroCampaign, m: AudienceMember) -> tuple:
    """The ``MEMBER_COLUMNS`` of ``m``'s call. ``call_log_id`` is added to the metadata by the dispatcher."""
    return m.lead_id, m.assigned_to_id, m.phone, {"lead_id": m.lead_id, "campaign_id": campaign.pk, **m.metadata}


def campaign_call_row(
    campaign: CallKaroCampaign,
    m: AudienceMember,
    when: dt.datetime,
    attempt: int = 1,
    options: CallKaroOptions | None = None,
) -> CallKaroCallLog:
    """One campaign call. Pass ``options`` (``campaign_call_options``) when writing many rows, to build them once."""
    options = options or campaign_call_options(campaign)
    return CallKaroCallLog(
        status=CallStatus.SCHEDULED,
        scheduled_at=when,
        campaign=campaign,
        agent_id=campaign.agent_id,
        attempt=attempt,
        **dict(zip(MEMBER_COLUMNS, member_values(campaign, m), strict=True)),
        **options.to_row_fields(),
    )


def campaign_retry_gaps(campaign: CallKaroCampaign, n: int) -> list[int]:
    gaps = [int(g) for g in campaign.retry_gaps_minutes] or [DEFAULT_RETRY_GAP_MINUTES]
    return [gaps[min(i, len(gaps) - 1)] for i in range(n)]
