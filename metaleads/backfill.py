"""The backfill: page each form's leads from Graph and apply any the webhook missed.

The watermark (newest lead time seen) moves only after every page was read, so an error part
way (rate limit, 5xx, expired token) never skips a lead: the next run reads the same range again,
and the unique lead id makes a second sight of a lead a no-op.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from crm.logging import redact
from telephony.errors import ProviderConfigError, TelephonyError

from .config import get_effective_config
from .mapping import graph_time
from .models import MetaForm, MetaLeadDelivery
from .services import FETCH_LEASE, delivery_apply, form_name_fill, graph_client, graph_error_record

logger = logging.getLogger("metaleads.backfill")
Status = MetaLeadDelivery.Status

#: Leads a little older than the watermark are asked for again: clocks and Graph's indexing lag.
OVERLAP = timedelta(minutes=5)
#: A form never synced is read back this far: Meta's own redelivery window.
FIRST_SYNC_LOOKBACK = timedelta(hours=36)
MAX_BACKOFF_SECONDS = 3600


@dataclass
class BackfillResult:
    form_id: str
    seen: int = 0
    created: int = 0
    error: str = ""


def _apply_seen(form: MetaForm, data: dict[str, Any]) -> bool:
    """Store and apply a lead from a page; True when it was new to us."""
    leadgen_id = str(data.get("id", ""))[:64]
    if not leadgen_id:
        return False
    try:
        with transaction.atomic():
            delivery = MetaLeadDelivery.objects.create(
                leadgen_id=leadgen_id,
                form_id=form.form_id,
                ad_id=str(data.get("ad_id", "") or "")[:64],
                via=MetaLeadDelivery.Via.BACKFILL,
                status=Status.FETCHING,
                attempts=1,
                next_attempt_at=timezone.now() + FETCH_LEASE,  # a crash below leaves it to the sweep
                raw=data,
            )
    except IntegrityError:
        # Known already. If its own fetch is failing, the data in hand settles it now.
        delivery = MetaLeadDelivery.objects.get(leadgen_id=leadgen_id)
        claimed = MetaLeadDelivery.objects.filter(
            pk=delivery.pk, status__in=[Status.PENDING, Status.FAILED, Status.GAVE_UP]
        ).update(status=Status.FETCHING, next_attempt_at=timezone.now() + FETCH_LEASE)
        if not claimed:
            return False
    delivery_apply(delivery=delivery, data=data, form=form)
    return True


def form_backfill(*, form: MetaForm, now: datetime | None = None) -> BackfillResult:
    """Read every lead of the form since its watermark; move the watermark only on full success."""
    now = now or timezone.now()
    result = BackfillResult(form_id=form.form_id)
    since = form.watermark - OVERLAP if form.watermark else now - FIRST_SYNC_LOOKBACK
    newest = form.watermark
    try:
        with graph_client() as client:
            form_name_fill(form=form, client=client)
            for page in client.form_leads(form.form_id, since=since):
                for data in page:
                    result.seen += 1
                    result.created += _apply_seen(form, data)
                    created = graph_time(data.get("created_time"))
                    if created and (newest is None or created > newest):
                        newest = created
    except (TelephonyError, ProviderConfigError) as exc:
        result.error = redact(getattr(exc, "message", "") or str(exc))[:500]
        graph_error_record(f"Backfill of form {form}: {result.error}", form=form)
        logger.warning("Backfill of form %s failed: %s", form.form_id, result.error)
        return result
    MetaForm.objects.filter(pk=form.pk).update(watermark=newest, last_synced_at=now, last_error="", sync_attempts=0)
    return result


def form_due(form: MetaForm, *, now: datetime, interval: int) -> bool:
    """Due after the interval; after failures, back off (doubling, capped) from the last error."""
    if form.sync_attempts and form.last_error_at:
        wait = min(interval * 2 ** (form.sync_attempts - 1), MAX_BACKOFF_SECONDS)
        return form.last_error_at + timedelta(seconds=max(wait, 30)) <= now
    return form.last_synced_at is None or form.last_synced_at + timedelta(seconds=interval) <= now


def backfill_forms(*, due_only: bool, now: datetime | None = None) -> list[BackfillResult]:
    """Every active form that Meta knows (``due_only``: those whose interval has passed)."""
    now = now or timezone.now()
    interval = get_effective_config().backfill_interval
    forms = MetaForm.objects.filter(backfill=True, is_active=True).exclude(form_id="unknown")
    return [
        form_backfill(form=form, now=now)
        for form in forms
        if not due_only or form_due(form, now=now, interval=interval)
    ]
