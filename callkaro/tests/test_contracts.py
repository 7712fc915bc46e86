"""Contract tests (``responses``) for what the product sends Call Karo on the day it meets the real
service: the metadata an agent needs, ``carry_over``, and v1/v2 campaign creation."""

from __future__ import annotations

import json
import logging

import pytest
import responses
from django.urls import reverse

from callkaro.config import get_effective_config
from callkaro.metadata import MAX_KEYS, MAX_VALUE_CHARS, call_metadata_build
from callkaro.models import CallKaroAgent, CallKaroConfig
from callkaro.provider import CallKaroProvider
from crm.models import LeadNote
from telephony.base import CallOptions
from telephony.services import call_place

CK = "https://api.callkaro.contract.test"
KEY = "sk-callkaro-contract-1234"
DEFAULT_KEYS = {"lead_name", "lead_city", "lead_source", "rep_first_name", "call_log_id", "lead_id"}


@pytest.fixture(autouse=True)
def _provider(settings):
    settings.CALLKARO_BASE_URL = CK
    settings.CALLKARO_API_KEY = KEY
    settings.CALLKARO_DEFAULT_AGENT_ID = "default-agent"
    settings.CALLKARO_CAMPAIGN_API_VERSION = "v1"
    settings.TELEPHONY_HTTP_BACKOFF = 0


def _ok(call_sid="s"):
    responses.post(
        f"{CK}/call/outbound", json={"status": "done", "message": "Call queued successfully", "call_sid": call_sid}
    )


def _sent() -> dict:
    return json.loads(responses.calls[-1].request.body)


def _lead(lead, **fields):
    for name, value in fields.items():
        setattr(lead, name, value)
    lead.save()
    return lead


@responses.activate
@pytest.mark.django_db
def test_the_default_metadata_names_the_lead_for_the_agent(lead, rep):
    _ok()
    _lead(lead, name="Priya Sharma", city="Pune", form_answers={"Budget?": "80L", "Move in": ["June", "July"]})
    LeadNote.objects.create(lead=lead, body="Private: spouse is the decision maker")
    log = call_place(provider="callkaro", lead=lead, team_member=rep).call_log
    metadata = _sent()["metadata"]
    assert metadata == {
        "lead_name": "Priya Sharma",
        "lead_city": "Pune",
        "lead_source": lead.get_source_display(),
        "form_budget": "80L",
        "form_move_in": "June, July",
        "rep_first_name": rep.name.split()[0],
        "call_log_id": log.pk,
        "lead_id": lead.pk,
    }
    assert "spouse" not in json.dumps(_sent())  # notes are never sent


@responses.activate
@pytest.mark.django_db
def test_a_selected_field_is_sent_even_when_empty_and_an_unselected_one_never(lead, rep):
    _ok()
    CallKaroConfig.objects.create(metadata_fields=["name", "city", "email"])
    _lead(lead, city="", email="")
    call_place(provider="callkaro", lead=lead, team_member=rep)
    metadata = _sent()["metadata"]
    assert metadata["lead_city"] == "" and metadata["lead_email"] == ""
    assert set(metadata) == {"lead_name", "lead_city", "lead_email", "call_log_id", "lead_id"}


@responses.activate
@pytest.mark.django_db
def test_no_lead_fields_still_sends_our_ids(lead, rep):
    _ok()
    CallKaroConfig.objects.create(metadata_fields=[])
    log = call_place(provider="callkaro", lead=lead, team_member=rep).call_log
    assert _sent()["metadata"] == {"call_log_id": log.pk, "lead_id": lead.pk}


@pytest.mark.django_db
def test_metadata_is_bounded_with_a_log_line(lead, caplog):
    answers = {f"question {i}": "x" * 5000 for i in range(80)}
    _lead(lead, form_answers=answers)
    with caplog.at_level(logging.WARNING, logger="callkaro.metadata"):
        metadata = call_metadata_build(lead=lead, call_log_id=9, fields=["name", "form_answers"], extra={"lead_id": 1})
    assert len(metadata) == MAX_KEYS
    assert (metadata["call_log_id"], metadata["lead_id"]) == (9, lead.pk)  # ours, never overwritten or dropped
    assert all(len(v) <= MAX_VALUE_CHARS for v in metadata.values() if isinstance(v, str))
    assert "truncated" in caplog.text and "dropped" in caplog.text


@responses.activate
@pytest.mark.django_db
def test_carry_over_is_sent_and_stored(lead, rep, settings):
    settings.CALL_MIN_GAP_HOURS = 0  # two AI calls to one lead in a row, on purpose
    _ok()
    log = call_place(
        provider="callkaro",
        lead=lead,
        team_member=rep,
        options=CallOptions(carry_over=True, min_trigger_time="09:30", max_trigger_time="20:00"),
    ).call_log
    assert log.carry_over is True
    body = _sent()
    assert (body["carry_over"], body["min_trigger_time"], body["max_trigger_time"]) == (True, "09:30", "20:00")
    type(log).objects.filter(pk=log.pk).update(status="completed")
    _ok("s2")
    call_place(provider="callkaro", lead=lead, team_member=rep, options=CallOptions(carry_over=False))
    assert _sent()["carry_over"] is False


@responses.activate
@pytest.mark.django_db
def test_carry_over_is_absent_when_not_asked(lead, rep):
    _ok()
    call_place(provider="callkaro", lead=lead, team_member=rep)
    assert "carry_over" not in _sent()


def _campaign_ok(path):
    responses.post(f"{CK}{path}", json={"batch_id": "b-1", "message": "Campaign created", "status": "success"})


@responses.activate
@pytest.mark.django_db
def test_v1_campaign_creation_names_its_agent():
    _campaign_ok("/call/campaign")
    assert CallKaroProvider().create_campaign("Diwali", "agent-1") == "b-1"
    (sent,) = responses.calls
    assert sent.request.url == f"{CK}/call/campaign" and sent.request.headers["X-API-KEY"] == KEY
    assert json.loads(sent.request.body) == {"name": "Diwali", "agent_id": "agent-1"}


@responses.activate
@pytest.mark.django_db
def test_v2_campaign_creation_sends_the_name_only(settings):
    settings.CALLKARO_CAMPAIGN_API_VERSION = "v2"
    _campaign_ok("/v2/call/campaign")
    assert CallKaroProvider().create_campaign("Diwali", "agent-1") == "b-1"
    (sent,) = responses.calls
    assert sent.request.url == f"{CK}/v2/call/campaign"
    assert json.loads(sent.request.body) == {"name": "Diwali"}


@responses.activate
@pytest.mark.django_db
def test_the_config_page_chooses_the_campaign_api_over_the_environment():
    CallKaroConfig.objects.create(campaign_api_version="v2")
    _campaign_ok("/v2/call/campaign")
    CallKaroProvider().create_campaign("Holi", "agent-1")
    assert json.loads(responses.calls[0].request.body) == {"name": "Holi"}


@pytest.mark.django_db
def test_the_config_page_saves_metadata_fields_and_campaign_version(admin_client_member):
    url = reverse("callkaro:save_config")
    base = {"time_zone": "Asia/Kolkata", "is_enabled": "on"}
    page = admin_client_member.get(reverse("callkaro:config")).content.decode()
    assert 'id="metadata-fields"' in page and 'name="metadata_fields_shown"' in page
    assert page.count('name="metadata_fields"') == 9 and page.count(" checked") >= 5  # the defaults ticked
    admin_client_member.post(
        url, {**base, "metadata_fields": ["name", "stage"], "metadata_fields_shown": "1", "campaign_api_version": "v2"}
    )
    config = get_effective_config()
    assert (config.metadata_fields, config.campaign_api_version) == (["name", "stage"], "v2")
    admin_client_member.post(url, {**base, "metadata_fields_shown": "1"})  # every box unticked: no lead fields
    assert get_effective_config().metadata_fields == []
    admin_client_member.post(url, base)  # a form without the checkboxes keeps the saved choice
    assert get_effective_config().metadata_fields == []
    bad = admin_client_member.post(url, {**base, "metadata_fields": ["notes"], "metadata_fields_shown": "1"})
    assert bad.status_code == 400


# --- defect 6: the default agent set by the environment ---------------------------------------------
@pytest.mark.django_db
@pytest.mark.parametrize("client_fixture", ["rep_client", "manager_client", "admin_client_member"])
def test_the_default_agent_without_a_row_is_listed_for_everyone(request, client_fixture):
    CallKaroAgent.objects.create(agent_id="agent-other", name="Other")
    rows = request.getfixturevalue(client_fixture).get(reverse("callkaro:agents_api")).json()
    default = [row for row in rows if row["agent_id"] == "default-agent"]
    assert default == [{"agent_id": "default-agent", "name": "Default agent", "language": "", "is_default": True}]


@pytest.mark.django_db
def test_a_default_agent_picked_on_the_config_page_is_listed(rep_client, settings):
    settings.CALLKARO_DEFAULT_AGENT_ID = ""
    CallKaroConfig.objects.create(default_agent_id="picked-agent")
    rows = rep_client.get(reverse("callkaro:agents_api")).json()
    assert {"agent_id": "picked-agent", "name": "Default agent", "language": "", "is_default": True} in rows


@pytest.mark.django_db
def test_a_default_agent_row_is_listed_once_and_a_disabled_one_not_at_all(rep_client):
    agent = CallKaroAgent.objects.create(agent_id="default-agent", name="Asha", language="hi")
    rows = rep_client.get(reverse("callkaro:agents_api")).json()
    assert rows == [{"agent_id": "default-agent", "name": "Asha", "language": "hi", "is_default": True}]
    agent.is_active = False
    agent.save()
    assert rep_client.get(reverse("callkaro:agents_api")).json() == []
