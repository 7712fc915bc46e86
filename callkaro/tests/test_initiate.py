"""POST /initiate-callkaro-call/: every answer the endpoint can give, with HTTP mocked at the boundary."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import responses
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from callkaro import services
from callkaro.models import CallKaroCallLog
from telephony.breaker import breaker_for
from telephony.status import CallStatus

pytestmark = pytest.mark.django_db

BASE = "https://api.callkaro.test"
KEY = "ck-test-key-0001"
URL = "/initiate-callkaro-call/"


@pytest.fixture(autouse=True)
def _setup(settings, rep, rep2):
    settings.CALLKARO_API_KEY = ""
    settings.CALLKARO_DEFAULT_AGENT_ID = ""
    settings.CALLKARO_WEBHOOK_SECRET = ""
    settings.CALLKARO_BASE_URL = BASE
    settings.TELEPHONY_HTTP_BACKOFF = 0
    settings.TELEPHONY_HTTP_RETRIES = 0
    cache.clear()
    services.config_save(
        api_key=KEY, default_agent_id="ag-default", time_zone="Asia/Kolkata", is_enabled=True, actor=None
    )
    mine = services.agent_create(agent_id="ag-mine", name="Mine", language="hi")
    services.agent_assign(agent=mine, team_members=[rep])
    theirs = services.agent_create(agent_id="ag-theirs", name="Theirs", language="en")
    services.agent_assign(agent=theirs, team_members=[rep2])
    yield
    cache.clear()


def accepted(call_sid: str = "sid-123") -> None:
    responses.post(
        f"{BASE}/call/outbound", json={"status": "done", "message": "Call queued successfully", "call_sid": call_sid}
    )


def post_json(client: Client, body: dict, **kwargs):
    return client.post(URL, json.dumps(body), content_type="application/json", **kwargs)


@responses.activate
def test_an_immediate_call_is_placed_and_answered_200(rep_client, lead, rep):
    accepted()
    resp = post_json(rep_client, {"lead_id": lead.pk, "agent_id": "ag-mine", "number_of_retries": 2, "priority": 5})
    assert resp.status_code == 200, resp.content
    body = resp.json()
    log = CallKaroCallLog.objects.get()
    assert body == {
        "ok": True,
        "call_log_id": log.pk,
        "status": "initiated",
        "provider_call_id": "sid-123",
        "message": body["message"],
    }
    sent = json.loads(responses.calls[0].request.body)
    assert sent["agent_id"] == "ag-mine" and sent["to_number"] == str(lead.phone)
    assert sent["language"] == "hi"  # the agent's language when none is chosen
    assert (sent["number_of_retries"], sent["priority"]) == (2, 5)
    assert sent["metadata"]["call_log_id"] == log.pk
    assert responses.calls[0].request.headers["X-API-KEY"] == KEY
    assert (log.team_member, log.agent.agent_id, log.number_of_retries, log.priority) == (rep, "ag-mine", 2, 5)


@responses.activate
def test_form_posts_work_too_and_the_default_agent_is_used_when_none_is_given(rep_client, lead):
    accepted()
    resp = rep_client.post(URL, {"lead_id": lead.pk, "gap_between_retries": "5,10", "language": "ta"})
    assert resp.status_code == 200, resp.content
    sent = json.loads(responses.calls[0].request.body)
    assert sent["agent_id"] == "ag-default" and sent["gap_between_retries"] == [5, 10] and sent["language"] == "ta"


def test_a_scheduled_call_is_stored_and_answered_202_without_dialling(rep_client, lead):
    at = timezone.now() + timedelta(hours=3)
    resp = post_json(rep_client, {"lead_id": lead.pk, "agent_id": "ag-mine", "schedule_at": at.isoformat()})
    assert resp.status_code == 202, resp.content
    assert resp.json()["status"] == "scheduled" and resp.json()["ok"] is True
    log = CallKaroCallLog.objects.get()
    assert abs((log.scheduled_at - at).total_seconds()) < 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "lead_id"),
        ({"lead_id": "abc"}, "lead_id"),
        ({"number_of_retries": 11}, "number_of_retries"),
        ({"priority": 101}, "priority"),
        ({"priority": -101}, "priority"),
        ({"language": "fr"}, "language"),
        ({"gap_between_retries": "soon"}, "gap_between_retries"),
        ({"gap_between_retries": [5, "x"]}, "gap_between_retries"),
        ({"schedule_at": "tomorrow-ish"}, "schedule_at"),
        ({"schedule_at": "2020-01-01T10:00:00"}, "schedule_at"),
    ],
)
def test_bad_input_is_400_naming_the_field(rep_client, lead, body, field):
    payload = {"lead_id": lead.pk, **body} if "lead_id" not in body and body else body
    resp = post_json(rep_client, payload)
    assert resp.status_code == 400, resp.content
    assert resp.json()["ok"] is False and resp.json()["field"] == field
    assert field in resp.json()["message"]
    assert not CallKaroCallLog.objects.exists()


def test_bad_json_is_400(rep_client):
    resp = rep_client.post(URL, "{not json", content_type="application/json")
    assert resp.status_code == 400 and resp.json()["field"] == "body"


def test_no_agent_and_no_default_is_400_on_agent_id(rep_client, lead):
    services.config_save(default_agent_id="", time_zone="Asia/Kolkata", is_enabled=True, actor=None)
    resp = post_json(rep_client, {"lead_id": lead.pk})
    assert resp.status_code == 400 and resp.json()["field"] == "agent_id"


def test_a_rep_cannot_call_another_reps_lead(rep_client, other_lead):
    resp = post_json(rep_client, {"lead_id": other_lead.pk, "agent_id": "ag-mine"})
    assert resp.status_code == 403 and resp.json()["field"] == "lead_id"
    assert post_json(rep_client, {"lead_id": 999999}).status_code == 403  # existence is not confirmed
    assert not CallKaroCallLog.objects.exists()


@pytest.mark.parametrize("agent_id", ["ag-theirs", "ag-unknown"])
def test_a_rep_cannot_use_an_agent_not_assigned_to_them(rep_client, lead, agent_id):
    resp = post_json(rep_client, {"lead_id": lead.pk, "agent_id": agent_id})
    assert resp.status_code == 403 and resp.json()["field"] == "agent_id"
    assert not CallKaroCallLog.objects.exists()


def test_a_disabled_agent_cannot_be_used(rep_client, lead):
    from callkaro.models import CallKaroAgent

    services.agent_set_active(agent=CallKaroAgent.objects.get(agent_id="ag-mine"), is_active=False)
    assert post_json(rep_client, {"lead_id": lead.pk, "agent_id": "ag-mine"}).status_code == 403


@responses.activate
def test_a_manager_may_call_any_lead_with_any_agent(manager_client, other_lead):
    accepted()
    assert post_json(manager_client, {"lead_id": other_lead.pk, "agent_id": "ag-theirs"}).status_code == 200


def test_a_do_not_call_lead_is_409(rep_client, lead):
    lead.do_not_call = True
    lead.save()
    resp = post_json(rep_client, {"lead_id": lead.pk, "agent_id": "ag-mine"})
    assert resp.status_code == 409 and resp.json()["ok"] is False
    assert not CallKaroCallLog.objects.exists()


def test_a_call_already_in_flight_is_409(rep_client, lead):
    CallKaroCallLog.objects.create(lead=lead, to_number=str(lead.phone), status=CallStatus.RINGING)
    resp = post_json(rep_client, {"lead_id": lead.pk, "agent_id": "ag-mine"})
    assert resp.status_code == 409
    assert resp.json()["code"] == "in_flight"
    assert CallKaroCallLog.objects.count() == 1


def test_the_rate_limit_is_per_user_and_answers_429(rep_client, rep2_client, lead, settings):
    settings.CALL_START_RATE_LIMIT = 3
    for _ in range(3):
        assert post_json(rep_client, {"lead_id": "x"}).status_code == 400
    resp = post_json(rep_client, {"lead_id": lead.pk})
    assert resp.status_code == 429 and int(resp["Retry-After"]) > 0
    assert resp.json()["ok"] is False
    assert post_json(rep2_client, {"lead_id": "x"}).status_code == 400  # another user is not limited


@responses.activate
def test_provider_down_is_503_with_the_acefone_fallback(rep_client, lead):
    responses.post(f"{BASE}/call/outbound", status=500, json={"status": "error", "message": "boom"})
    resp = post_json(rep_client, {"lead_id": lead.pk, "agent_id": "ag-mine"})
    assert resp.status_code == 503
    body = resp.json()
    assert body["ok"] is False and body["fallback"] == "acefone" and body["message"]
    assert CallKaroCallLog.objects.get().status == "failed"


def test_an_open_breaker_is_503_with_the_fallback_and_nothing_is_sent(rep_client, lead):
    breaker_for("callkaro")._open()
    with responses.RequestsMock() as mocked:  # any request would fail the test
        resp = post_json(rep_client, {"lead_id": lead.pk, "agent_id": "ag-mine"})
        assert not mocked.calls
    assert resp.status_code == 503 and resp.json()["fallback"] == "acefone"


def test_not_configured_is_503_with_the_fallback(rep_client, lead):
    services.config_save(
        clear_api_key=True, default_agent_id="ag-default", time_zone="Asia/Kolkata", is_enabled=True, actor=None
    )
    resp = post_json(rep_client, {"lead_id": lead.pk, "agent_id": "ag-mine"})
    assert resp.status_code == 503 and resp.json()["fallback"] == "acefone"
    assert not CallKaroCallLog.objects.exists()


@responses.activate
def test_a_provider_refusal_is_422_with_its_message(rep_client, lead):
    responses.post(f"{BASE}/call/outbound", status=404, json={"status": "error", "message": "Agent does not exist"})
    resp = post_json(rep_client, {"lead_id": lead.pk, "agent_id": "ag-mine"})
    assert resp.status_code == 422
    assert "Agent does not exist" in resp.json()["message"]


def test_csrf_is_enforced(rep, lead):
    client = Client(enforce_csrf_checks=True)
    client.force_login(rep.user)
    assert post_json(client, {"lead_id": lead.pk}).status_code == 403
    assert client.post(URL, {"lead_id": lead.pk}).status_code == 403
    assert not CallKaroCallLog.objects.exists()


def test_get_is_not_allowed(rep_client):
    assert rep_client.get(URL).status_code == 405


@responses.activate
def test_htmx_gets_the_call_panel_fragment_with_the_status(rep_client, lead):
    accepted()
    resp = rep_client.post(URL, {"lead_id": lead.pk, "agent_id": "ag-mine"}, headers={"HX-Request": "true"})
    assert resp.status_code == 200
    body = resp.content.decode()
    assert "status-initiated" in body and "<html" not in body
    assert resp["HX-Trigger"] == "call-started"


@responses.activate
def test_htmx_fallback_fragment_offers_acefone_in_one_click(rep_client, lead):
    responses.post(f"{BASE}/call/outbound", status=503, json={"status": "error", "message": "down"})
    resp = rep_client.post(URL, {"lead_id": lead.pk, "agent_id": "ag-mine"}, headers={"HX-Request": "true"})
    assert resp.status_code == 200 and resp["X-Call-Status"] == "503"
    body = resp.content.decode()
    assert "Call with Acefone instead" in body
    assert f'hx-post="{reverse("acefone:initiate_call")}"' in body
    assert f'"lead_id": "{lead.pk}"' in body


@responses.activate
def test_no_answer_in_time_is_504_and_the_call_is_marked_unknown_not_redialled(rep_client, lead):
    import requests

    responses.post(f"{BASE}/call/outbound", body=requests.ReadTimeout("read timed out"))
    resp = post_json(rep_client, {"lead_id": lead.pk, "agent_id": "ag-mine"})
    assert resp.status_code == 504
    assert resp.json()["status"] == "unknown" and "fallback" not in resp.json()
    assert len(responses.calls) == 1


def test_a_disabled_default_agent_cannot_be_used(rep_client, lead):
    default = services.agent_create(agent_id="ag-default", name="Default")
    services.agent_set_active(agent=default, is_active=False)
    resp = post_json(rep_client, {"lead_id": lead.pk})
    assert resp.status_code == 403 and resp.json()["field"] == "agent_id"
