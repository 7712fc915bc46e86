"""How long raw webhook requests are kept: a flood or a year of traffic must not fill the disk.

A raw event is evidence, not the record: once applied, what it said lives on the call log (status,
times, duration, hang-up reason, transcript, recording link, post-call data), so the raw copy can
go after ``WEBHOOK_RETENTION_DAYS``. Duplicates and stale copies carry nothing new and go at the same
age; rejected requests (unauthenticated) after ``WEBHOOK_REJECTED_RETENTION_DAYS``. Pending,
unmatched and failed events are kept: they still need the re-match or a person (``reprocess_webhooks``).
A setting of 0 keeps those rows for ever.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from .models import ProviderWebhookEvent
from .registry import provider_names

Outcome = ProviderWebhookEvent.Outcome
#: Outcomes whose raw copy is no longer needed once old enough.
DONE_OUTCOMES = (Outcome.APPLIED, Outcome.DUPLICATE, Outcome.STALE)
PURGE_BATCH = 5000


def _delete_in_batches(rows, *, batch: int) -> int:
    """Delete by primary-key batches, so no single statement locks or logs a whole table's worth."""
    deleted = 0
    while True:
        ids = list(rows.order_by().values_list("pk", flat=True)[:batch])
        if not ids:
            return deleted
        deleted += ProviderWebhookEvent.objects.filter(pk__in=ids).delete()[0]


def webhook_events_purge(*, now: datetime | None = None, batch: int = PURGE_BATCH) -> dict[str, int]:
    """Delete raw webhook events past their retention; returns the counts by kind."""
    now = now or timezone.now()
    done_days = getattr(settings, "WEBHOOK_RETENTION_DAYS", 30)
    rejected_days = getattr(settings, "WEBHOOK_REJECTED_RETENTION_DAYS", 7)
    counts = {"done": 0, "rejected": 0}
    for provider in provider_names():  # one provider at a time: the (provider, outcome, received_at) index
        scoped = ProviderWebhookEvent.objects.filter(provider=provider)
        if done_days > 0:
            old = scoped.filter(outcome__in=DONE_OUTCOMES, received_at__lt=now - timedelta(days=done_days))
            counts["done"] += _delete_in_batches(old, batch=batch)
        if rejected_days > 0:
            old = scoped.filter(outcome=Outcome.REJECTED, received_at__lt=now - timedelta(days=rejected_days))
            counts["rejected"] += _delete_in_batches(old, batch=batch)
    return counts
