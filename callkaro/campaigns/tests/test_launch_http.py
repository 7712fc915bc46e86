"""Launching talks to Call Karo outside any database transaction, and a Call Karo that does not answer
is a message, not a 500."""

from __future__ import annotations

import pytest
import responses
from django.db import connection
from django.urls import reverse

from callkaro.campaigns import services
from callkaro.campaigns.audience import LeadFilter
from callkaro.campaigns.inputs import CampaignSettings
from callkaro.campaigns.services import campaign_draft_save
from callkaro.models import CallKaroCampaign
from crm.tests.factories import LeadFactory

from .fixtures import *  # noqa: F403  (fixtures: agent, callkaro_settings, http, office_hours)
from .fixtures import BASE, launch

pytestmark = pytest.mark.usefixtures("office_hours")


@pytest.mark.django_db(transaction=True)
def test_call_karo_is_asked_with_no_transaction_open(manager, rep, agent, http, monkeypatch):
    """An HTTP wait inside a transaction blocks every other writer (on SQLite, even the sandbox)."""
    LeadFactory(assigned_to=rep)
    seen: list[bool] = []
    real = services._remote_campaign_create

    def spy(**kwargs):
        seen.append(connection.in_atomic_block)
        return real(**kwargs)

    monkeypatch.setattr(services, "_remote_campaign_create", spy)
    campaign = launch(manager.user, agent)
    assert seen == [False]
    assert campaign.batch_id == "batch-1" and campaign.calls.count() == 1


@pytest.mark.django_db
def test_a_call_karo_that_does_not_answer_leaves_the_draft_and_says_so(
    manager, manager_client, agent, callkaro_settings
):
    import requests

    draft = campaign_draft_save(
        user=manager.user,
        campaign_settings=CampaignSettings(name="Quiet", agent=agent, pace_per_minute=10, max_concurrent=5),
        audience={"kind": "filter", "filter": LeadFilter().as_json()},
    )
    with responses.RequestsMock() as rsps:
        rsps.post(f"{BASE}/call/campaign", body=requests.exceptions.ReadTimeout("slow"))
        response = manager_client.post(reverse("callkaro:campaign_preview", args=[draft.pk]), follow=True)
    assert response.status_code == 200
    assert "Could not create the campaign at Call Karo" in response.content.decode()
    draft.refresh_from_db()
    assert draft.status == CallKaroCampaign.Status.DRAFT and not draft.calls.exists()
