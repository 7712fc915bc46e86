"""Retention of raw webhook events (issue 17 §3): old rejected, duplicate and applied copies are purged."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from callkaro.models import CallKaroCallLog
from telephony import tasks
from telephony.models import ProviderWebhookEvent
from telephony.retention import webhook_events_purge
from telephony.tests.webhook_samples import CK_SECRET, call_ended, final_receivers_only, make_ck_log, post_json

pytestmark = pytest.mark.django_db
Out = ProviderWebhookEvent.Outcome


def _event(outcome: str, age_days: float, provider: str = "callkaro") -> ProviderWebhookEvent:
    row = ProviderWebhookEvent.objects.create(provider=provider, outcome=outcome, body="{}")
    ProviderWebhookEvent.objects.filter(pk=row.pk).update(received_at=timezone.now() - timedelta(days=age_days))
    return row


def test_old_done_and_rejected_events_go_and_the_rest_stays(settings):
    settings.WEBHOOK_RETENTION_DAYS = 30
    settings.WEBHOOK_REJECTED_RETENTION_DAYS = 7
    gone = [_event(o, 31) for o in (Out.APPLIED, Out.DUPLICATE, Out.STALE)] + [_event(Out.REJECTED, 8, "acefone")]
    kept = [
        _event(Out.APPLIED, 29),
        _event(Out.REJECTED, 6),
        *(_event(o, 400) for o in (Out.PENDING, Out.UNMATCHED, Out.FAILED)),  # still need the re-match or a person
    ]
    assert webhook_events_purge(batch=2) == {"done": 3, "rejected": 1}
    remaining = set(ProviderWebhookEvent.objects.values_list("pk", flat=True))
    assert remaining == {r.pk for r in kept} and not remaining & {r.pk for r in gone}


def test_an_applied_event_s_data_stays_with_the_call(settings, lead):
    """What the raw copy said lives on the call log, which the purge never touches."""
    settings.CALLKARO_WEBHOOK_SECRET = CK_SECRET
    log = make_ck_log(lead)
    with pytest.MonkeyPatch.context() as mp:
        final_receivers_only(mp)
        assert post_json(Client(), "/callkaro-webhook/", call_ended(log.pk), token=CK_SECRET).status_code == 200
    ProviderWebhookEvent.objects.update(received_at=timezone.now() - timedelta(days=60))
    assert webhook_events_purge()["done"] == 1
    log = CallKaroCallLog.objects.get(pk=log.pk)
    assert log.status == "completed" and log.duration_seconds == 143 and log.transcript and log.recording_url


def test_zero_keeps_for_ever_and_the_beat_task_purges(settings):
    settings.WEBHOOK_RETENTION_DAYS = 0
    settings.WEBHOOK_REJECTED_RETENTION_DAYS = 1
    _event(Out.APPLIED, 1000)
    _event(Out.REJECTED, 2)
    assert tasks.webhook_events_purge.delay().get() == {"done": 0, "rejected": 1}
    assert "telephony.webhook_events_purge" in {e["task"] for e in settings.CELERY_BEAT_SCHEDULE.values()}
