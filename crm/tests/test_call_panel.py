"""The call panel: the rep's leads, the provider switch, placing a call inline, and live call history."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import responses
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from acefone.models import AcefoneCallLog
from callkaro import services as callkaro_services
from callkaro.models import CallKaroCallLog
from crm.models import LeadStage
from crm.tests.factories import LeadFactory
from telephony.breaker import breaker_for
from telephony.selectors import call_history_for_lead

pytestmark = pytest.mark.django_db

BASE = "https://api.callkaro.test"
PANEL = "/call-panel/"


@pytest.fixture(autouse=True)
def _setup(settings):
    settings.CALLKARO_API_KEY = ""
    settings.CALLKARO_DEFAULT_AGENT_ID = ""
    settings.CALLKARO_WEBHOOK_SECRET = ""
    settings.CALLKARO_BASE_URL = BASE
    settings.TELEPHONY_HTTP_BACKOFF = 0
    settings.TELEPHONY_HTTP_RETRIES = 0
    settings.CALL_HISTORY_POLL_SECONDS = 3
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def configured(rep, rep2):
    callkaro_services.config_save(
        api_key="ck-panel-key", default_agent_id="ag-default", time_zone="Asia/Kolkata", is_enabled=True, actor=None
    )
    mine = callkaro_services.agent_create(agent_id="ag-mine", name="Priya Hindi", language="hi")
    callkaro_services.agent_assign(agent=mine, team_members=[rep])
    theirs = callkaro_services.agent_create(agent_id="ag-theirs", name="Arjun English", language="en")
    callkaro_services.agent_assign(agent=theirs, team_members=[rep2])


def history_root(html: str) -> str:
    match = re.search(r'<div class="call-history"[^>]*>', html)
    assert match, html
    return match.group(0)


# --- the lead list ---------------------------------------------------------------------------
def test_a_rep_sees_only_their_leads(rep_client, lead, other_lead):
    body = rep_client.get(PANEL).content.decode()
    assert lead.name in body and other_lead.name not in body


def test_search_stage_filter_and_pagination(rep_client, rep):
    LeadFactory(assigned_to=rep, name="Zubin Findme", stage=LeadStage.INTERESTED)
    for _ in range(25):
        LeadFactory(assigned_to=rep)
    body = rep_client.get(PANEL, {"q": "findme"}).content.decode()
    assert "Zubin Findme" in body and "Lead " not in body.split("panel-leads", 1)[1]
    assert "Zubin Findme" in rep_client.get(PANEL, {"stage": "interested"}).content.decode()
    assert "Zubin Findme" not in rep_client.get(PANEL, {"stage": "new"}).content.decode()
    page1 = rep_client.get(PANEL).content.decode()
    assert "Page 1 of 2" in page1
    assert "Page 2 of 2" in rep_client.get(PANEL, {"page": 2}).content.decode()


def test_htmx_filtering_returns_only_the_list(rep_client, lead):
    resp = rep_client.get(PANEL, {"q": lead.name}, headers={"HX-Request": "true", "HX-Target": "panel-leads"})
    body = resp.content.decode()
    assert lead.name in body and "<html" not in body and 'name="provider"' not in body


def test_lead_preselects_it_and_another_reps_lead_is_404(rep_client, lead, other_lead, configured):
    body = rep_client.get(PANEL, {"lead": lead.pk}).content.decode()
    assert 'id="call-box"' in body and str(lead.phone) in body
    assert rep_client.get(PANEL, {"lead": other_lead.pk}).status_code == 404


# --- the provider switch ------------------------------------------------------------------------
def test_the_provider_switch_swaps_options_through_htmx(rep_client, lead, configured):
    body = rep_client.get(PANEL, {"lead": lead.pk}).content.decode()
    ai = reverse("callkaro:call_options")
    human = reverse("acefone:call_options")
    assert f'hx-get="{ai}?lead={lead.pk}"' in body and f'hx-get="{human}?lead={lead.pk}"' in body
    assert "Call Karo AI" in body and "Acefone (human)" in body
    # AI is the default while it is up.
    assert f'<div id="call-options" hx-get="{ai}?lead={lead.pk}" hx-trigger="load" hx-sync="this:replace">' in body


def test_the_ai_options_offer_only_the_reps_agents_and_the_default(rep_client, lead, configured):
    body = rep_client.get(reverse("callkaro:call_options"), {"lead": lead.pk}).content.decode()
    assert "Priya Hindi" in body and "Arjun English" not in body
    assert 'value="ag-default"' in body  # the default agent, though it has no row
    for name in ("language", "when", "schedule_at", "number_of_retries", "gap_between_retries", "priority"):
        assert f'name="{name}"' in body
    assert f'hx-post="{reverse("callkaro:initiate_call")}"' in body


def test_not_configured_says_so_and_offers_acefone(rep_client, lead):
    body = rep_client.get(reverse("callkaro:call_options"), {"lead": lead.pk}).content.decode()
    assert "not configured" in body
    assert f'hx-get="{reverse("acefone:call_options")}?lead={lead.pk}"' in body
    assert "initiate-callkaro-call" not in body


def test_an_open_breaker_says_so_and_offers_acefone(rep_client, lead, configured):
    breaker_for("callkaro")._open()
    body = rep_client.get(reverse("callkaro:call_options"), {"lead": lead.pk}).content.decode()
    assert "unavailable right now" in body and "Call with Acefone instead" in body
    panel = rep_client.get(PANEL, {"lead": lead.pk}).content.decode()
    assert "(unavailable right now)" in panel
    # Acefone becomes the panel's default provider.
    assert f'<div id="call-options" hx-get="{reverse("acefone:call_options")}?lead={lead.pk}"' in panel


# --- call history --------------------------------------------------------------------------------
def test_history_merges_both_providers_newest_first(lead, rep):
    now = timezone.now()
    ai = CallKaroCallLog.objects.create(
        lead=lead,
        team_member=rep,
        to_number=str(lead.phone),
        status="completed",
        duration_seconds=95,
        transcript="AI: Namaste",
        recording_url="https://rec.example.com/1.mp3",
    )
    human = AcefoneCallLog.objects.create(
        lead=lead, team_member=rep, to_number=str(lead.phone), status="no_answer", agent_number="0602"
    )
    old = CallKaroCallLog.objects.create(lead=lead, to_number=str(lead.phone), status="failed", error_message="x")
    CallKaroCallLog.objects.filter(pk=ai.pk).update(created_at=now - timedelta(minutes=5))
    AcefoneCallLog.objects.filter(pk=human.pk).update(created_at=now - timedelta(minutes=1))
    CallKaroCallLog.objects.filter(pk=old.pk).update(created_at=now - timedelta(days=1))
    items = call_history_for_lead(lead)
    assert [(i.provider, i.call_log_id) for i in items] == [
        ("acefone", human.pk),
        ("callkaro", ai.pk),
        ("callkaro", old.pk),
    ]
    assert items[0].agent == "0602" and items[0].provider_label == "Acefone (human)"
    assert items[1].duration == 95 and items[1].transcript == "AI: Namaste" and items[1].team_member == rep.name
    assert items[2].error == "x"
    assert len(call_history_for_lead(lead, limit=2)) == 2


def test_the_history_fragment_shows_badges_transcript_and_recording(rep_client, lead, rep):
    CallKaroCallLog.objects.create(
        lead=lead,
        team_member=rep,
        to_number=str(lead.phone),
        status="completed",
        duration_seconds=95,
        transcript="AI: Namaste",
        recording_url="https://rec.example.com/1.mp3",
    )
    body = rep_client.get(reverse("crm:call_history", args=[lead.pk])).content.decode()
    assert 'class="badge status-completed"' in body
    assert '<details class="transcript"><summary>Transcript (1 turns)</summary>' in body
    assert "<strong>AI agent:</strong> Namaste" in body
    assert '<audio controls preload="none" src="https://rec.example.com/1.mp3"' in body
    assert "Call Karo AI" in body and "95 s" in body


def test_the_history_polls_while_a_call_is_not_final_and_stops_when_final(rep_client, lead):
    url = reverse("crm:call_history", args=[lead.pk])
    assert "hx-trigger" not in history_root(rep_client.get(url).content.decode())  # no calls: no polling
    log = CallKaroCallLog.objects.create(lead=lead, to_number=str(lead.phone), status="initiated")
    root = history_root(rep_client.get(url).content.decode())
    assert 'hx-trigger="every 3s"' in root and f'hx-get="{url}"' in root
    CallKaroCallLog.objects.filter(pk=log.pk).update(status="completed")
    assert "hx-trigger" not in history_root(rep_client.get(url).content.decode())


def test_a_call_scheduled_far_ahead_does_not_keep_the_history_polling(rep_client, lead):
    url = reverse("crm:call_history", args=[lead.pk])
    CallKaroCallLog.objects.create(
        lead=lead, to_number=str(lead.phone), status="scheduled", scheduled_at=timezone.now() + timedelta(days=1)
    )
    assert "hx-trigger" not in history_root(rep_client.get(url).content.decode())


def test_another_reps_lead_history_is_404(rep_client, other_lead):
    assert rep_client.get(reverse("crm:call_history", args=[other_lead.pk])).status_code == 404


def test_the_lead_detail_page_loads_the_history_fragment(rep_client, lead):
    body = rep_client.get(reverse("crm:lead_detail", args=[lead.pk])).content.decode()
    assert f'hx-get="{reverse("crm:call_history", args=[lead.pk])}" hx-trigger="load"' in body


# --- placing an AI call from the panel ------------------------------------------------------------
@responses.activate
def test_placing_an_ai_call_from_the_panel_shows_the_status_inline_then_history_settles(rep_client, lead, configured):
    responses.post(
        f"{BASE}/call/outbound", json={"status": "done", "message": "Call queued successfully", "call_sid": "s1"}
    )
    panel = rep_client.get(PANEL, {"lead": lead.pk}).content.decode()
    assert 'hx-trigger="call-started from:body"' in panel  # the history reloads when a call starts
    resp = rep_client.post(
        reverse("callkaro:initiate_call"),
        {
            "lead_id": lead.pk,
            "agent_id": "ag-mine",
            "when": "now",
            "schedule_at": "",
            "number_of_retries": "",
            "gap_between_retries": "",
            "priority": "",
            "language": "",
        },
        headers={"HX-Request": "true", "HX-Target": "call-result"},
    )
    assert resp.status_code == 200 and resp["HX-Trigger"] == "call-started"
    assert 'class="badge status-initiated"' in resp.content.decode()
    history_url = reverse("crm:call_history", args=[lead.pk])
    live = rep_client.get(history_url).content.decode()
    assert "every 3s" in history_root(live) and "status-initiated" in live
    # The webhook settles it; the next poll shows the final state and stops polling.
    CallKaroCallLog.objects.filter(provider_call_id="s1").update(status="completed", duration_seconds=42)
    final = rep_client.get(history_url).content.decode()
    assert "status-completed" in final and "hx-trigger" not in history_root(final)


def test_scheduling_from_the_panel_form(rep_client, lead, configured):
    at = (timezone.localtime() + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")
    resp = rep_client.post(
        reverse("callkaro:initiate_call"),
        {"lead_id": lead.pk, "agent_id": "ag-mine", "when": "later", "schedule_at": at},
        headers={"HX-Request": "true"},
    )
    assert "status-scheduled" in resp.content.decode()
    assert CallKaroCallLog.objects.get().scheduled_at is not None
    resp = rep_client.post(reverse("callkaro:initiate_call"), {"lead_id": lead.pk, "when": "later", "schedule_at": ""})
    assert resp.status_code == 400 and resp.json()["field"] == "schedule_at"


def test_paging_keeps_the_selected_lead_open(rep_client, rep):
    from crm.tests.factories import LeadFactory

    leads = LeadFactory.create_batch(30, assigned_to=rep)
    body = rep_client.get(PANEL, {"lead": leads[0].pk}).content.decode()
    assert f"lead={leads[0].pk}&amp;page=2" in body or f"lead={leads[0].pk}&page=2" in body
