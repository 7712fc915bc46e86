"""A campaign pauses instead of burning its list: a revoked key (401/403), calling switched off, an agent gone."""

from __future__ import annotations

import json

import pytest
import responses

from callkaro import services as callkaro_services
from callkaro.campaigns import lifecycle
from callkaro.campaigns.scheduler import scheduler_tick
from callkaro.models import CallKaroCampaign
from crm.tests.factories import LeadFactory
from telephony.status import CallStatus

from .fixtures import *  # noqa: F403  (fixtures: agent, callkaro_settings, http, office_hours)
from .fixtures import BASE, launch

pytestmark = pytest.mark.django_db


@pytest.fixture
def tick(django_capture_on_commit_callbacks):
    def run():
        with django_capture_on_commit_callbacks(execute=True):
            return scheduler_tick()

    return run


@pytest.fixture
def revoked(callkaro_settings, office_hours):
    """Call Karo answering every dial with 403 (the key was revoked), until ``fixed`` is set."""
    state = {"fixed": False, "dials": 0}
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.post(f"{BASE}/call/campaign", json={"batch_id": "batch-1", "message": "ok", "status": "success"})

        def outbound(request):
            state["dials"] += 1
            if not state["fixed"]:
                return 403, {}, json.dumps({"status": "error", "message": "Invalid API key"})
            return (
                200,
                {},
                json.dumps({"status": "done", "message": "Call queued", "call_sid": f"sid-{state['dials']}"}),
            )

        rsps.add_callback(responses.POST, f"{BASE}/call/outbound", callback=outbound)
        yield state


def test_a_revoked_key_pauses_the_campaign_and_no_row_fails(manager, rep, agent, revoked, tick):
    for _ in range(3):
        LeadFactory(assigned_to=rep)
    campaign = launch(manager.user, agent, pace_per_minute=1, max_concurrent=1)
    tick()
    campaign.refresh_from_db()
    assert campaign.status == CallKaroCampaign.Status.PAUSED
    assert "refused our credentials (HTTP 403)" in campaign.status_reason
    statuses = list(campaign.calls.values_list("status", flat=True))
    assert CallStatus.FAILED not in statuses and CallStatus.CANCELLED not in statuses
    assert statuses.count(CallStatus.SCHEDULED) == 3
    assert revoked["dials"] == 1
    tick()  # paused: nothing more is dialled
    assert revoked["dials"] == 1

    revoked["fixed"] = True  # a new key is saved
    assert lifecycle.campaign_resume(campaign=campaign)
    for _ in range(3):
        CallKaroCampaign.objects.filter(pk=campaign.pk).update(pace_per_minute=10, max_concurrent=10)
        tick()
    campaign.refresh_from_db()
    assert campaign.status in (CallKaroCampaign.Status.RUNNING, CallKaroCampaign.Status.COMPLETED)
    assert sorted(campaign.calls.values_list("status", flat=True)) == [CallStatus.INITIATED] * 3


def test_the_reason_shows_on_the_campaign_page_and_the_dashboard(manager, manager_client, rep, agent, revoked, tick):
    LeadFactory(assigned_to=rep)
    campaign = launch(manager.user, agent)
    tick()
    page = manager_client.get(f"/campaigns/{campaign.pk}/").content.decode()
    assert 'id="campaign-status-reason"' in page and "refused our credentials" in page
    dashboard = manager_client.get("/callkaro-dashboard/").content.decode()
    assert "/campaigns/paused/" in dashboard
    fragment = manager_client.get("/campaigns/paused/").content.decode()
    assert campaign.name in fragment and "refused our credentials" in fragment


def test_calling_switched_off_or_an_agent_disabled_pauses_running_campaigns(
    manager, rep, agent, http, office_hours, tick
):
    LeadFactory(assigned_to=rep)
    campaign = launch(manager.user, agent)
    callkaro_services.config_save(
        api_key="ck-test-key", default_agent_id="", time_zone="Asia/Kolkata", is_enabled=False, actor=None
    )
    tick()
    campaign.refresh_from_db()
    assert (campaign.status, campaign.status_reason) == (
        CallKaroCampaign.Status.PAUSED,
        "AI calling is switched off on the configuration page",
    )
    assert campaign.calls.get().status == CallStatus.SCHEDULED
    callkaro_services.config_save(
        api_key="ck-test-key", default_agent_id="", time_zone="Asia/Kolkata", is_enabled=True, actor=None
    )
    agent.is_active = False
    agent.save()
    lifecycle.campaign_resume(campaign=campaign)
    tick()
    campaign.refresh_from_db()
    assert campaign.status == CallKaroCampaign.Status.PAUSED and "disabled" in campaign.status_reason


def test_an_agent_call_karo_no_longer_has_pauses_the_campaign(
    manager, rep, agent, callkaro_settings, office_hours, tick
):
    LeadFactory(assigned_to=rep)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.post(f"{BASE}/call/campaign", json={"batch_id": "b", "message": "ok", "status": "success"})
        rsps.post(f"{BASE}/call/outbound", status=404, json={"status": "error", "message": "Agent does not exist"})
        campaign = launch(manager.user, agent)
        tick()
    campaign.refresh_from_db()
    assert campaign.status == CallKaroCampaign.Status.PAUSED and "agent no longer exists" in campaign.status_reason
    assert campaign.calls.get().status == CallStatus.SCHEDULED
