"""The webhook secret in URLs (issue 17 §5): the header is the documented way, ``?token=`` a fallback
that the configuration page warns about."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from telephony.models import ProviderWebhookEvent
from telephony.selectors import QUERY_TOKEN_MARK, webhook_query_token_last_seen
from telephony.tests.webhook_samples import (
    AF_SECRET,
    CK_SECRET,
    acefone_hangup,
    call_ended,
    final_receivers_only,
    post_json,
)

pytestmark = pytest.mark.django_db
WARNING = "sends the webhook secret in the URL"


@pytest.fixture(autouse=True)
def _secrets(settings, monkeypatch):
    settings.CALLKARO_WEBHOOK_SECRET = CK_SECRET
    settings.ACEFONE_WEBHOOK_SECRET = AF_SECRET
    final_receivers_only(monkeypatch)


def _config(client) -> str:
    return client.get(reverse("callkaro:config")).content.decode()


def test_a_webhook_with_the_secret_in_the_header_raises_no_warning(client, admin_client_member):
    assert post_json(client, "/callkaro-webhook/", call_ended(None), token=CK_SECRET).status_code == 200
    assert QUERY_TOKEN_MARK not in ProviderWebhookEvent.objects.get().headers
    assert WARNING not in _config(admin_client_member)


def test_a_webhook_with_token_in_the_url_is_accepted_and_warned_about(client, admin_client_member):
    response = post_json(client, "/acefone-webhook/", acefone_hangup(None), token=AF_SECRET, header=False)
    assert response.status_code == 200
    row = ProviderWebhookEvent.objects.get()
    assert row.headers[QUERY_TOKEN_MARK] == "query" and AF_SECRET not in str(row.headers)
    page = _config(admin_client_member)
    assert WARNING in page
    assert "X-Webhook-Token" in page and AF_SECRET not in page


def test_the_warning_goes_after_a_week_and_rejected_requests_never_raise_it(client, admin_client_member):
    post_json(client, "/callkaro-webhook/", call_ended(None), token=CK_SECRET, header=False)
    ProviderWebhookEvent.objects.update(received_at=timezone.now() - timedelta(days=8))
    post_json(client, "/callkaro-webhook/", call_ended(None), token="wrong", header=False)
    assert webhook_query_token_last_seen("callkaro") is None
    assert WARNING not in _config(admin_client_member)


def test_the_header_wins_when_both_are_sent(client):
    """A stale ``?token=`` left in a URL does not lock out a sender that now sends the header."""
    url = "/callkaro-webhook/?token=an-old-retired-secret"
    response = post_json(client, url, call_ended(None), token=CK_SECRET)
    assert response.status_code == 200
    assert QUERY_TOKEN_MARK not in ProviderWebhookEvent.objects.get().headers
