"""The Call Karo sandbox can disagree with the product, as the real service does (issue 13, defect 9)."""

from __future__ import annotations

import io
import json
import random

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.urls import include, path

from callkaro import sandbox
from callkaro.models import CallKaroAgent
from callkaro.sandbox_reports import DEFAULT_POST_CALL, SHORT_CALL_SECONDS, call_reports
from telephony.sandbox import sandbox_faults

KEY = "sandbox-key-disagree-1"
NUMBER = "+919812345678"
pytestmark = pytest.mark.django_db

urlpatterns = [path("sandbox/callkaro/", include("callkaro.sandbox_urls"))]


@pytest.fixture(autouse=True)
def _sandbox(settings, monkeypatch):
    settings.ROOT_URLCONF = __name__
    settings.PROVIDER_SANDBOX = True
    settings.CALLKARO_API_KEY = KEY
    settings.CALLKARO_DEFAULT_AGENT_ID = "crm-default"
    settings.SANDBOX_CALLKARO_AGENTS = ["acct-agent-1", "acct-agent-2"]
    settings.SANDBOX_WEBHOOK_DELAY = 2.0
    settings.SANDBOX_RETRY_MINUTE_SECONDS = 1.0
    settings.SANDBOX_DUPLICATE_RATE = 0
    settings.SANDBOX_OUTCOME_WEIGHTS = {"callkaro": {"no_answer": 1}, "acefone": {"answered": 1}}
    settings.SANDBOX_FAULTS = {"callkaro": {}, "acefone": {}}
    cache.clear()
    scheduled: list[tuple[float, list[dict]]] = []
    monkeypatch.setattr(
        sandbox, "schedule_webhooks", lambda url, payloads, delay=None: scheduled.append((delay, payloads))
    )
    yield scheduled
    cache.clear()


def _outbound(client, body):
    return client.post(
        "/sandbox/callkaro/call/outbound", data=json.dumps(body), content_type="application/json", HTTP_X_API_KEY=KEY
    )


def _events(scheduled) -> list[dict]:
    return [payload for _delay, payloads in scheduled for payload in payloads]


@pytest.mark.django_db
def test_its_own_agent_list_not_the_crm_table(client, _sandbox):
    CallKaroAgent.objects.create(agent_id="crm-only-agent", name="Only in the CRM")
    unknown = _outbound(client, {"to_number": NUMBER, "agent_id": "crm-only-agent"})
    assert (unknown.status_code, unknown.json()) == (404, {"status": "error", "message": "Agent does not exist"})
    default = _outbound(client, {"to_number": NUMBER, "agent_id": "crm-default"})  # the CRM's default: not theirs
    assert default.status_code == 404
    assert _outbound(client, {"to_number": NUMBER, "agent_id": "acct-agent-1"}).status_code == 200
    assert len(_sandbox) == 1  # only the accepted call is reported back


@pytest.mark.django_db
def test_documented_error_bodies(client):
    missing = _outbound(client, {"agent_id": "acct-agent-1"})
    assert missing.status_code == 400 and missing.json()["status"] == "error" and missing.json()["message"]
    bad_key = client.post(
        "/sandbox/callkaro/call/outbound", data="{}", content_type="application/json", HTTP_X_API_KEY="nope"
    )
    assert bad_key.status_code == 403 and bad_key.json()["status"] == "error"


@pytest.mark.django_db
def test_unknown_agent_switch_refuses_every_agent(client):
    call_command("sandbox_faults", "callkaro", "--unknown-agent", stdout=io.StringIO())
    response = _outbound(client, {"to_number": NUMBER, "agent_id": "acct-agent-1"})
    assert (response.status_code, response.json()["message"]) == (404, "Agent does not exist")
    campaign = client.post(
        "/sandbox/callkaro/call/campaign",
        data=json.dumps({"name": "x", "agent_id": "acct-agent-1"}),
        content_type="application/json",
        HTTP_X_API_KEY=KEY,
    )
    assert campaign.status_code == 404


@pytest.mark.django_db
def test_number_of_retries_brings_later_try_reports_spaced_by_the_gaps(client, _sandbox):
    body = {"to_number": NUMBER, "agent_id": "acct-agent-1", "number_of_retries": 2, "gap_between_retries": [5, 30]}
    assert _outbound(client, body).status_code == 200
    delays = [delay for delay, _payloads in _sandbox]
    reports = [p for p in _events(_sandbox) if p["event"] == "call_ended"]
    assert [r["data"]["try_count"] for r in reports] == [0, 1, 2]
    assert delays == [2.0, 2.0 + 5, 2.0 + 5 + 30]  # a minute of gap lasts SANDBOX_RETRY_MINUTE_SECONDS
    assert [r["data"]["next_call_scheduled"] for r in reports] == [True, True, False]
    assert len({r["data"]["callSid"] for r in reports}) == 3  # each try is a call we never received the sid of
    assert all(r["data"]["call_metadata"] == reports[0]["data"]["call_metadata"] for r in reports)


@pytest.mark.django_db
def test_no_retries_asked_means_one_report(client, _sandbox):
    _outbound(client, {"to_number": NUMBER, "agent_id": "acct-agent-1"})
    (report,) = _events(_sandbox)
    assert report["data"]["try_count"] == 0 and report["data"]["next_call_scheduled"] is False


def test_retries_stop_at_the_try_that_connects(settings):
    settings.SANDBOX_OUTCOME_WEIGHTS = {"callkaro": {"connected": 1}}
    body = {"to_number": NUMBER, "agent_id": "a", "number_of_retries": 5}
    schedule = call_reports(body, "sid", {"outcome": "no_answer"}, random.Random(1))
    reports = [p for _d, ps in schedule for p in ps]
    assert [r["data"]["try_count"] for r in reports] == [0, 1]
    assert reports[1]["data"]["call_duration"] > 0


def test_later_tries_switch_forces_reports_nobody_asked_for(settings):
    body = {"to_number": NUMBER, "agent_id": "a", "metadata": {"call_log_id": 4}}
    schedule = call_reports(body, "sid", {"later_tries": 2, "outcome": "no_answer"}, random.Random(2))
    assert [p["data"]["try_count"] for _d, ps in schedule for p in ps] == [0, 1, 2]


def test_unsolicited_report_is_for_a_call_never_asked_about():
    body = {"to_number": NUMBER, "agent_id": "a", "metadata": {"call_log_id": 4, "lead_id": 1}}
    (_delay, payloads), *_ = call_reports(body, "sid", {"unsolicited_report": True}, random.Random(3))
    stranger = payloads[-1]["data"]
    assert stranger["callSid"] != "sid" and stranger["call_metadata"] == {} and stranger["to"] != "919812345678"


def test_extra_events_surround_the_report():
    body = {"to_number": NUMBER, "agent_id": "a", "metadata": {"call_log_id": 4}}
    (_delay, payloads), *_ = call_reports(body, "sid", {"extra_events": True}, random.Random(4))
    assert [p["event"] for p in payloads] == ["call_started", "call_ended", "message_sent", "template_sent"]
    assert payloads[0]["data"]["call_metadata"] == {"call_log_id": 4}


def test_other_agent_and_short_call_switches():
    body = {"to_number": NUMBER, "agent_id": "asked", "metadata": {"lead_name": "Priya"}}
    (_delay, (report,)), *_ = call_reports(body, "sid", {"other_agent": "spoke", "short_call": True}, random.Random(5))
    data = report["data"]
    assert data["agent"] == "spoke" and data["call_duration"] == SHORT_CALL_SECONDS
    assert data["post_call"] == DEFAULT_POST_CALL


def test_the_transcript_greets_the_lead_by_the_name_sent():
    body = {"to_number": NUMBER, "agent_id": "a", "metadata": {"lead_name": "Priya Sharma", "call_log_id": 1}}
    for seed in range(6):
        data = sandbox.call_ended_payload(body, "sid", "connected", random.Random(seed))["data"]
        assert "Priya Sharma" in data["transcription"]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--unknown-agent"], {"unknown_agent": True}),
        (["--later-tries", "3"], {"later_tries": 3}),
        (["--unsolicited-report"], {"unsolicited_report": True}),
        (["--extra-events"], {"extra_events": True}),
        (["--other-agent", "agent-b"], {"other_agent": "agent-b"}),
        (["--outcome", "connected"], {"outcome": "connected"}),
        (["--short-call"], {"short_call": True}),
    ],
)
def test_each_behaviour_has_a_sandbox_faults_switch(args, expected):
    cache.clear()
    call_command("sandbox_faults", "callkaro", *args, stdout=io.StringIO())
    assert sandbox_faults("callkaro") == expected
    call_command("sandbox_faults", "callkaro", "--clear", stdout=io.StringIO())
    assert sandbox_faults("callkaro") == {}
