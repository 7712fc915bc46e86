"""Small leaks (issue 17 §11): a rep's campaign holds and shows only that rep's leads; the CSV
preview never says that someone else owns a number."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from callkaro.campaigns.audience import audience_csv_parse, audience_from_csv
from callkaro.models import CallKaroCallLog
from crm.models import Lead
from crm.tests.factories import LeadFactory

from .fixtures import *  # noqa: F403  (fixtures: agent, callkaro_settings, http, office_hours)
from .fixtures import launch

pytestmark = pytest.mark.django_db
SCHEDULE = "/schedule-campaign-call/"


def _schedule(client, campaign, lead):
    body = json.dumps({"campaign_id": campaign.pk, "lead_id": lead.pk})
    return client.post(SCHEDULE, body, content_type="application/json")


def test_a_manager_cannot_add_another_reps_lead_to_a_reps_campaign(manager_client, rep, rep2, agent, http):
    agent.team_members.add(rep)
    LeadFactory(assigned_to=rep)
    campaign = launch(rep.user, agent)
    theirs = LeadFactory(assigned_to=rep2, name="Someone Else's Lead")
    response = _schedule(manager_client, campaign, theirs)
    assert response.status_code == 400 and "campaign owner's leads" in response.json()["error"]
    assert not campaign.calls.filter(lead=theirs).exists()
    mine = LeadFactory(assigned_to=rep)
    assert _schedule(manager_client, campaign, mine).status_code == 201  # the rep's own lead is fine


def test_a_reps_campaign_page_shows_only_leads_the_rep_may_see(rep_client, manager_client, rep, rep2, agent, http):
    agent.team_members.add(rep)
    mine = LeadFactory(assigned_to=rep, name="Visible Lead")
    campaign = launch(rep.user, agent)
    moved = LeadFactory(assigned_to=rep, name="Moved Away Lead")
    CallKaroCallLog.objects.create(lead=moved, to_number=str(moved.phone), campaign=campaign, status="scheduled")
    Lead.objects.filter(pk=moved.pk).update(assigned_to=rep2)  # reassigned after it was added
    url = reverse("callkaro:campaign_detail", args=[campaign.pk])
    page = rep_client.get(url).content.decode()
    assert mine.name in page and "Moved Away Lead" not in page
    fragment = rep_client.get(url, headers={"HX-Request": "true"}).content.decode()
    assert "Moved Away Lead" not in fragment
    assert "Moved Away Lead" in manager_client.get(url).content.decode()  # a manager sees every lead


def test_the_csv_preview_does_not_say_another_rep_owns_a_number(rep, rep2):
    LeadFactory(assigned_to=rep2, phone="+919876543212", name="Rival")
    parsed = audience_csv_parse("phone,name\n9876543212,Theirs\n")
    _, errors = audience_from_csv(parsed, user=rep.user)
    assert errors == [(2, "Not one of your leads")]
    text = errors[0][1].lower()
    assert "another" not in text and "belongs" not in text and "rival" not in text
