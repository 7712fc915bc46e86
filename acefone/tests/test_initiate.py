"""POST /initiate-acefone-call/: the human click-to-call twin, which rings the rep's own number first."""

from __future__ import annotations

import json

import pytest
import responses
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from acefone.models import AcefoneCallLog

pytestmark = pytest.mark.django_db

BASE = "https://api.acefone.test"
TOKEN = "acefone-token-0042"
URL = "/initiate-acefone-call/"


@pytest.fixture(autouse=True)
def _setup(settings):
    settings.ACEFONE_BASE_URL = BASE
    settings.ACEFONE_API_TOKEN = TOKEN
    settings.ACEFONE_CALLER_ID = "918069000001"
    settings.TELEPHONY_HTTP_BACKOFF = 0
    settings.TELEPHONY_HTTP_RETRIES = 0
    cache.clear()
    yield
    cache.clear()


def post_json(client: Client, body: dict, **kwargs):
    return client.post(URL, json.dumps(body), content_type="application/json", **kwargs)


@responses.activate
def test_a_click_to_call_rings_the_reps_number_first(rep_client, rep, lead):
    responses.post(f"{BASE}/v1/click_to_call", json={"success": True, "message": "Originate successfully queued"})
    resp = post_json(rep_client, {"lead_id": lead.pk})
    assert resp.status_code == 200, resp.content
    log = AcefoneCallLog.objects.get()
    assert resp.json() == {
        "ok": True,
        "call_log_id": log.pk,
        "status": "initiated",
        "provider_call_id": None,
        "message": resp.json()["message"],
    }
    sent = json.loads(responses.calls[0].request.body)
    assert sent["agent_number"] == rep.acefone_agent_number
    assert sent["destination_number"] == str(lead.phone).lstrip("+")
    assert str(sent["custom_identifier"]) == str(log.pk)
    assert responses.calls[0].request.headers["Authorization"] == f"Bearer {TOKEN}"


@responses.activate
def test_form_posts_work_too(rep_client, lead):
    responses.post(f"{BASE}/v1/click_to_call", json={"success": True, "message": "ok"})
    assert rep_client.post(URL, {"lead_id": lead.pk}).status_code == 200


@pytest.mark.parametrize("field", ["schedule_at", "agent_id", "number_of_retries", "priority"])
def test_ai_only_options_are_refused_by_name(rep_client, lead, field):
    resp = post_json(rep_client, {"lead_id": lead.pk, field: "2030-01-01T10:00:00" if field == "schedule_at" else 3})
    assert resp.status_code == 400 and resp.json()["field"] == field
    assert not AcefoneCallLog.objects.exists()


def test_bad_input_is_400_naming_the_field(rep_client):
    resp = post_json(rep_client, {"lead_id": "nope"})
    assert resp.status_code == 400 and resp.json()["field"] == "lead_id"


def test_a_rep_cannot_call_another_reps_lead(rep_client, other_lead):
    resp = post_json(rep_client, {"lead_id": other_lead.pk})
    assert resp.status_code == 403
    assert not AcefoneCallLog.objects.exists()


def test_do_not_call_is_409(rep_client, lead):
    lead.do_not_call = True
    lead.save()
    assert post_json(rep_client, {"lead_id": lead.pk}).status_code == 409


@responses.activate
def test_a_second_call_while_the_first_is_live_is_409(rep_client, lead):
    responses.post(f"{BASE}/v1/click_to_call", json={"success": True, "message": "ok"})
    assert post_json(rep_client, {"lead_id": lead.pk}).status_code == 200
    assert post_json(rep_client, {"lead_id": lead.pk}).status_code == 409
    assert AcefoneCallLog.objects.count() == 1


def test_a_rep_without_an_agent_number_gets_503_without_a_fallback(rep_client, rep, lead):
    rep.acefone_agent_number = ""
    rep.save()
    resp = post_json(rep_client, {"lead_id": lead.pk})
    assert resp.status_code == 503 and "fallback" not in resp.json()


def test_a_missing_token_is_503(rep_client, lead, settings):
    settings.ACEFONE_API_TOKEN = ""
    resp = post_json(rep_client, {"lead_id": lead.pk})
    assert resp.status_code == 503 and resp.json()["ok"] is False


@responses.activate
def test_acefone_down_is_503(rep_client, lead):
    responses.post(f"{BASE}/v1/click_to_call", status=502, body="bad gateway")
    resp = post_json(rep_client, {"lead_id": lead.pk})
    assert resp.status_code == 503


def test_rate_limited_with_429(rep_client, settings):
    settings.CALL_START_RATE_LIMIT = 1
    assert post_json(rep_client, {"lead_id": "x"}).status_code == 400
    assert post_json(rep_client, {"lead_id": "x"}).status_code == 429


def test_csrf_is_enforced(rep, lead):
    client = Client(enforce_csrf_checks=True)
    client.force_login(rep.user)
    assert client.post(URL, {"lead_id": lead.pk}).status_code == 403


@responses.activate
def test_htmx_gets_a_fragment(rep_client, lead):
    responses.post(f"{BASE}/v1/click_to_call", json={"success": True, "message": "Originate successfully queued"})
    resp = rep_client.post(URL, {"lead_id": lead.pk}, headers={"HX-Request": "true"})
    assert resp.status_code == 200 and "status-initiated" in resp.content.decode()


def test_the_options_fragment_shows_the_reps_own_number(rep_client, rep, lead):
    body = rep_client.get(reverse("acefone:call_options"), {"lead": lead.pk}).content.decode()
    assert rep.acefone_agent_number in body
    assert f'hx-post="{URL}"' in body
