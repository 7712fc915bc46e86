"""One rule for which AI agents a user may use (``callkaro.selectors.agents_usable_by``), on every surface:
the call panel's options fragment and its call start, ``/callkaro-agents-api/``, and campaigns (the
builder's choices, the JSON API and launch)."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from callkaro import selectors, services
from callkaro.campaigns.forms import CampaignBuilderForm
from callkaro.models import CallKaroAgent
from crm.tests.factories import LeadFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(settings, rep, rep2):
    settings.CALLKARO_API_KEY = "ck-key"
    settings.CALLKARO_DEFAULT_AGENT_ID = "ag-default"
    settings.CALLKARO_BASE_URL = "https://callkaro.test"
    mine = services.agent_create(agent_id="ag-mine", name="Mine")
    services.agent_assign(agent=mine, team_members=[rep])
    theirs = services.agent_create(agent_id="ag-theirs", name="Theirs")
    services.agent_assign(agent=theirs, team_members=[rep2])
    services.agent_create(agent_id="ag-free", name="Unassigned")
    services.agent_create(agent_id="ag-default", name="Default")
    return {"usable": {"ag-default", "ag-mine"}, "refused": {"ag-theirs", "ag-free"}}


def _campaign_body(agent_id: str) -> str:
    return json.dumps({"name": "C", "agent_id": agent_id, "preview": True})


def test_a_rep_gets_the_same_agents_on_every_surface(world, rep, rep_client):
    lead = LeadFactory(assigned_to=rep)
    usable = world["usable"]
    assert {a.agent_id for a in selectors.agents_usable_by(rep.user)} == usable
    # the call panel's options fragment
    page = rep_client.get(reverse("callkaro:call_options"), {"lead": lead.pk})
    assert {a.agent_id for a in page.context["agents"]} == usable
    # the agents API
    assert {row["agent_id"] for row in rep_client.get(reverse("callkaro:agents_api")).json()} == usable
    # the campaign builder's choices
    form = CampaignBuilderForm(user=rep.user)
    assert {a.agent_id for a in form.fields["agent"].queryset} == usable
    # the campaign JSON API and the call start accept the usable ones and refuse the others
    create = reverse("callkaro:create_campaign")
    for agent_id in usable:
        assert rep_client.post(create, _campaign_body(agent_id), content_type="application/json").status_code == 200
    for agent_id in world["refused"]:
        response = rep_client.post(create, _campaign_body(agent_id), content_type="application/json")
        assert response.status_code == 400 and "agent" in response.json()["error"]
        start = rep_client.post(reverse("callkaro:initiate_call"), {"lead_id": lead.pk, "agent_id": agent_id})
        assert start.status_code == 403


def test_managers_may_use_every_active_agent_everywhere(world, manager, manager_client):
    everyone = world["usable"] | world["refused"]
    CallKaroAgent.objects.create(agent_id="ag-off", name="Off", is_active=False)
    assert {row["agent_id"] for row in manager_client.get(reverse("callkaro:agents_api")).json()} == everyone
    assert {a.agent_id for a in CampaignBuilderForm(user=manager.user).fields["agent"].queryset} == everyone


def test_every_surface_asks_the_one_rule(world, rep, rep_client, monkeypatch):
    """Narrow the rule to nothing: every surface follows, so none keeps a rule of its own."""
    calls = []

    def nothing(user):
        calls.append(user)
        return CallKaroAgent.objects.none()

    monkeypatch.setattr(selectors, "agents_usable_by", nothing)
    lead = LeadFactory(assigned_to=rep)
    assert list(rep_client.get(reverse("callkaro:call_options"), {"lead": lead.pk}).context["agents"]) == []
    assert rep_client.get(reverse("callkaro:agents_api")).json() == []
    assert list(CampaignBuilderForm(user=rep.user).fields["agent"].queryset) == []
    create = reverse("callkaro:create_campaign")
    assert rep_client.post(create, _campaign_body("ag-mine"), content_type="application/json").status_code == 400
    start = rep_client.post(reverse("callkaro:initiate_call"), {"lead_id": lead.pk, "agent_id": "ag-mine"})
    assert start.status_code == 403
    assert len(calls) >= 5
