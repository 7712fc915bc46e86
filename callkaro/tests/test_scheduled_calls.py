"""A scheduled call never locks a lead: cancel or move it from the call panel and the lead page."""

from __future__ import annotations

import datetime as dt
import json
from zoneinfo import ZoneInfo

import pytest
import responses
import time_machine
from django.core.cache import cache

from callkaro import services
from callkaro.models import CallKaroCallLog
from crm.models import LeadActivity
from telephony.status import CallStatus

pytestmark = pytest.mark.django_db
IST = ZoneInfo("Asia/Kolkata")
CK = "https://api.callkaro.test"
NOON = dt.datetime(2026, 12, 1, 12, 0, tzinfo=IST)


@pytest.fixture(autouse=True)
def _setup(settings, rep):
    settings.CALLKARO_BASE_URL = CK
    settings.TELEPHONY_HTTP_RETRIES = 0
    cache.clear()
    services.config_save(
        api_key="ck-key", default_agent_id="ag-1", time_zone="Asia/Kolkata", is_enabled=True, actor=None
    )
    services.agent_assign(agent=services.agent_create(agent_id="ag-1", name="Priya", language="hi"), team_members=[rep])
    with time_machine.travel(NOON, tick=False):
        yield
    cache.clear()


def _scheduled(lead, **fields):
    return CallKaroCallLog.objects.create(
        lead=lead,
        to_number=str(lead.phone),
        status=CallStatus.SCHEDULED,
        scheduled_at=NOON + dt.timedelta(hours=2),
        metadata_sent={},
        **fields,
    )


def test_the_fragment_lists_the_waiting_call_with_cancel_and_move(rep_client, lead):
    _scheduled(lead)
    html = rep_client.get(f"/leads/{lead.pk}/scheduled-calls/").content.decode()
    assert 'data-action="cancel-scheduled-call"' in html and 'data-action="move-scheduled-call"' in html
    assert "01 Dec, 14:00" in html
    # Both pages load it.
    assert f"/leads/{lead.pk}/scheduled-calls/" in rep_client.get(f"/leads/{lead.pk}/").content.decode()
    assert f"/leads/{lead.pk}/scheduled-calls/" in rep_client.get(f"/call-panel/?lead={lead.pk}").content.decode()


def test_cancel_records_the_reason_and_the_activity(rep_client, lead, rep):
    call = _scheduled(lead)
    resp = rep_client.post(
        f"/leads/{lead.pk}/scheduled-calls/cancel/", {"provider": "callkaro", "call_log_id": call.pk}
    )
    assert "Scheduled call cancelled." in resp.content.decode()
    call.refresh_from_db()
    assert (call.status, call.skip_reason) == (CallStatus.CANCELLED, "Cancelled by a person")
    assert LeadActivity.objects.filter(lead=lead, actor=rep, message__startswith="Scheduled call cancelled").exists()


def test_move_inside_hours_and_refused_outside(rep_client, lead):
    call = _scheduled(lead)
    url = f"/leads/{lead.pk}/scheduled-calls/move/"
    late = rep_client.post(url, {"provider": "callkaro", "call_log_id": call.pk, "scheduled_at": "2026-12-01T22:30"})
    assert "Outside calling hours" in late.content.decode()
    resp = rep_client.post(url, {"provider": "callkaro", "call_log_id": call.pk, "scheduled_at": "2026-12-02T10:30"})
    assert "Moved to 02 Dec 10:30" in resp.content.decode()
    call.refresh_from_db()
    assert call.scheduled_at == dt.datetime(2026, 12, 2, 10, 30, tzinfo=IST)


def test_another_reps_lead_is_not_theirs_to_change(rep2_client, lead):
    call = _scheduled(lead)
    resp = rep2_client.post(
        f"/leads/{lead.pk}/scheduled-calls/cancel/", {"provider": "callkaro", "call_log_id": call.pk}
    )
    assert resp.status_code == 404
    call.refresh_from_db()
    assert call.status == CallStatus.SCHEDULED


@responses.activate
def test_a_call_handed_to_callkaro_with_a_schedule_is_withdrawn_there_when_a_rep_calls_now(rep_client, lead):
    handed = _scheduled(lead, provider_call_id="sid-later")
    CallKaroCallLog.objects.filter(pk=handed.pk).update(status=CallStatus.INITIATED)
    responses.post(f"{CK}/call/delete-schedule-call", json={"status": "success"})
    responses.post(f"{CK}/call/outbound", json={"status": "done", "message": "Call queued", "call_sid": "sid-now"})
    resp = rep_client.post(
        "/initiate-callkaro-call/", json.dumps({"lead_id": lead.pk}), content_type="application/json"
    )
    assert resp.status_code == 200, resp.content
    handed.refresh_from_db()
    assert (handed.status, handed.skip_reason) == (CallStatus.CANCELLED, "Superseded by a rep's call")
    deletes = [c for c in responses.calls if "delete-schedule-call" in c.request.url]
    assert len(deletes) == 1 and json.loads(deletes[0].request.body) == {"to_number": str(lead.phone)}
