"""Lost applies never starve (issue 17 §6): the catch-up takes pending events first and on their own."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from callkaro.webhooks import parse_payload
from telephony.event_json import event_to_json
from telephony.events import webhook_events_rematch
from telephony.models import ProviderWebhookEvent
from telephony.tests.webhook_samples import CK_SECRET, call_ended, final_receivers_only, make_ck_log

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _settings(settings, monkeypatch):
    settings.CALLKARO_WEBHOOK_SECRET = CK_SECRET
    final_receivers_only(monkeypatch)


def test_one_pending_event_behind_1000_older_unmatched_ones_is_applied(lead):
    old = timezone.now() - timedelta(hours=2)
    ProviderWebhookEvent.objects.bulk_create(
        ProviderWebhookEvent(
            provider="callkaro", is_authenticated=True, outcome="unmatched", dedup_key=f"ck:u{i}", body="{}"
        )
        for i in range(1000)
    )
    ProviderWebhookEvent.objects.update(received_at=old)
    log = make_ck_log(lead)
    event = parse_payload(call_ended(log.pk))[0]
    pending = ProviderWebhookEvent.objects.create(
        provider="callkaro",
        is_authenticated=True,
        body=json.dumps(call_ended(log.pk)),
        event=event_to_json(event),
        dedup_key=event.dedup_key,
        call_log_id=log.pk,
    )
    ProviderWebhookEvent.objects.filter(pk=pending.pk).update(received_at=timezone.now() - timedelta(minutes=10))
    counts = webhook_events_rematch(limit=500)
    assert counts.get("applied") == 1
    pending.refresh_from_db()
    log.refresh_from_db()
    assert pending.outcome == "applied" and log.status == "completed"


def test_a_fresh_pending_event_is_left_to_its_own_task(lead):
    log = make_ck_log(lead)
    ProviderWebhookEvent.objects.create(
        provider="callkaro", is_authenticated=True, body=json.dumps(call_ended(log.pk)), dedup_key="ck:fresh"
    )
    assert webhook_events_rematch() == {}


def test_the_admin_has_a_pending_filter(admin_client_member, lead):
    ProviderWebhookEvent.objects.create(provider="callkaro", is_authenticated=True, outcome="pending", dedup_key="a")
    ProviderWebhookEvent.objects.create(provider="callkaro", is_authenticated=True, outcome="unmatched", dedup_key="b")
    page = admin_client_member.get("/admin/telephony/providerwebhookevent/", {"attention": "pending"})
    assert page.status_code == 200
    assert "Pending (not applied yet)" in page.content.decode()
    assert page.context["cl"].result_count == 1
