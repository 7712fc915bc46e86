"""Issue 16 item 4 and 5: the small things that cost calls, and the page furniture for keyboards."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.urls import reverse

from acefone.models import AcefoneCallLog
from callkaro.models import CallKaroCallLog
from crm.models import Lead, LeadActivity

pytestmark = pytest.mark.django_db


def test_call_buttons_disable_themselves_while_a_call_starts(rep_client, lead, rep, settings):
    settings.CALLKARO_API_KEY = "ck-key"
    settings.CALLKARO_DEFAULT_AGENT_ID = "ag-default"
    cache.clear()
    rep.acefone_agent_number = "1001"
    rep.save()
    for name in ("acefone", "callkaro"):
        body = rep_client.get(reverse(f"{name}:call_options"), {"lead": lead.pk}).content.decode()
        assert "hx-disabled-elt=\"find button[type='submit']\"" in body and 'hx-sync="this:drop"' in body


def test_the_panel_highlights_the_lead_links_the_phone_and_jumps_to_the_call_box(rep_client, lead):
    body = rep_client.get(reverse("crm:call_panel"), {"lead": lead.pk}).content.decode()
    assert 'class="selected-lead"' in body and f'href="tel:{lead.phone}"' in body
    assert f"lead={lead.pk}#call-box" in body and 'id="call-box"' in body


def test_the_result_line_follows_the_call_to_its_final_state(rep_client, lead, rep):
    log = CallKaroCallLog.objects.create(lead=lead, team_member=rep, to_number=str(lead.phone), status="ringing")
    url = reverse("crm:call_status", args=["callkaro", log.pk])
    live = rep_client.get(url).content.decode()
    assert 'data-final="false"' in live and f'hx-get="{url}"' in live
    CallKaroCallLog.objects.filter(pk=log.pk).update(
        status="completed", duration_seconds=42, hangup_reason="CLIENT_INITIATED"
    )
    final = rep_client.get(url).content.decode()
    assert 'data-final="true"' in final and "hx-get" not in final and "Customer hung up after 42 s" in final


def test_call_status_is_scoped_to_the_reps_leads(rep2_client, lead, rep):
    log = AcefoneCallLog.objects.create(lead=lead, team_member=rep, to_number=str(lead.phone), agent_number="1")
    assert rep2_client.get(reverse("crm:call_status", args=["acefone", log.pk])).status_code == 404
    assert rep2_client.get(reverse("crm:call_status", args=["nope", log.pk])).status_code == 404


def test_activity_lines_show_no_internal_references(rep_client, lead):
    LeadActivity.objects.create(
        lead=lead,
        kind=LeadActivity.Kind.STAGE,
        actor_label="Call Karo webhook",
        new_value="contacted",
        call_ref="callkaro:123",
    )
    body = rep_client.get(reverse("crm:lead_detail", args=[lead.pk])).content.decode()
    assert "callkaro:123" not in body and "after a call" in body


def test_a_long_name_is_refused_with_a_message_not_cut(rep_client):
    form_page = rep_client.get(reverse("crm:lead_create")).content.decode()
    assert "maxlength" not in form_page
    resp = rep_client.post(
        reverse("crm:lead_create"), {"name": "x" * 200, "phone": "+919812345678", "source": "manual", "stage": "new"}
    )
    assert resp.status_code == 200 and "at most 160 characters" in resp.content.decode()
    assert not Lead.objects.filter(name__startswith="xxx").exists()


def test_every_page_has_a_skip_link_to_the_content(rep_client):
    body = rep_client.get(reverse("crm:my_day")).content.decode()
    assert '<a href="#main" class="skip-link">' in body and '<main class="container-fluid" id="main"' in body


def test_filter_inputs_have_accessible_names(rep_client):
    body = rep_client.get(reverse("crm:call_panel")).content.decode()
    assert 'aria-label="Search by name or phone"' in body and 'aria-label="Stage"' in body
