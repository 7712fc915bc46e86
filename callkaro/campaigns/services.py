"""Campaign services: drafts, preview, launch, and one lead added to a running campaign.

The builder saves a DRAFT campaign row (settings, audience, uploaded CSV); preview reads the draft and
writes nothing; launch creates the campaign at Call Karo and flips the draft to scheduled or running
with one call row per eligible lead. The scheduler (``scheduler``) then dials them through the same
claim-then-dial task as single calls. Pause, resume, cancel and completion are in ``lifecycle``.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from crm.dnc import dnc_numbers_among, is_do_not_call
from crm.models import Lead
from crm.selectors import team_member_for
from telephony.status import LIVE_STATUSES, PENDING_STATUSES, CallStatus

from .. import selectors as callkaro_selectors
from ..models import CallKaroAgent, CallKaroCallLog, CallKaroCampaign
from .audience import AudienceMember, CampaignAudience
from .calls import (
    ACTIVE_CAMPAIGN_STATUSES,
    SCOPE_ALL,
    SCOPE_OWN,
    CampaignError,
    Status,
    campaign_call_options,
    campaign_call_row,
)
from .inputs import CampaignSettings
from .rows import rows_write


@dataclass
class CampaignPreview:
    count: int = 0  # rows in the audience
    eligible: int = 0
    invalid_numbers: list[tuple[int | None, str]] = field(default_factory=list)
    duplicates: int = 0
    do_not_call: int = 0
    in_other_campaigns: int = 0
    estimated_calls: int = 0  # eligible leads × (1 + retries): the worst case

    @property
    def invalid_count(self) -> int:
        return len(self.invalid_numbers)


# --- Preview and launch --------------------------------------------------------------------------


def _chunks(items: Iterable[AudienceMember], size: int) -> Iterator[list[AudienceMember]]:
    it = iter(items)
    while chunk := list(islice(it, size)):
        yield chunk


def _leads_in_active_campaigns(lead_ids: list[int], exclude_campaign_id: int | None = None) -> set[int]:
    qs = CallKaroCallLog.objects.filter(
        lead_id__in=lead_ids,
        campaign__status__in=ACTIVE_CAMPAIGN_STATUSES,
        status__in=[*PENDING_STATUSES, *LIVE_STATUSES],
    )
    if exclude_campaign_id:
        qs = qs.exclude(campaign_id=exclude_campaign_id)
    return set(qs.values_list("lead_id", flat=True))


def _eligible(
    audience: Iterable[AudienceMember], preview: CampaignPreview, chunk_size: int
) -> Iterator[AudienceMember]:
    """Filter the stream (one query per chunk for DNC and other campaigns), counting what drops out."""
    seen_last = ""
    seen_phones: set[str] = set()
    for chunk in _chunks(audience, chunk_size):
        preview.count += len(chunk)
        dnc = dnc_numbers_among([m.phone for m in chunk])
        dnc_leads = set(
            Lead.objects.filter(pk__in=[m.lead_id for m in chunk if m.lead_id], do_not_call=True).values_list(
                "pk", flat=True
            )
        )
        busy = _leads_in_active_campaigns([m.lead_id for m in chunk if m.lead_id])
        for m in chunk:
            # Filter audiences arrive sorted by phone (constant memory); CSVs are already de-duplicated.
            if m.phone == seen_last or m.phone in seen_phones:
                preview.duplicates += 1
                continue
            seen_last = m.phone
            if m.line is not None:
                seen_phones.add(m.phone)
            if m.phone in dnc or m.lead_id in dnc_leads:
                preview.do_not_call += 1
                continue
            if m.lead_id in busy:
                preview.in_other_campaigns += 1
                continue
            preview.eligible += 1
            yield m


def campaign_preview(
    *, audience: Iterable[AudienceMember], campaign_settings: CampaignSettings, invalid: Iterable = ()
) -> CampaignPreview:
    """The figures a user checks before launching. Nothing is written."""
    preview = CampaignPreview(invalid_numbers=list(invalid))
    for _ in _eligible(audience, preview, settings.CAMPAIGN_BULK_CHUNK):
        pass
    preview.count += preview.invalid_count
    preview.estimated_calls = preview.eligible * (1 + campaign_settings.max_retries)
    return preview


def audience_preview(*, audience: CampaignAudience, campaign_settings: CampaignSettings) -> CampaignPreview:
    """``campaign_preview`` of a resolved audience, counting the CSV's own duplicates too."""
    members = audience.members(create=False)
    preview = campaign_preview(audience=members, campaign_settings=campaign_settings, invalid=audience.errors)
    preview.duplicates += audience.csv_duplicates
    preview.count += audience.csv_duplicates
    return preview


# --- Drafts --------------------------------------------------------------------------------------


def campaign_draft_save(
    *,
    user: AbstractBaseUser,
    campaign_settings: CampaignSettings,
    audience: dict[str, Any],
    csv_data: bytes | None = None,
    draft: CallKaroCampaign | None = None,
) -> CallKaroCampaign:
    """Create or update a DRAFT campaign: its settings, its audience and (for a CSV) the uploaded file.

    Nothing is sent to Call Karo and no call row is written; an abandoned draft stays listed until deleted.
    """
    campaign_settings.validate()
    if draft is not None and draft.status != Status.DRAFT:
        raise CampaignError("Only a draft can be edited")
    campaign = draft or CallKaroCampaign(status=Status.DRAFT, created_by=team_member_for(user))
    for name, value in campaign_settings.row_fields().items():
        setattr(campaign, name, value)
    old_file = campaign.audience_file.name if campaign.audience_file else ""
    kept_file = audience.get("kind") == "csv" and csv_data is None and old_file
    if audience.get("kind") == "csv" and csv_data is None and not old_file:
        raise CampaignError("Choose a CSV file")
    campaign.audience = {**audience, "file_name": campaign.audience.get("file_name", "")} if kept_file else audience
    with transaction.atomic():
        if campaign.pk and not CallKaroCampaign.objects.select_for_update().filter(pk=campaign.pk, status=Status.DRAFT):
            raise CampaignError("The campaign has been launched meanwhile")  # a launch won the race
        if csv_data is not None:
            campaign.audience_file.save(f"{uuid.uuid4().hex}.csv", ContentFile(csv_data), save=False)
        elif not kept_file:
            campaign.audience_file = ""
        campaign.save()
        if old_file and old_file != campaign.audience_file.name:
            _delete_upload_on_commit(campaign, old_file)
    return campaign


def campaign_draft_delete(*, campaign: CallKaroCampaign) -> bool:
    """Delete an abandoned draft and its upload. A launched campaign is never deleted (False)."""
    with transaction.atomic():
        deleted, _ = CallKaroCampaign.objects.filter(pk=campaign.pk, status=Status.DRAFT).delete()
        if deleted and campaign.audience_file:
            _delete_upload_on_commit(campaign, campaign.audience_file.name)
    return bool(deleted)


def _delete_upload_on_commit(campaign: CallKaroCampaign, name: str) -> None:
    storage = campaign.audience_file.storage
    transaction.on_commit(lambda: storage.delete(name))


# --- Launch --------------------------------------------------------------------------------------


def _remote_campaign_create(*, name: str, agent: CallKaroAgent) -> str:
    """Create the campaign at Call Karo (v1: one agent per campaign) and return its ``batch_id``."""
    from telephony.registry import get_provider

    return get_provider("callkaro").create_campaign(name, agent.agent_id)


def campaign_launch(
    *,
    user: AbstractBaseUser,
    campaign: CallKaroCampaign,
    audience: CampaignAudience | None = None,
    now: dt.datetime | None = None,
) -> CallKaroCampaign:
    """Launch a draft: create it at Call Karo (keeping ``batch_id``), flip it to scheduled or running,
    and write one call log per eligible lead.

    The flip is a conditional update from DRAFT, so a double click launches once. Rows stream from the
    audience into PostgreSQL's ``COPY`` (``bulk_create`` by chunks elsewhere: ``rows.rows_write``), so a
    campaign of a million leads takes constant memory. Raises ProviderUnavailable/Rejected from Call Karo
    before anything is written.
    """
    now = now or timezone.now()
    if campaign.status != Status.DRAFT:
        raise CampaignError(f"The campaign is {campaign.get_status_display().lower()}, not a draft")
    s = CampaignSettings.from_campaign(campaign)
    s.validate()
    if not callkaro_selectors.agents_usable_by(user).filter(pk=s.agent.pk).exists():
        raise CampaignError("Unknown or unavailable agent")
    audience = audience or CampaignAudience.for_campaign(campaign, user)
    batch_id = _remote_campaign_create(name=s.name, agent=s.agent)
    start_at = s.start_at or now
    upload = campaign.audience_file.name if campaign.audience_file else ""
    description = {
        **campaign.audience,
        **audience.description(),
        "scope": SCOPE_ALL if user.has_perm("crm.view_all_leads") else SCOPE_OWN,
    }
    with transaction.atomic():
        flipped = CallKaroCampaign.objects.filter(pk=campaign.pk, status=Status.DRAFT).update(
            batch_id=batch_id,
            status=Status.SCHEDULED if start_at > now else Status.RUNNING,
            start_at=start_at,
            started_at=None if start_at > now else now,
            audience=description,
            audience_file="",
            updated_at=now,
        )
        if not flipped:
            raise CampaignError("The campaign has been launched already")
        campaign.refresh_from_db()
        preview = CampaignPreview()
        chunk_size = settings.CAMPAIGN_BULK_CHUNK
        options = campaign_call_options(campaign)
        members = _eligible(audience.members(create=True), preview, chunk_size)
        rows_write(
            CallKaroCallLog,
            (campaign_call_row(campaign, m, start_at, options=options) for m in members),
            chunk_size=chunk_size,
        )
        campaign.total_leads = preview.eligible
        campaign.save(update_fields=["total_leads"])
        if upload:
            _delete_upload_on_commit(campaign, upload)
    return campaign


# --- One lead inside a campaign ------------------------------------------------------------------


def campaign_call_schedule(
    *, user: AbstractBaseUser, campaign: CallKaroCampaign, lead: Lead, scheduled_at: dt.datetime | None = None
) -> tuple[CallKaroCallLog, bool]:
    """Add one lead to a campaign, or (re)schedule its pending call. Returns (call log, created)."""
    if campaign.status not in ACTIVE_CAMPAIGN_STATUSES:
        raise CampaignError(f"The campaign is {campaign.get_status_display().lower()}")
    when = scheduled_at or timezone.now()
    if lead.do_not_call or is_do_not_call(lead.phone):
        raise CampaignError("The lead is on the do-not-call list")
    with transaction.atomic():
        pending = campaign.calls.select_for_update().filter(lead=lead, status=CallStatus.SCHEDULED).first()
        if pending is not None:
            pending.scheduled_at = when
            pending.save(update_fields=["scheduled_at", "updated_at"])
            return pending, False
        if campaign.calls.filter(lead=lead, status__in=[CallStatus.QUEUED, *LIVE_STATUSES]).exists():
            raise CampaignError("The lead's call is already being dialled")
        row = campaign_call_row(
            campaign, AudienceMember(lead_id=lead.pk, phone=str(lead.phone), assigned_to_id=lead.assigned_to_id), when
        )
        row.save()
        CallKaroCampaign.objects.filter(pk=campaign.pk).update(
            total_leads=campaign.calls.values("lead").distinct().count()
        )
    return row, True
