"""The Acefone sandbox: the documented API over real HTTP, answered + hang-up webhooks, and faults."""

from __future__ import annotations

import json
import threading

import pytest
from django.core.cache import cache
from django.urls import include, path

from acefone.models import AcefoneCallLog
from acefone.provider import AcefoneProvider
from acefone.sandbox import call_events
from telephony.breaker import breaker_for
from telephony.errors import ProviderRejected
from telephony.models import SandboxRequest
from telephony.sandbox import sandbox_faults_set
from telephony.services import call_place
from telephony.status import CallStatus
from tests.fixtures import provider_payload
from tests.webhook_capture import WebhookCapture
from tests.workers import wait_for

TOKEN = "acefone-sandbox-token-1"
SECRET = "acefone-webhook-secret-1"

captured = WebhookCapture()


urlpatterns = [
    path("sandbox/acefone/", include("acefone.sandbox_urls")),
    path("acefone-webhook/", captured.view),
]


@pytest.fixture(autouse=True)
def sandbox_settings(settings):
    settings.ROOT_URLCONF = __name__
    settings.PROVIDER_SANDBOX = True
    settings.ACEFONE_API_TOKEN = TOKEN
    settings.ACEFONE_WEBHOOK_SECRET = SECRET
    settings.ACEFONE_CALLER_ID = "918069000001"
    settings.TELEPHONY_HTTP_BACKOFF = 0
    settings.TELEPHONY_BREAKER_THRESHOLD = 2
    settings.SANDBOX_WEBHOOK_DELAY = 0.05
    settings.SANDBOX_DUPLICATE_RATE = 0
    settings.SANDBOX_OUTCOME_WEIGHTS = {"callkaro": {"connected": 1}, "acefone": {"answered": 1}}
    settings.SANDBOX_FAULTS = {"callkaro": {}, "acefone": {}}
    cache.clear()
    captured.clear()
    yield settings
    wait_for(lambda: not any(isinstance(t, threading.Timer) for t in threading.enumerate()), timeout=10)
    cache.clear()


@pytest.fixture
def live(live_server, sandbox_settings):
    sandbox_settings.SITE_URL = live_server.url
    sandbox_settings.ACEFONE_BASE_URL = f"{live_server.url}/sandbox/acefone"
    return live_server


def post(client, body, *, token=TOKEN):
    return client.post(
        "/sandbox/acefone/v1/click_to_call",
        data=json.dumps(body),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )


@pytest.mark.django_db
def test_click_to_call_contract_and_errors(client):
    body = {"agent_number": "0602000004", "destination_number": "919812345678", "async": "1", "custom_identifier": "5"}
    ok = post(client, body)
    answer = ok.json()
    assert ok.status_code == 200 and answer.pop("ref_id")
    assert answer == {"success": True, "message": "Originate successfully queued"}
    bad = post(client, body, token="nope")
    assert bad.status_code == 401 and bad.json()["success"] is False
    assert post(client, {**body, "destination_number": "+919812345678"}).status_code == 400
    assert post(client, {"destination_number": "919812345678"}).status_code == 400
    rows = list(SandboxRequest.objects.filter(provider="acefone").order_by("id"))
    assert [r.response_status for r in rows] == [200, 401, 400, 400]
    assert rows[0].headers["Authorization"] == "[redacted]"
    records = client.get("/sandbox/acefone/v1/call/records?from_date=x&to_date=y", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert records.status_code == 200 and records.json()["results"][0]["custom_identifier"] == "5"


def test_events_answered_then_hangup(settings):
    body = {"agent_number": "0602000004", "destination_number": "919812345678", "custom_identifier": "9"}
    answered, hangup = call_events(body, "answered")
    assert answered["call_status"] == "answered" and "end_stamp" not in answered
    assert hangup["call_status"] == "answered" and int(hangup["billsec"]) > 0 and hangup["recording_url"]
    assert hangup["custom_identifier"] == "9" and hangup["call_id"] == answered["call_id"]
    assert set(hangup) >= set(provider_payload("acefone_hangup")) - {"answered_agent_number"}
    (missed,) = call_events(body, "missed")
    assert missed["call_status"] == "missed" and missed["billsec"] == "0"


@pytest.mark.django_db(transaction=True)
def test_call_ends_with_answered_and_hangup_posted_back(live, lead, rep):
    outcome = call_place(provider="acefone", lead=lead, team_member=rep)
    assert outcome.ok and outcome.status == CallStatus.INITIATED
    assert wait_for(lambda: len(captured) >= 2, timeout=10)
    answered, hangup = (c["body"] for c in captured)
    assert all(c["query"] == {"token": SECRET} for c in captured)
    assert answered["custom_identifier"] == hangup["custom_identifier"] == str(outcome.call_log.pk)
    assert answered["call_status"] == "answered" and hangup["end_stamp"]
    assert hangup["call_to_number"] == str(lead.phone).lstrip("+")
    assert hangup["answered_agent_number"] == rep.acefone_agent_number


@pytest.mark.django_db(transaction=True)
def test_429_is_unavailable_with_retry_after_and_opens_the_breaker(live, lead, rep):
    sandbox_faults_set("acefone", status=429, retry_after=9)
    for _ in range(2):
        outcome = call_place(provider="acefone", lead=lead, team_member=rep)
        assert outcome.status == CallStatus.FAILED and "unavailable" in outcome.message
        assert outcome.fallback is None  # Acefone has no fallback of its own
    assert breaker_for("acefone").is_open()
    assert SandboxRequest.objects.filter(provider="acefone", response_status=429).count() == 6  # 2 x (1 + 2 retries)


@pytest.mark.django_db(transaction=True)
def test_read_timeout_is_unknown_with_exactly_one_request(live, lead, rep, sandbox_settings):
    sandbox_settings.TELEPHONY_READ_TIMEOUT = 0.5
    sandbox_faults_set("acefone", timeout=True, timeout_seconds=1.2)
    outcome = call_place(provider="acefone", lead=lead, team_member=rep)
    assert outcome.status == CallStatus.UNKNOWN
    assert wait_for(lambda: len(captured) >= 2, timeout=10)
    assert SandboxRequest.objects.filter(provider="acefone").count() == 1
    assert AcefoneCallLog.objects.get().status in {CallStatus.UNKNOWN, CallStatus.COMPLETED}


@pytest.mark.django_db(transaction=True)
def test_bad_token_is_rejected_with_the_message(live, lead, rep, sandbox_settings):
    from acefone.client import AcefoneClient

    with AcefoneClient(api_token="wrong-token", base_url=sandbox_settings.ACEFONE_BASE_URL) as wrong:
        with pytest.raises(ProviderRejected) as exc:
            wrong.click_to_call(agent_number="0602000004", destination_number="+919812345678")
    assert exc.value.status_code == 401 and "invalid or missing token" in exc.value.message
    assert AcefoneProvider().call_records("2026-11-20 00:00:00", "2026-11-21 00:00:00") == []
