"""Both providers end to end over real HTTP: our client -> sandbox -> webhook -> the app's receiver."""

from __future__ import annotations

import threading

import pytest
from django.core.cache import cache
from django.urls import include, path

from acefone.models import AcefoneCallLog
from callkaro.models import CallKaroCallLog
from telephony.models import ProviderWebhookEvent, SandboxRequest
from telephony.services import call_place
from telephony.status import CallStatus
from tests.workers import wait_for

urlpatterns = [
    path("sandbox/callkaro/", include("callkaro.sandbox_urls")),
    path("sandbox/acefone/", include("acefone.sandbox_urls")),
    path("", include("callkaro.urls")),
    path("", include("acefone.urls")),
]


@pytest.fixture
def live(live_server, settings):
    settings.ROOT_URLCONF = __name__
    settings.PROVIDER_SANDBOX = True
    settings.SITE_URL = live_server.url
    settings.CALLKARO_BASE_URL = f"{live_server.url}/sandbox/callkaro"
    settings.ACEFONE_BASE_URL = f"{live_server.url}/sandbox/acefone"
    settings.CALLKARO_API_KEY = "e2e-callkaro-key"
    settings.CALLKARO_DEFAULT_AGENT_ID = "e2e-agent"
    settings.SANDBOX_CALLKARO_AGENTS = ["e2e-agent"]  # the fake account has this agent
    settings.CALLKARO_WEBHOOK_SECRET = "e2e-callkaro-secret"
    settings.ACEFONE_API_TOKEN = "e2e-acefone-token"
    settings.ACEFONE_WEBHOOK_SECRET = "e2e-acefone-secret"
    settings.SANDBOX_WEBHOOK_DELAY = 0.05
    settings.SANDBOX_DUPLICATE_RATE = 1  # every event twice: the receiver must de-duplicate
    settings.SANDBOX_OUTCOME_WEIGHTS = {"callkaro": {"connected": 1}, "acefone": {"answered": 1}}
    settings.SANDBOX_FAULTS = {"callkaro": {}, "acefone": {}}
    cache.clear()
    yield live_server
    wait_for(lambda: not any(isinstance(t, threading.Timer) for t in threading.enumerate()), timeout=10)
    cache.clear()


@pytest.mark.django_db(transaction=True)
def test_callkaro_call_is_settled_by_the_sandbox_webhook(live, lead, rep):
    outcome = call_place(provider="callkaro", lead=lead, team_member=rep)
    assert outcome.status == CallStatus.INITIATED
    assert wait_for(lambda: ProviderWebhookEvent.objects.filter(provider="callkaro").count() >= 2, timeout=15)
    assert wait_for(
        lambda: CallKaroCallLog.objects.get(pk=outcome.call_log.pk).status == CallStatus.COMPLETED, timeout=15
    )
    events = ProviderWebhookEvent.objects.filter(provider="callkaro")
    assert all(e.is_authenticated for e in events)
    assert {e.call_log_id for e in events} == {outcome.call_log.pk}
    assert SandboxRequest.objects.filter(provider="callkaro").count() == 1


@pytest.mark.django_db(transaction=True)
def test_acefone_call_is_settled_by_the_sandbox_webhooks(live, lead, rep):
    outcome = call_place(provider="acefone", lead=lead, team_member=rep)
    assert outcome.status == CallStatus.INITIATED
    assert wait_for(lambda: ProviderWebhookEvent.objects.filter(provider="acefone").count() >= 2, timeout=15)
    assert wait_for(
        lambda: AcefoneCallLog.objects.get(pk=outcome.call_log.pk).status == CallStatus.COMPLETED, timeout=15
    )
    assert SandboxRequest.objects.filter(provider="acefone").count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_sandbox_that_disagrees_is_handled_end_to_end(live, lead, rep, settings):
    """Call Karo retries on its own, adds non-final events and reports a call nobody asked for."""
    from telephony.sandbox import sandbox_faults_set

    settings.SANDBOX_DUPLICATE_RATE = 0
    settings.SANDBOX_RETRY_MINUTE_SECONDS = 0.05
    sandbox_faults_set("callkaro", later_tries=1, outcome="no_answer", extra_events=True, unsolicited_report=True)
    outcome = call_place(provider="callkaro", lead=lead, team_member=rep)
    log_id = outcome.call_log.pk
    # call_started, try 0, message_sent, template_sent, the stranger's report, then try 1
    assert wait_for(lambda: ProviderWebhookEvent.objects.filter(provider="callkaro").count() >= 6, timeout=15)
    assert wait_for(lambda: len(CallKaroCallLog.objects.get(pk=log_id).tries) == 2, timeout=15)
    log = CallKaroCallLog.objects.get(pk=log_id)
    assert (log.status, log.try_count) == (CallStatus.COMPLETED, 1)
    assert [t["status"] for t in log.tries] == [CallStatus.NO_ANSWER, CallStatus.COMPLETED]
    assert lead.name in log.transcript  # the agent greeted the lead by the lead_name we sent
    outcomes = dict(ProviderWebhookEvent.objects.values_list("event__raw_status", "outcome"))
    assert outcomes["call_started"] == outcomes["message_sent"] == outcomes["template_sent"] == "stale"
    assert ProviderWebhookEvent.objects.filter(outcome="unmatched").count() == 1
