"""Large campaign uploads (megabytes, tens of thousands of rows) are read by a worker, not the request.

The draft keeps the job's state in ``audience["parse"]`` (``state``, ``done``, ``total``, a ``token``
naming the upload it belongs to); the preview page polls it (htmx) for its progress bar, and shows the
figures the worker stored in ``audience["preview"]`` when it is done.
"""

from __future__ import annotations

import dataclasses
import uuid
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction

from ..models import CallKaroCampaign
from .audience import CampaignAudience, audience_csv_parse
from .inputs import CampaignSettings
from .services import CampaignPreview, audience_preview

KEPT_INVALID = 100
RUNNING = ("queued", "reading", "checking")


def upload_is_large(data: bytes) -> bool:
    return len(data) > settings.CAMPAIGN_CSV_ASYNC_BYTES or data.count(b"\n") > settings.CAMPAIGN_CSV_ASYNC_ROWS


def parse_state(campaign: CallKaroCampaign) -> dict[str, Any]:
    return dict(campaign.audience.get("parse") or {})


def _parse_write(campaign_id: int, token: str, **state: Any) -> bool:
    """Update the job's state, unless a newer upload replaced this one (its token changed)."""
    with transaction.atomic():
        row = CallKaroCampaign.objects.select_for_update().filter(pk=campaign_id).first()
        if row is None or (row.audience.get("parse") or {}).get("token") != token:
            return False
        preview = state.pop("preview", None)
        row.audience = {**row.audience, "parse": {**row.audience["parse"], **state}}
        if preview is not None:
            row.audience["preview"] = preview
        row.save(update_fields=["audience", "updated_at"])
    return True


def audience_parse_start(*, campaign: CallKaroCampaign, data: bytes) -> None:
    """Mark the draft's upload as being read and enqueue the worker after commit."""
    from ..tasks import campaign_audience_parse_task

    token = uuid.uuid4().hex
    total = max(data.count(b"\n") - 1, 0)
    campaign.audience = {
        **{k: v for k, v in campaign.audience.items() if k != "preview"},
        "parse": {"state": "queued", "done": 0, "total": total, "token": token},
    }
    campaign.save(update_fields=["audience", "updated_at"])
    transaction.on_commit(lambda: campaign_audience_parse_task.delay(campaign.pk, token))


def audience_parse_if_large(*, campaign: CallKaroCampaign, data: bytes | None) -> bool:
    """After a draft is saved: a large CSV (new, or kept from before) is read again by the worker."""
    if campaign.audience.get("kind") != "csv" or not campaign.audience_file:
        return False
    if data is None:
        with campaign.audience_file.open("rb") as upload:
            data = upload.read()
    if not upload_is_large(data):
        return False
    audience_parse_start(campaign=campaign, data=data)
    return True


def audience_parse_run(*, campaign_id: int, token: str) -> str:
    """The worker's job: read the upload with progress, check who may be called, store the figures."""
    campaign = CallKaroCampaign.objects.select_related("agent", "created_by__user").filter(pk=campaign_id).first()
    if campaign is None or parse_state(campaign).get("token") != token:
        return "stale"
    try:
        with campaign.audience_file.open("rb") as upload:
            data = upload.read()
        _parse_write(campaign_id, token, state="reading")
        parsed = audience_csv_parse(data, progress=lambda done: _parse_write(campaign_id, token, done=done))
        _parse_write(campaign_id, token, state="checking", done=len(parsed.rows) + len(parsed.errors))
        user = campaign.created_by.user if campaign.created_by else get_user_model()(is_superuser=True)
        audience = CampaignAudience(user=user, csv=parsed)
        preview = audience_preview(audience=audience, campaign_settings=CampaignSettings.from_campaign(campaign))
    except (OSError, ValueError) as exc:
        _parse_write(campaign_id, token, state="failed", error=str(exc)[:300])
        return "failed"
    stored = dataclasses.asdict(preview)
    stored["invalid_beyond"] = max(0, len(preview.invalid_numbers) - KEPT_INVALID)
    stored["invalid_numbers"] = [list(row) for row in preview.invalid_numbers[:KEPT_INVALID]]
    _parse_write(campaign_id, token, state="done", preview=stored)
    return "done"


def stored_preview(campaign: CallKaroCampaign) -> CampaignPreview | None:
    """The worker's figures for this upload, once done."""
    data = campaign.audience.get("preview")
    if parse_state(campaign).get("state") != "done" or not isinstance(data, dict):
        return None
    fields = {f.name for f in dataclasses.fields(CampaignPreview)}
    preview = CampaignPreview(**{k: v for k, v in data.items() if k in fields})
    preview.invalid_numbers = [tuple(row) for row in preview.invalid_numbers]
    return preview
