"""Retention of the Meta webhook's records (issue 17 §3)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from metaleads.models import MetaLeadDelivery, MetaWebhookRejection
from metaleads.retention import meta_webhook_purge

pytestmark = pytest.mark.django_db
S = MetaLeadDelivery.Status


def _aged(model, row, days: int):
    model.objects.filter(pk=row.pk).update(received_at=timezone.now() - timedelta(days=days))
    return row


def test_old_rejections_go_and_handled_raw_copies_are_emptied(settings):
    settings.WEBHOOK_RETENTION_DAYS = 30
    settings.WEBHOOK_REJECTED_RETENTION_DAYS = 7
    old_rejection = _aged(MetaWebhookRejection, MetaWebhookRejection.objects.create(reason="bad"), 8)
    new_rejection = _aged(MetaWebhookRejection, MetaWebhookRejection.objects.create(reason="bad"), 6)
    raw = {"value": {"leadgen_id": "1"}}
    handled = _aged(MetaLeadDelivery, MetaLeadDelivery.objects.create(leadgen_id="1", status=S.CREATED, raw=raw), 31)
    failing = _aged(MetaLeadDelivery, MetaLeadDelivery.objects.create(leadgen_id="2", status=S.FAILED, raw=raw), 31)
    recent = _aged(MetaLeadDelivery, MetaLeadDelivery.objects.create(leadgen_id="3", status=S.MERGED, raw=raw), 5)
    assert meta_webhook_purge() == {"rejected": 1, "raw_emptied": 1}
    assert list(MetaWebhookRejection.objects.values_list("pk", flat=True)) == [new_rejection.pk]
    assert not MetaWebhookRejection.objects.filter(pk=old_rejection.pk).exists()
    handled.refresh_from_db(), failing.refresh_from_db(), recent.refresh_from_db()
    assert handled.raw == {} and handled.leadgen_id == "1"  # the row stays: it de-duplicates the lead id
    assert failing.raw == raw and recent.raw == raw
