"""Each surface asks the one eligibility rule (``telephony.eligibility.decide``), with its own purpose.

Also the rep's one-click ways on after a refusal: an AI call outside hours scheduled for 09:00 the next
morning, and a human call outside hours placed once the rep confirms.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from html import unescape
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
import responses
import time_machine
from django.core.cache import cache

from callkaro import services
from callkaro.campaigns.audience import CampaignAudience, LeadFilter
from callkaro.campaigns.inputs import CampaignSettings
from callkaro.campaigns.services import audience_preview
from callkaro.models import CallKaroAgent, CallKaroCallLog
from crm.tests.factories import LeadFactory
from telephony import eligibility
from telephony.registry import call_log_model
from telephony.services import call_dispatch, call_place
from telephony.status import CallStatus

pytestmark = pytest.mark.django_db
IST = ZoneInfo("Asia/Kolkata")
CK = "https://api.callkaro.test"
AF = "https://api.acefone.test"
NIGHT = dt.datetime(2026, 12, 1, 22, 15, tzinfo=IST)
NOON = dt.datetime(2026, 12, 1, 12, 0, tzinfo=IST)


@pytest.fixture(autouse=True)
def _setup(settings, rep):
    settings.CALLKARO_BASE_URL = CK
    settings.ACEFONE_BASE_URL = AF
    settings.ACEFONE_API_TOKEN = "af-token"
    settings.TELEPHONY_HTTP_BACKOFF = 0
    settings.TELEPHONY_HTTP_RETRIES = 0
    cache.clear()
    services.config_save(
        api_key="ck-key", default_agent_id="ag-1", time_zone="Asia/Kolkata", is_enabled=True, actor=None
    )
    services.agent_assign(agent=services.agent_create(agent_id="ag-1", name="Priya", language="hi"), team_members=[rep])
    yield
    cache.clear()


@pytest.fixture
def spy():
    with mock.patch.object(eligibility, "decide", wraps=eligibility.decide) as wrapped:
        yield wrapped


def purposes(spy) -> list[str]:
    return [c.kwargs["purpose"] for c in spy.call_args_list]


def _hx(client, url, data):
    return client.post(url, data, headers={"HX-Request": "true"})


def test_the_reps_click_asks_the_rule_and_offers_9_oclock_tomorrow(rep_client, lead, spy):
    with time_machine.travel(NIGHT, tick=False):
        resp = _hx(rep_client, "/initiate-callkaro-call/", {"lead_id": lead.pk, "agent_id": "ag-1", "when": "now"})
        assert purposes(spy) == [eligibility.REP_CLICK]
        assert resp["X-Call-Status"] == "409"
        html = resp.content.decode()
        assert "Outside calling hours" in html
        button = re.search(r'data-action="schedule-at-opening"\s+hx-post="([^"]+)" hx-vals=\'([^\']+)\'', html)
        assert button and "Schedule for 09:00 tomorrow" in html
        assert not CallKaroCallLog.objects.exists()
        # The one click: the same choices, scheduled at the window's opening.
        again = _hx(rep_client, button.group(1), json.loads(unescape(button.group(2))))
        assert again["X-Call-Status"] == "202", again.content
    log = CallKaroCallLog.objects.get()
    assert (log.status, log.scheduled_at) == (CallStatus.SCHEDULED, dt.datetime(2026, 12, 2, 9, 0, tzinfo=IST))
    assert log.agent.agent_id == "ag-1"


def test_the_json_api_asks_the_rule_and_says_when(rep_client, lead, spy):
    with time_machine.travel(NIGHT, tick=False):
        resp = rep_client.post(
            "/initiate-callkaro-call/", json.dumps({"lead_id": lead.pk}), content_type="application/json"
        )
    assert purposes(spy) == [eligibility.REP_CLICK]
    assert resp.status_code == 409
    body = resp.json()
    assert body["code"] == "outside_hours"
    assert dt.datetime.fromisoformat(body["next_allowed_at"]) == dt.datetime(2026, 12, 2, 9, 0, tzinfo=IST)


@responses.activate
def test_a_human_call_outside_hours_asks_the_rep_to_confirm(rep_client, lead, rep, spy):
    responses.post(f"{AF}/v1/click_to_call", json={"success": True, "message": "Originate successfully queued"})
    rep.acefone_agent_number = "0602"
    rep.save()
    with time_machine.travel(NIGHT, tick=False):
        resp = _hx(rep_client, "/initiate-acefone-call/", {"lead_id": lead.pk})
        html = resp.content.decode()
        assert resp["X-Call-Status"] == "409" and 'data-action="confirm-outside-hours"' in html
        assert not call_log_model("acefone").objects.exists()
        vals = json.loads(unescape(re.search(r"hx-vals='([^']+)'[^>]*>Call anyway", html).group(1)))
        assert _hx(rep_client, "/initiate-acefone-call/", vals)["X-Call-Status"] == "200"
    assert call_log_model("acefone").objects.get().status == CallStatus.INITIATED
    assert purposes(spy) == [eligibility.REP_CLICK, eligibility.REP_CLICK, eligibility.REP_CLICK]


@responses.activate
def test_the_dial_time_check_asks_the_rule_again(rep, lead, spy):
    with time_machine.travel(NOON, tick=False):
        at = NOON + dt.timedelta(hours=1)
        from telephony.base import CallOptions

        log = call_place(provider="callkaro", lead=lead, team_member=rep, options=CallOptions(schedule_at=at)).call_log
        lead.do_not_call = True
        lead.save()
    with time_machine.travel(at, tick=False):
        CallKaroCallLog.objects.filter(pk=log.pk).update(status=CallStatus.QUEUED)
        spy.reset_mock()
        assert call_dispatch(provider="callkaro", call_log_id=log.pk) == CallStatus.CANCELLED
    assert purposes(spy) == [eligibility.SCHEDULED]
    log.refresh_from_db()
    assert "do-not-call" in log.skip_reason
    assert not responses.calls


def test_campaign_preview_asks_the_rule_for_each_chunk(manager, rep, spy):
    LeadFactory(assigned_to=rep)
    LeadFactory(assigned_to=rep, phone="+911123456789")  # a landline: shown in the preview with its reason
    agent = CallKaroAgent.objects.get(agent_id="ag-1")
    audience = CampaignAudience(user=manager.user, lead_filter=LeadFilter())
    preview = audience_preview(audience=audience, campaign_settings=CampaignSettings(name="x", agent=agent))
    assert set(purposes(spy)) == {eligibility.CAMPAIGN}
    assert preview.eligible == 1
    assert preview.refused_reasons == [("Indian landline (AI calls go to mobiles only)", 1)]


def test_new_lead_auto_calls_ask_the_rule(lead, spy):
    from metaleads.services import speed_to_lead_decide

    decision = speed_to_lead_decide(lead, NIGHT)
    assert purposes(spy) == [eligibility.AUTO_CALL]
    assert decision.window_opening == dt.datetime(2026, 12, 2, 9, 0, tzinfo=IST)


def test_call_place_passes_its_purpose_through(lead, rep, spy):
    with time_machine.travel(NOON, tick=False):
        call_place(provider="callkaro", lead=lead, team_member=rep, dispatch="async", purpose=eligibility.AUTO_CALL)
    assert purposes(spy) == [eligibility.AUTO_CALL]
