"""The sandboxes' webhook task carries the provider's name, never the webhook URL with its secret."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
import responses
from django.urls import include, path

from callkaro.models import CallKaroAgent
from telephony import tasks
from telephony.errors import ProviderConfigError
from telephony.sandbox import sandbox_webhook_url

CK_SECRET = "ck-sandbox-secret-in-clear-9931"
ACE_SECRET = "ace-sandbox-secret-in-clear-7710"
SITE = "http://crm.test"
JSON = "application/json"

urlpatterns = [
    path("sandbox/callkaro/", include("callkaro.sandbox_urls")),
    path("sandbox/acefone/", include("acefone.sandbox_urls")),
]


@pytest.fixture(autouse=True)
def sandbox_on(settings):
    settings.ROOT_URLCONF = __name__
    settings.PROVIDER_SANDBOX = True
    settings.SITE_URL = SITE
    settings.CALLKARO_API_KEY = "ck-key"
    settings.CALLKARO_WEBHOOK_SECRET = CK_SECRET
    settings.ACEFONE_API_TOKEN = "ace-token"
    settings.ACEFONE_WEBHOOK_SECRET = ACE_SECRET
    settings.SANDBOX_DUPLICATE_RATE = 0
    settings.SANDBOX_WEBHOOK_DELIVERY = "celery"  # a real message would be sent: capture it instead
    settings.SANDBOX_CALLKARO_AGENTS = ["agent-1"]  # the sandbox's own agent list


@pytest.fixture
def sent(monkeypatch):
    messages: list[dict] = []
    monkeypatch.setattr(tasks.sandbox_webhook_send_task, "apply_async", lambda **kw: messages.append(kw))
    return messages


@pytest.mark.django_db
def test_the_task_message_holds_no_secret(client, sent):
    CallKaroAgent.objects.create(agent_id="agent-1", name="Asha")
    body = {"to_number": "+919812345678", "agent_id": "agent-1"}
    resp = client.post("/sandbox/callkaro/call/outbound", body, JSON, HTTP_X_API_KEY="ck-key")
    assert resp.status_code == 200
    body = {"agent_number": "0602000001", "destination_number": "919812345678", "async": "1"}
    resp = client.post("/sandbox/acefone/v1/click_to_call", body, JSON, HTTP_AUTHORIZATION="Bearer ace-token")
    assert resp.status_code == 200
    assert [m["args"][0] for m in sent] == ["callkaro", "acefone"]
    wire = json.dumps(sent)
    assert CK_SECRET not in wire and ACE_SECRET not in wire and "token=" not in wire


@pytest.mark.django_db
def test_delivery_off_answers_the_api_and_posts_no_webhook(client, sent, settings, monkeypatch):
    settings.SANDBOX_WEBHOOK_DELIVERY = "off"
    timers = SimpleNamespace(Timer=lambda *a, **k: pytest.fail("a timer was started"))
    monkeypatch.setattr("telephony.sandbox.threading", timers)
    CallKaroAgent.objects.create(agent_id="agent-1", name="Asha")
    body = {"to_number": "+919812345678", "agent_id": "agent-1"}
    resp = client.post("/sandbox/callkaro/call/outbound", body, JSON, HTTP_X_API_KEY="ck-key")
    assert resp.status_code == 200 and resp.json()["call_sid"]
    assert sent == []


@pytest.mark.django_db
@responses.activate
def test_the_worker_builds_the_url_with_the_secret():
    responses.post(f"{SITE}/callkaro-webhook/", status=200)
    responses.post(f"{SITE}/acefone-webhook/", status=200)
    assert tasks.sandbox_webhook_send_task.run("callkaro", [{"event": "call_ended", "data": {}}]) == [200]
    assert tasks.sandbox_webhook_send_task.run("acefone", [{"call_id": "1"}]) == [200]
    urls = [call.request.url for call in responses.calls]
    assert urls == [f"{SITE}/callkaro-webhook/?token={CK_SECRET}", f"{SITE}/acefone-webhook/?token={ACE_SECRET}"]


def test_an_unknown_provider_is_refused():
    with pytest.raises(ProviderConfigError, match="ghost"):
        sandbox_webhook_url("ghost")
