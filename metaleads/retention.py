"""How long the Meta webhook's records are kept (the same settings as the call webhooks).

Rejected deliveries (bad signature) go after ``WEBHOOK_REJECTED_RETENTION_DAYS``. A delivery row is
also the de-duplication record of its lead id, so it stays; only its raw copy of the change is
emptied after ``WEBHOOK_RETENTION_DAYS`` once the lead was created or merged (the lead holds the data).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from .models import MetaLeadDelivery, MetaWebhookRejection

DONE = (MetaLeadDelivery.Status.CREATED, MetaLeadDelivery.Status.MERGED)


def meta_webhook_purge(*, now: datetime | None = None) -> dict[str, int]:
    """Delete old rejected deliveries and empty old raw copies of handled ones; returns the counts."""
    now = now or timezone.now()
    done_days = getattr(settings, "WEBHOOK_RETENTION_DAYS", 30)
    rejected_days = getattr(settings, "WEBHOOK_REJECTED_RETENTION_DAYS", 7)
    counts = {"rejected": 0, "raw_emptied": 0}
    if rejected_days > 0:
        old = MetaWebhookRejection.objects.filter(received_at__lt=now - timedelta(days=rejected_days))
        counts["rejected"] = old.delete()[0]
    if done_days > 0:
        handled = MetaLeadDelivery.objects.filter(status__in=DONE, received_at__lt=now - timedelta(days=done_days))
        counts["raw_emptied"] = handled.exclude(raw={}).update(raw={})
    return counts
