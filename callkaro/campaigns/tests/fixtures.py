"""Fixtures and helpers shared by the campaign and scheduler tests (imported by those modules)."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import responses
from django.core.cache import cache

from callkaro.campaigns.audience import LeadFilter
from callkaro.campaigns.inputs import CampaignSettings
from callkaro.campaigns.services import campaign_draft_save, campaign_launch
from callkaro.models import CallKaroAgent, CallKaroCampaign

BASE = "https://callkaro.test"


@pytest.fixture
def callkaro_settings(settings):
    settings.CALLKARO_API_KEY = "ck-test-key"
    settings.CALLKARO_BASE_URL = BASE
    settings.TELEPHONY_HTTP_RETRIES = 0
    settings.CAMPAIGN_GLOBAL_MAX_LIVE = 1000
    settings.CAMPAIGN_RESERVED_FOR_REPS = 0
    cache.clear()
    yield settings
    cache.clear()


@pytest.fixture
def office_hours():
    """Monday 11:00 in India, inside the default calling window; the clock keeps ticking."""
    import time_machine

    with time_machine.travel(ist(2026, 11, 23, 11, 0), tick=True) as traveller:
        yield traveller


@pytest.fixture
def agent(db):
    return CallKaroAgent.objects.create(agent_id="agent-1", name="Priya")


@pytest.fixture
def http(callkaro_settings):
    """Call Karo's HTTP API, mocked at the boundary: campaigns get a batch id, calls a call_sid."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.post(f"{BASE}/call/campaign", json={"batch_id": "batch-1", "message": "ok", "status": "success"})
        counter = iter(range(1, 1_000_000))

        def outbound(request):
            return 200, {}, json.dumps({"status": "done", "message": "Call queued", "call_sid": f"sid-{next(counter)}"})

        rsps.add_callback(responses.POST, f"{BASE}/call/outbound", callback=outbound)
        rsps.post(f"{BASE}/call/delete-schedule-call", json={"status": "success"})
        yield rsps


def dialled(rsps) -> list[dict]:
    """The bodies of every outbound call sent to Call Karo."""
    return [json.loads(c.request.body) for c in rsps.calls if c.request.url.endswith("/call/outbound")]


def launch(user, agent, *, lead_filter: LeadFilter | None = None, **overrides) -> CallKaroCampaign:
    """Save a draft built from a lead filter, then launch it (the builder's path without the pages)."""
    fields = {"name": "Test campaign", "agent": agent, "pace_per_minute": 100, "max_concurrent": 100}
    fields.update(overrides)
    lead_filter = lead_filter or LeadFilter()
    draft = campaign_draft_save(
        user=user,
        campaign_settings=CampaignSettings(**fields),
        audience={"kind": "filter", "filter": lead_filter.as_json()},
    )
    return campaign_launch(user=user, campaign=draft)


def ist(*args) -> dt.datetime:
    from zoneinfo import ZoneInfo

    return dt.datetime(*args, tzinfo=ZoneInfo("Asia/Kolkata"))
