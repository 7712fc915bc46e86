"""Redis down (issue 17 §8): starting any call and opening the dashboard never answer 500.

The cache points at a port nothing listens on. The call-start rate limiter falls back to a smaller
in-process limit, the dashboard computes what it would have cached, each logs the outage once, and
the call itself goes through the database path (the claim, the dial, the call log).
"""

from __future__ import annotations

import json
import logging

import pytest
import responses
from django.test import override_settings
from django.urls import reverse

from acefone.models import AcefoneCallLog
from callkaro import services as callkaro_services
from callkaro.models import CallKaroCallLog
from crm import cache_fallback, rate_limit
from crm.tests.factories import LeadFactory

pytestmark = pytest.mark.django_db

CACHE_DOWN = {
    "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://127.0.0.1:1/0"}
}
CK_BASE = "https://api.callkaro.test"
AF_BASE = "https://api.acefone.test"


@pytest.fixture(autouse=True)
def _providers(settings, rep):
    settings.CALLKARO_BASE_URL = CK_BASE
    settings.ACEFONE_BASE_URL = AF_BASE
    settings.ACEFONE_API_TOKEN = "acefone-token-0042"
    settings.ACEFONE_CALLER_ID = "918069000001"
    settings.TELEPHONY_HTTP_BACKOFF = 0
    settings.TELEPHONY_HTTP_RETRIES = 0
    callkaro_services.config_save(
        api_key="ck-test-key-0001", default_agent_id="ag-default", time_zone="Asia/Kolkata", is_enabled=True, actor=None
    )
    agent = callkaro_services.agent_create(agent_id="ag-mine", name="Mine", language="hi")
    callkaro_services.agent_assign(agent=agent, team_members=[rep])
    cache_fallback._degraded.clear()
    rate_limit._local.clear()
    with override_settings(CACHES=CACHE_DOWN):
        yield
    cache_fallback._degraded.clear()
    rate_limit._local.clear()


def _outage_logs(caplog, feature: str) -> list[str]:
    return [r.getMessage() for r in caplog.records if "unreachable" in r.getMessage() and feature in r.getMessage()]


def _start(client, provider: str, lead):
    url = "/initiate-callkaro-call/" if provider == "callkaro" else "/initiate-acefone-call/"
    body = {"lead_id": lead.pk, "agent_id": "ag-mine"} if provider == "callkaro" else {"lead_id": lead.pk}
    return client.post(url, json.dumps(body), content_type="application/json")


@responses.activate
def test_starting_either_call_with_redis_down_goes_through_and_logs_once(rep_client, rep, caplog):
    sids = iter(range(100))
    responses.add_callback(
        responses.POST,
        f"{CK_BASE}/call/outbound",
        callback=lambda request: (
            200,
            {},
            json.dumps({"status": "done", "message": "ok", "call_sid": f"s{next(sids)}"}),
        ),
        content_type="application/json",
    )
    responses.post(f"{AF_BASE}/v1/click_to_call", json={"success": True, "message": "Originate successfully queued"})
    leads = [LeadFactory(assigned_to=rep) for _ in range(4)]
    caplog.set_level(logging.WARNING)
    answers = [
        _start(rep_client, provider, lead).status_code
        for provider, lead in zip(["callkaro", "acefone"] * 2, leads, strict=True)
    ]
    assert answers == [200, 200, 200, 200]
    assert CallKaroCallLog.objects.filter(status="initiated").count() == 2
    assert AcefoneCallLog.objects.filter(status="initiated").count() == 2
    assert len(responses.calls) == 4  # each call dialled once
    assert len(_outage_logs(caplog, "call starts")) == 1


@responses.activate
def test_the_fallback_limit_is_conservative(rep_client, rep, settings):
    responses.post(f"{AF_BASE}/v1/click_to_call", json={"success": True, "message": "Originate successfully queued"})
    settings.CALL_START_RATE_LIMIT = 30
    settings.CALL_START_FALLBACK_LIMIT = 2
    leads = [LeadFactory(assigned_to=rep) for _ in range(3)]
    answers = [_start(rep_client, "acefone", lead) for lead in leads]
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert "Too many calls" in answers[2].json()["message"]


def test_the_dashboard_opens_with_redis_down_and_logs_once(manager_client, rep, caplog):
    CallKaroCallLog.objects.create(lead=LeadFactory(assigned_to=rep), to_number="+919800000001", status="completed")
    caplog.set_level(logging.WARNING)
    for _ in range(3):
        page = manager_client.get(reverse("reporting:dashboard"), {"period": "all"})
        assert page.status_code == 200
        fragment = manager_client.get(reverse("reporting:dashboard"), {"period": "all"}, headers={"HX-Request": "true"})
        assert fragment.status_code == 200
    assert len(_outage_logs(caplog, "dashboard")) == 1
