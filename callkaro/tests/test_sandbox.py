"""The Call Karo sandbox: the documented API over real HTTP, webhooks back to the app, and faults."""

from __future__ import annotations

import json
import socket
import threading

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import include, path

from callkaro.models import CallKaroAgent, CallKaroCallLog
from callkaro.options import CallKaroOptions
from callkaro.sandbox import call_ended_payload
from telephony.base import CallOptions
from telephony.breaker import breaker_for
from telephony.errors import ProviderRejected, ProviderUnavailable
from telephony.models import SandboxRequest
from telephony.sandbox import sandbox_faults, sandbox_faults_clear, sandbox_faults_set
from telephony.services import call_place
from telephony.status import CallStatus
from tests.fixtures import provider_payload
from tests.webhook_capture import WebhookCapture
from tests.workers import wait_for

KEY = "sandbox-key-callkaro-1"
SECRET = "sandbox-webhook-secret-1"

captured = WebhookCapture()


urlpatterns = [
    path("sandbox/callkaro/", include("callkaro.sandbox_urls")),
    path("callkaro-webhook/", captured.view),
]


def sandbox_quiet() -> bool:
    """No sandbox webhook still waiting to be sent."""
    return not any(isinstance(t, threading.Timer) for t in threading.enumerate())


@pytest.fixture(autouse=True)
def sandbox_settings(settings):
    settings.ROOT_URLCONF = __name__
    settings.PROVIDER_SANDBOX = True
    settings.CALLKARO_API_KEY = KEY
    settings.CALLKARO_DEFAULT_AGENT_ID = "default-agent"
    settings.SANDBOX_CALLKARO_AGENTS = ["default-agent", "agent-1"]  # the fake account's own agents
    settings.CALLKARO_WEBHOOK_SECRET = SECRET
    settings.TELEPHONY_HTTP_BACKOFF = 0
    settings.TELEPHONY_BREAKER_THRESHOLD = 2
    settings.SANDBOX_WEBHOOK_DELAY = 0.05
    settings.SANDBOX_DUPLICATE_RATE = 0
    settings.SANDBOX_OUTCOME_WEIGHTS = {"callkaro": {"connected": 1}, "acefone": {"answered": 1}}
    settings.SANDBOX_FAULTS = {"callkaro": {}, "acefone": {}}
    cache.clear()
    captured.clear()
    yield settings
    # let webhooks still in flight land while the live server is up
    wait_for(sandbox_quiet, timeout=10)
    cache.clear()


@pytest.fixture
def live(live_server, sandbox_settings):
    sandbox_settings.SITE_URL = live_server.url
    sandbox_settings.CALLKARO_BASE_URL = f"{live_server.url}/sandbox/callkaro"
    return live_server


def api(client: Client, path_: str, body, *, key: str = KEY, **extra):
    return client.post(
        f"/sandbox/callkaro{path_}", data=json.dumps(body), content_type="application/json", HTTP_X_API_KEY=key, **extra
    )


# --- the documented API (in-process) ----------------------------------------------------------------
@pytest.mark.django_db
def test_outbound_contract_and_errors(client):
    CallKaroAgent.objects.create(agent_id="agent-1", name="Asha")
    ok = api(client, "/call/outbound", {"to_number": "+919812345678", "agent_id": "agent-1"})
    assert ok.status_code == 200
    assert ok.json()["status"] == "done" and ok.json()["call_sid"]
    assert api(client, "/call/outbound", {"to_number": "+919812345678", "agent_id": "default-agent"}).status_code == 200

    bad_key = api(client, "/call/outbound", {"to_number": "+919812345678", "agent_id": "agent-1"}, key="nope")
    assert (bad_key.status_code, bad_key.json()["status"]) == (403, "error")
    missing = api(client, "/call/outbound", {"agent_id": "agent-1"})
    assert missing.status_code == 400 and "to_number" in missing.json()["message"]
    bad_number = api(client, "/call/outbound", {"to_number": "98123", "agent_id": "agent-1"})
    assert bad_number.status_code == 400 and "phone number" in bad_number.json()["message"]
    unknown = api(client, "/call/outbound", {"to_number": "+919812345678", "agent_id": "ghost"})
    assert (unknown.status_code, unknown.json()["message"]) == (404, "Agent does not exist")
    bad_retries = api(
        client, "/call/outbound", {"to_number": "+919812345678", "agent_id": "agent-1", "number_of_retries": 11}
    )
    assert bad_retries.status_code == 400

    rows = list(SandboxRequest.objects.filter(provider="callkaro").order_by("id"))
    assert [r.response_status for r in rows] == [200, 200, 403, 400, 400, 404, 400]
    assert rows[0].headers["X-Api-Key"] == "[redacted]"
    assert KEY not in json.dumps([r.headers for r in rows])
    assert rows[0].body == {"to_number": "+919812345678", "agent_id": "agent-1"}


@pytest.mark.django_db
def test_campaign_and_delete_endpoints(client):
    CallKaroAgent.objects.create(agent_id="agent-1", name="Asha")
    v1 = api(client, "/call/campaign", {"name": "Diwali", "agent_id": "agent-1"})
    assert v1.status_code == 200 and v1.json()["status"] == "success" and v1.json()["batch_id"]
    assert api(client, "/call/campaign", {"name": "Diwali", "agent_id": "ghost"}).status_code == 404
    assert api(client, "/v2/call/campaign", {"name": "Holi"}).json()["batch_id"]
    assert api(client, "/v2/call/campaign", {}).status_code == 400
    deleted = api(client, "/call/delete-schedule-call?agent_id=agent-1", {"to_number": "+919812345678"})
    assert deleted.status_code == 200
    assert api(client, "/call/delete-schedule-call", {"to_number": "+919812345678"}).status_code == 400
    assert client.get("/sandbox/callkaro/call/outbound", HTTP_X_API_KEY=KEY).status_code == 405


@pytest.mark.django_db
def test_call_ended_payload_is_realistic():
    body = {
        "to_number": "+919812345678",
        "agent_id": "a1",
        "batch_id": "b1",
        "metadata": {"call_log_id": 3, "lead_id": 4},
    }
    connected = call_ended_payload(body, "sid", "connected")
    data = connected["data"]
    assert connected["event"] == "call_ended"
    assert data["to"] == "919812345678" and data["agent"] == "a1" and data["batchId"] == "b1"
    assert data["call_metadata"] == {"call_log_id": 3, "lead_id": 4}
    assert data["hangup_reason"] in {"CLIENT_INITIATED", "PARTICIPANT_REMOVED"} and data["call_duration"] > 0
    assert data["transcription"] and data["recordingUrl"] and data["disposition_reason"]
    assert isinstance(data["conversion_status"], bool) and "lead_status" in data["post_call"]
    missed = call_ended_payload(body, "sid", "no_answer")["data"]
    assert missed["hangup_reason"] in {"USER_UNAVAILABLE", "USER_UNRESPONSIVE"} and missed["call_duration"] == 0
    assert call_ended_payload(body, "sid", "voicemail")["data"]["hangup_reason"] == "VOICEMAIL_DETECTED"


@pytest.mark.django_db
def test_call_ended_payload_has_every_documented_field():
    """The sandbox posts the shape of the repository's fixture (minus what only a real agent adds)."""
    body = {"to_number": "+919812345678", "agent_id": "a1", "metadata": {"call_log_id": 3}}
    documented = set(provider_payload("callkaro_call_ended")["data"]) - {"versionId", "functions_called"}
    assert set(call_ended_payload(body, "sid", "connected")["data"]) >= documented


def test_faults_from_settings_and_cache(sandbox_settings):
    sandbox_settings.SANDBOX_FAULTS = {"callkaro": {"latency_ms": 5}}
    assert sandbox_faults("callkaro") == {"latency_ms": 5}
    sandbox_faults_set("callkaro", status=503)
    assert sandbox_faults("callkaro") == {"latency_ms": 5, "status": 503}
    sandbox_faults_clear("callkaro")
    assert sandbox_faults("callkaro") == {"latency_ms": 5}
    with pytest.raises(ValueError):
        sandbox_faults_set("callkaro", explode=True)


# --- end to end over real HTTP ----------------------------------------------------------------------
@pytest.mark.django_db(transaction=True)
def test_call_ends_with_the_webhook_posted_back(live, lead, rep):
    outcome = call_place(provider="callkaro", lead=lead, team_member=rep)
    assert outcome.ok and outcome.status == CallStatus.INITIATED
    log = outcome.call_log
    assert wait_for(lambda: len(captured) >= 1, timeout=10)
    hook = captured[0]
    assert hook["query"] == {"token": SECRET}
    assert hook["body"]["event"] == "call_ended"
    assert hook["body"]["data"]["callSid"] == log.provider_call_id
    metadata = hook["body"]["data"]["call_metadata"]
    assert (metadata["call_log_id"], metadata["lead_id"], metadata["lead_name"]) == (log.pk, lead.pk, lead.name)
    assert SandboxRequest.objects.filter(provider="callkaro", response_status=200).count() == 1


@pytest.mark.django_db(transaction=True)
def test_events_are_sometimes_sent_twice(live, lead, rep, sandbox_settings):
    sandbox_settings.SANDBOX_DUPLICATE_RATE = 1
    call_place(provider="callkaro", lead=lead, team_member=rep)
    assert wait_for(lambda: len(captured) >= 2, timeout=10)
    assert captured[0]["body"] == captured[1]["body"]


@pytest.mark.django_db(transaction=True)
def test_5xx_is_unavailable_and_opens_the_breaker(live, lead, rep):
    sandbox_faults_set("callkaro", status=500)
    for _ in range(2):
        outcome = call_place(provider="callkaro", lead=lead, team_member=rep)
        assert outcome.status == CallStatus.FAILED and outcome.fallback == "acefone"
    assert breaker_for("callkaro").is_open()
    assert SandboxRequest.objects.filter(provider="callkaro").count() == 2
    outcome = call_place(provider="callkaro", lead=lead, team_member=rep)
    assert outcome.fallback == "acefone"
    assert SandboxRequest.objects.filter(provider="callkaro").count() == 2  # the open circuit held it back


@pytest.mark.django_db(transaction=True)
def test_503_from_settings_is_retried_then_unavailable(live, lead, rep, sandbox_settings):
    sandbox_settings.SANDBOX_FAULTS = {"callkaro": {"status": 503}}
    outcome = call_place(provider="callkaro", lead=lead, team_member=rep)
    assert outcome.fallback == "acefone"
    assert SandboxRequest.objects.filter(provider="callkaro", response_status=503).count() == 3  # 1 + 2 retries


@pytest.mark.django_db(transaction=True)
def test_refused_connection_is_unavailable(lead, rep, sandbox_settings):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    sandbox_settings.CALLKARO_BASE_URL = f"http://127.0.0.1:{port}"
    for _ in range(2):
        assert call_place(provider="callkaro", lead=lead, team_member=rep).fallback == "acefone"
    assert breaker_for("callkaro").is_open()


@pytest.mark.django_db(transaction=True)
def test_read_timeout_is_unknown_with_exactly_one_request(live, lead, rep, sandbox_settings):
    sandbox_settings.TELEPHONY_READ_TIMEOUT = 0.5
    sandbox_faults_set("callkaro", timeout=True, timeout_seconds=1.2)
    outcome = call_place(provider="callkaro", lead=lead, team_member=rep)
    assert outcome.status == CallStatus.UNKNOWN and outcome.fallback is None
    # the sandbox finishes its (slow) answer; still one request, never a second dial
    assert wait_for(lambda: SandboxRequest.objects.exclude(response_status=None).exists(), timeout=10)
    assert SandboxRequest.objects.filter(provider="callkaro").count() == 1
    assert CallKaroCallLog.objects.get(pk=outcome.call_log.pk).status == CallStatus.UNKNOWN
    assert not breaker_for("callkaro").is_open()
    # the provider did take it: its webhook settles the call later
    assert wait_for(lambda: len(captured) == 1, timeout=10)
    assert captured[0]["body"]["data"]["call_metadata"]["call_log_id"] == outcome.call_log.pk


@pytest.mark.django_db(transaction=True)
def test_bad_key_and_unknown_agent_are_rejected(live, lead, rep, sandbox_settings):
    from callkaro.client import CallKaroClient
    from callkaro.provider import CallKaroProvider

    with CallKaroClient(api_key="wrong-key-1234", base_url=sandbox_settings.CALLKARO_BASE_URL) as wrong:
        with pytest.raises(ProviderRejected) as exc:
            wrong.outbound_call(to_number="+919812345678", options=CallKaroOptions(agent_id="default-agent"))
        assert (exc.value.status_code, exc.value.message) == (403, "Invalid or missing API key")
        with pytest.raises(ProviderRejected) as exc:
            wrong.check_credentials()
        assert exc.value.status_code == 403

    sandbox_settings.CALLKARO_API_KEY = KEY
    assert CallKaroProvider().check_credentials() is True
    outcome = call_place(provider="callkaro", lead=lead, team_member=rep, options=CallOptions(agent_id="ghost"))
    assert outcome.call_log.error_message == "Agent does not exist"
    assert not captured


@pytest.mark.django_db(transaction=True)
def test_campaign_through_the_sandbox(live, sandbox_settings):
    from callkaro.provider import CallKaroProvider

    CallKaroAgent.objects.create(agent_id="agent-1", name="Asha")
    assert CallKaroProvider().create_campaign("Diwali", "agent-1")  # v1, the default
    sandbox_settings.CALLKARO_CAMPAIGN_API_VERSION = "v2"
    assert CallKaroProvider().create_campaign("Holi", "agent-1")
    with pytest.raises(ProviderUnavailable):
        sandbox_faults_set("callkaro", status=429, retry_after=3)
        CallKaroProvider().create_campaign("x")


@pytest.mark.django_db
def test_latency_and_status_faults_in_process(client, sandbox_settings):
    import time

    sandbox_settings.SANDBOX_FAULTS = {"callkaro": {"latency_ms": 200}}
    started = time.monotonic()
    assert api(client, "/v2/call/campaign", {"name": "slow"}).status_code == 200
    assert time.monotonic() - started >= 0.2
    sandbox_faults_set("callkaro", status=429, retry_after=4)
    limited = api(client, "/v2/call/campaign", {"name": "x"})
    assert (limited.status_code, limited["Retry-After"], limited.json()["status"]) == (429, "4", "error")
    assert SandboxRequest.objects.filter(provider="callkaro").count() == 2  # recorded even when faulted


@pytest.mark.django_db
def test_a_fault_limited_to_one_path_leaves_the_others_alone(client):
    """``sandbox_faults --only-path``: a key revoked for dials only, while campaigns are still created."""
    from telephony.sandbox import sandbox_faults_set

    sandbox_faults_set("callkaro", status=403, only_path="/call/outbound")
    refused = api(client, "/call/outbound", {"to_number": "+919812345678", "agent_id": "agent-1"})
    assert refused.status_code == 403
    created = api(client, "/call/campaign", {"name": "Diwali", "agent_id": "agent-1"})
    assert created.status_code == 200 and created.json()["batch_id"]
