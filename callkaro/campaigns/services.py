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
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from crm.dnc import dnc_numbers_among, is_do_not_call
from crm.models import Lead
from crm.selectors import lead_queryset_for, team_member_for
from telephony import eligibility
from telephony.eligibility import CAMPAIGN, eligibility_many, number_refusal
from telephony.status import LIVE_STATUSES, CallStatus

from .. import selectors as callkaro_selectors
from ..models import CallKaroAgent, CallKaroCallLog, CallKaroCampaign
from .audience import AudienceMember, CampaignAudience
from .calls import (
    ACTIVE_CAMPAIGN_STATUSES,
    MEMBER_COLUMNS,
    SCOPE_ALL,
    SCOPE_OWN,
    CampaignError,
    Status,
    campaign_call_row,
    member_values,
)
from .inputs import CampaignSettings
from .rows import rows_write
from .selectors import active_campaign_calls


@dataclass
class CampaignPreview:
    count: int = 0  # rows in the audience
    eligible: int = 0
    invalid_numbers: list[tuple[int | None, str]] = field(default_factory=list)
    duplicates: int = 0
    do_not_call: int = 0
    in_other_campaigns: int = 0
    estimated_calls: int = 0  # eligible leads × (1 + retries): the worst case
    refused: dict[str, int] = field(default_factory=dict)  # eligibility reason code -> leads left out
    calling_minutes: int = 0  # dialling time of the first tries at the chosen pace
    calling_days: int = 0  # calling days that takes inside the chosen hours

    @property
    def refused_reasons(self) -> list[tuple[str, int]]:
        """(the reason in words, how many) for the preview page."""
        labels = {code: REASON_LABELS.get(code, code) for code in self.refused}
        return sorted(((labels[c], n) for c, n in self.refused.items()), key=lambda row: -row[1])

    invalid_beyond: int = 0  # invalid rows not kept in ``invalid_numbers`` (a stored preview keeps 100)

    @property
    def invalid_count(self) -> int:
        return len(self.invalid_numbers) + self.invalid_beyond


#: Eligibility reasons as the preview names them.
REASON_LABELS = {
    "not_owner": "Not among your leads",
    "no_number": "No valid phone number",
    "closed_stage": "Converted, not interested or dead",
    "country_not_allowed": "Outside the countries AI calls may reach",
    "landline": "Indian landline (AI calls go to mobiles only)",
}


# --- Preview and launch --------------------------------------------------------------------------


def _chunks(items: Iterable[AudienceMember], size: int) -> Iterator[list[AudienceMember]]:
    it = iter(items)
    while chunk := list(islice(it, size)):
        yield chunk


def _leads_in_active_campaigns(lead_ids: list[int]) -> set[int]:
    return set(active_campaign_calls().filter(lead_id__in=lead_ids).values_list("lead_id", flat=True))


def _chunk_checks(chunk: list[AudienceMember]) -> tuple[set[str], dict[int, str], set[int]]:
    """(numbers on the do-not-call list, lead id -> refusal code, leads busy in another campaign).

    The rule's standing part (``decide`` with no ``at``): the moment's reasons (hours, the gap, another
    call) are asked at dial time. A filter audience brought its facts with each row (no query); CSV
    numbers are looked up per chunk (a few queries), and those with no lead yet asked the number rules.
    """
    if all(m.facts is not None for m in chunk):
        ai = eligibility.provider_places_ai_calls("callkaro")
        decide = eligibility.decide
        refused = {m.lead_id: decide(m.facts, purpose=CAMPAIGN, ai=ai, at=None).reason_code for m in chunk}
        return {m.phone for m in chunk if m.listed}, refused, {m.lead_id for m in chunk if m.busy}
    lead_ids = [m.lead_id for m in chunk if m.lead_id]
    answers = eligibility_many(lead_ids, provider="callkaro", purpose=CAMPAIGN, moment=False) if lead_ids else {}
    refused = {pk: a.reason_code for pk, a in answers.items()}
    return dnc_numbers_among([m.phone for m in chunk]), refused, _leads_in_active_campaigns(lead_ids)


def _eligible(
    audience: Iterable[AudienceMember], preview: CampaignPreview, chunk_size: int
) -> Iterator[AudienceMember]:
    """Filter the stream (a few queries per chunk at most), counting what drops out and why."""
    seen_last = ""
    seen_phones: set[str] = set()
    for chunk in _chunks(audience, chunk_size):
        preview.count += len(chunk)
        dnc, refused, busy = _chunk_checks(chunk)
        for m in chunk:
            # Filter audiences arrive sorted by phone (constant memory); CSVs are already de-duplicated.
            if m.phone == seen_last or m.phone in seen_phones:
                preview.duplicates += 1
                continue
            seen_last = m.phone
            if m.line is not None:
                seen_phones.add(m.phone)
            code = refused.get(m.lead_id) if m.lead_id else number_refusal(m.phone, ai=True)
            if m.phone in dnc or code == "do_not_call":
                preview.do_not_call += 1
                continue
            if code:
                preview.refused[code] = preview.refused.get(code, 0) + 1
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
    preview.calling_minutes, preview.calling_days = calling_time_estimate(preview.eligible, campaign_settings)
    return preview


def calling_time_estimate(calls: int, campaign_settings: CampaignSettings) -> tuple[int, int]:
    """(minutes of dialling at the chosen pace, calling days it spans inside the hours): first tries only."""
    pace = max(1, campaign_settings.pace_per_minute or 1)
    minutes = -(-calls // pace)
    start, end = campaign_settings.calling_hours_start, campaign_settings.calling_hours_end
    per_day = max(1, (end.hour * 60 + end.minute) - (start.hour * 60 + start.minute))
    return minutes, (-(-minutes // per_day) if minutes else 0)


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

    Three steps, none holding the database while waiting on HTTP (that blocks every other writer; on
    SQLite, even the provider's own sandbox): the rows are written while the campaign is still a draft,
    so a local failure creates nothing at Call Karo; then Call Karo's campaign is created (on failure
    the rows go); then the draft flips, with its batch id, in a conditional update. A short claim in
    the cache keeps a double click from creating two batches. Rows stream from the audience (each row
    bringing the facts its checks need) into PostgreSQL's ``COPY`` (``bulk_create`` by chunks
    elsewhere: ``rows.rows_write``), so a campaign of a million leads takes constant memory.
    """
    now = now or timezone.now()
    if campaign.status != Status.DRAFT:
        raise CampaignError(f"The campaign is {campaign.get_status_display().lower()}, not a draft")
    s = CampaignSettings.from_campaign(campaign)
    s.validate()
    if not callkaro_selectors.agents_usable_by(user).filter(pk=s.agent.pk).exists():
        raise CampaignError("Unknown or unavailable agent")
    audience = audience or CampaignAudience.for_campaign(campaign, user)
    start_at = s.start_at or now
    description = {
        **campaign.audience,
        **audience.description(),
        "scope": SCOPE_ALL if user.has_perm("crm.view_all_leads") else SCOPE_OWN,
    }
    if not _launch_claim(campaign.pk):
        raise CampaignError("The campaign is being launched already")
    try:
        total = _launch_rows_write(campaign, audience, start_at=start_at)
        try:
            batch_id = _remote_campaign_create(name=s.name, agent=s.agent)
        except Exception:
            CallKaroCallLog.objects.filter(campaign_id=campaign.pk).delete()  # never dialled: still a draft
            raise
        return _launch_flip(campaign, description, batch_id=batch_id, total=total, start_at=start_at, now=now)
    finally:
        _launch_release(campaign.pk)


def _launch_claim(pk: int) -> bool:
    try:
        return bool(cache.add(f"campaign-launch:{pk}", 1, timeout=300))
    except Exception:  # noqa: BLE001 - cache down: the conditional flip still launches once
        return True


def _launch_release(pk: int) -> None:
    try:
        cache.delete(f"campaign-launch:{pk}")
    except Exception:  # noqa: BLE001,S110 - the claim expires by itself
        pass


def _launch_rows_write(campaign: CallKaroCampaign, audience: CampaignAudience, *, start_at: dt.datetime) -> int:
    """Write one call log per eligible lead while the campaign is still a draft (the scheduler dials
    only running campaigns); returns how many. Rows a launch that died midway left behind are replaced."""
    with transaction.atomic():
        locked = CallKaroCampaign.objects.select_for_update().get(pk=campaign.pk)
        if locked.status != Status.DRAFT:
            raise CampaignError("The campaign has been launched already")
        CallKaroCallLog.objects.filter(campaign_id=campaign.pk).delete()
        preview = CampaignPreview()
        chunk_size = settings.CAMPAIGN_BULK_CHUNK
        members = _eligible(audience.members(create=True), preview, chunk_size)
        # One template row for what every call shares; each lead brings only its own columns.
        template = campaign_call_row(campaign, AudienceMember(lead_id=None, phone=""), start_at)
        rows = (member_values(campaign, m) for m in members)
        rows_write(CallKaroCallLog, template, MEMBER_COLUMNS, rows, chunk_size=chunk_size)
    return preview.eligible


def _launch_flip(
    campaign: CallKaroCampaign,
    description: dict[str, Any],
    *,
    batch_id: str,
    total: int,
    start_at: dt.datetime,
    now: dt.datetime,
) -> CallKaroCampaign:
    """Draft to scheduled or running, with Call Karo's batch id: from here the scheduler dials it."""
    upload = campaign.audience_file.name if campaign.audience_file else ""
    with transaction.atomic():
        flipped = CallKaroCampaign.objects.filter(pk=campaign.pk, status=Status.DRAFT).update(
            status=Status.SCHEDULED if start_at > now else Status.RUNNING,
            start_at=start_at,
            started_at=None if start_at > now else now,
            audience=description,
            audience_file="",
            total_leads=total,
            batch_id=batch_id,
            updated_at=now,
        )
        if not flipped:
            raise CampaignError("The campaign has been launched already")
        if upload:
            _delete_upload_on_commit(campaign, upload)
    campaign.refresh_from_db()
    return campaign


# --- One lead inside a campaign ------------------------------------------------------------------


def campaign_owner_may_see(campaign: CallKaroCampaign, lead: Lead) -> bool:
    """A rep's campaign holds only that rep's leads, whoever adds one (a manager may not add another's)."""
    owner = campaign.created_by
    if owner is None:
        return True
    return lead_queryset_for(owner.user).filter(pk=lead.pk).exists()


def campaign_call_schedule(
    *, user: AbstractBaseUser, campaign: CallKaroCampaign, lead: Lead, scheduled_at: dt.datetime | None = None
) -> tuple[CallKaroCallLog, bool]:
    """Add one lead to a campaign, or (re)schedule its pending call. Returns (call log, created)."""
    if campaign.status not in ACTIVE_CAMPAIGN_STATUSES:
        raise CampaignError(f"The campaign is {campaign.get_status_display().lower()}")
    when = scheduled_at or timezone.now()
    if lead.do_not_call or is_do_not_call(lead.phone):
        raise CampaignError("The lead is on the do-not-call list")
    if not campaign_owner_may_see(campaign, lead):
        raise CampaignError("The lead is not one of the campaign owner's leads")
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
