"""CallKaroProvider: credentials in force, request rebuilding, delegation to the webhook parser."""

from __future__ import annotations

import json
import sys
import types

import pytest
import responses

from callkaro.models import CallKaroAgent, CallKaroCallLog, CallKaroCampaign, CallKaroConfig
from callkaro.provider import CallKaroProvider
from crm import crypto
from telephony.base import CallEvent, PlaceCallRequest
from telephony.errors import ProviderConfigError
from telephony.registry import get_provider

BASE = "https://ck.test"


@pytest.fixture(autouse=True)
def _settings(settings):
    settings.CALLKARO_BASE_URL = BASE
    settings.CALLKARO_API_KEY = "env-key-0001"
    settings.CALLKARO_DEFAULT_AGENT_ID = "env-agent"
    settings.TELEPHONY_HTTP_BACKOFF = 0


def test_registry_and_class_attributes():
    provider = get_provider("callkaro")
    assert isinstance(provider, CallKaroProvider)
    assert (provider.name, provider.label, provider.call_log_model) == (
        "callkaro",
        "Call Karo AI",
        "callkaro.CallKaroCallLog",
    )
    assert (provider.short_label, provider.kind_label, provider.fallback_provider) == ("Call Karo AI", "AI", "acefone")


@pytest.mark.django_db
@responses.activate
def test_a_saved_key_wins_over_the_environment():
    CallKaroConfig.objects.create(api_key_encrypted=crypto.encrypt("saved-key-9999"), default_agent_id="saved-agent")
    responses.post(f"{BASE}/call/outbound", json={"status": "done", "call_sid": "s"})
    result = CallKaroProvider().place_call(PlaceCallRequest(call_log_id=3, lead_id=4, to_number="+919812345678"))
    assert result.provider_call_id == "s"
    request = responses.calls[0].request
    assert request.headers["X-API-KEY"] == "saved-key-9999"
    assert json.loads(request.body) == {
        "to_number": "+919812345678",
        "agent_id": "saved-agent",
        "metadata": {"call_log_id": 3, "lead_id": 4},
    }


@pytest.mark.django_db
def test_missing_key_is_a_config_error(settings):
    settings.CALLKARO_API_KEY = ""
    with pytest.raises(ProviderConfigError):
        CallKaroProvider().client()
    with pytest.raises(ProviderConfigError):
        CallKaroProvider().place_call(PlaceCallRequest(call_log_id=1, lead_id=1, to_number="+919812345678"))


@pytest.mark.django_db
def test_disabled_is_a_config_error():
    CallKaroConfig.objects.create(is_enabled=False)
    with pytest.raises(ProviderConfigError):
        CallKaroProvider().client()


@pytest.mark.django_db
def test_request_for_rebuilds_the_stored_call(lead):
    agent = CallKaroAgent.objects.create(agent_id="agent-3", name="Ravi")
    campaign = CallKaroCampaign.objects.create(name="C", agent=agent, batch_id="batch-1")
    log = CallKaroCallLog.objects.create(
        lead=lead,
        to_number="+919812345678",
        agent=agent,
        campaign=campaign,
        language="ta",
        number_of_retries=1,
        gap_between_retries=[15],
        priority=3,
        min_trigger_time="09:00",
        max_trigger_time="19:00",
        metadata_sent={"call_log_id": 1, "lead_id": lead.pk},
    )
    request = CallKaroProvider().request_for(log)
    assert request.call_log_id == log.pk and request.to_number == "+919812345678"
    options = request.options
    assert (options.agent_id, options.batch_id, options.language) == ("agent-3", "batch-1", "ta")
    assert (options.number_of_retries, options.gap_between_retries, options.priority) == (1, [15], 3)
    assert (options.min_trigger_time, options.max_trigger_time) == ("09:00", "19:00")


@pytest.mark.django_db
def test_request_for_falls_back_to_the_default_agent(lead):
    log = CallKaroCallLog.objects.create(lead=lead, to_number="+919812345678", metadata_sent={"call_log_id": 1})
    assert CallKaroProvider().request_for(log).options.agent_id == "env-agent"


def test_parse_webhook_delegates_to_the_webhooks_module(monkeypatch):
    seen = []
    fake = types.ModuleType("callkaro.webhooks")

    def parse_payload(payload):
        seen.append(payload)
        return [CallEvent(provider="callkaro", status="completed")]

    fake.parse_payload = parse_payload
    monkeypatch.setitem(sys.modules, "callkaro.webhooks", fake)
    import callkaro

    monkeypatch.setattr(callkaro, "webhooks", fake, raising=False)
    events = CallKaroProvider().parse_webhook({"call_id": "x", "status": "completed"})
    assert events[0].status == "completed"
    assert seen == [{"call_id": "x", "status": "completed"}]


@pytest.mark.django_db
@responses.activate
def test_cancel_call_deletes_the_schedule(lead):
    responses.post(f"{BASE}/call/delete-schedule-call", json={"status": "success", "message": "deleted"})
    log = CallKaroCallLog.objects.create(lead=lead, to_number="+919812345678")
    CallKaroProvider().cancel_call(call_log=log)
    assert responses.calls[0].request.url == f"{BASE}/call/delete-schedule-call?agent_id=env-agent"
    assert json.loads(responses.calls[0].request.body) == {"to_number": "+919812345678"}
