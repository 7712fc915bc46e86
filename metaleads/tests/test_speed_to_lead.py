"""Speed-to-lead: called at once inside calling hours, held for the opening outside, never twice."""

from __future__ import annotations

import json
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import responses
import time_machine

from callkaro.models import CallKaroCallLog
from crm.tests.factories import LeadFactory
from metaleads.models import MetaLeadDelivery, MetaLeadsConfig, SpeedToLeadCall
from metaleads.services import delivery_fetch, speed_to_lead_decide, speed_to_lead_start

from .helpers import CALLKARO, FORM_ID, delivery, graph_lead, mock_callkaro_ok, mock_form_name, mock_lead, post

pytestmark = pytest.mark.django_db
IST = ZoneInfo("Asia/Kolkata")
AGENT = "ag-speed"


@pytest.fixture(autouse=True)
def speed_on(meta_settings):
    meta_settings.SPEED_TO_LEAD_AGENT_ID = AGENT


def arrive(leadgen_id: str, phone: str = "+919812345678", **kwargs) -> str:
    mock_lead(graph_lead(leadgen_id, phone=phone, **kwargs))
    return delivery_fetch(delivery_id=MetaLeadDelivery.objects.create(leadgen_id=leadgen_id, form_id=FORM_ID).pk)


@time_machine.travel(datetime(2026, 11, 30, 11, 0, tzinfo=IST), tick=False)
@responses.activate
def test_inside_calling_hours_a_new_lead_is_called_at_once_by_the_agent(rep, django_capture_on_commit_callbacks):
    MetaLeadsConfig.objects.create(metadata_answer_keys=["budget", "missing"])
    mock_form_name()
    mock_callkaro_ok()
    with django_capture_on_commit_callbacks(execute=True):
        arrive("L1", extra=[{"name": "budget", "values": ["1 crore"]}])
    log = CallKaroCallLog.objects.get()
    assert log.scheduled_at is None and log.status == "initiated"
    assert log.team_member == rep and log.lead.assigned_to == rep
    sent = json.loads(next(c for c in responses.calls if c.request.url == f"{CALLKARO}/call/outbound").request.body)
    assert sent["agent_id"] == AGENT and sent["to_number"] == "+919812345678"
    assert sent["metadata"]["budget"] == "1 crore" and sent["metadata"]["missing"] == ""
    assert sent["metadata"]["lead_id"] == log.lead_id
    row = SpeedToLeadCall.objects.get()
    assert row.call_log_id == log.pk and row.window_opening is None


@time_machine.travel(datetime(2026, 11, 30, 22, 30, tzinfo=IST), tick=False)
@responses.activate
def test_outside_calling_hours_leads_are_held_for_the_opening_staggered_in_arrival_order(rep):
    mock_form_name()
    for n in range(3):
        arrive(f"L{n}", phone=f"+91981234560{n}")
    logs = list(CallKaroCallLog.objects.order_by("lead__meta_lead_id"))
    opening = datetime(2026, 12, 1, 9, 0, tzinfo=IST)
    assert [log.status for log in logs] == ["scheduled"] * 3
    assert [(log.scheduled_at - opening).total_seconds() for log in logs] == [0, 6, 12]
    assert not any(c.request.url.startswith(CALLKARO) for c in responses.calls)


@time_machine.travel(datetime(2026, 11, 30, 6, 15, tzinfo=IST), tick=False)
@responses.activate
def test_before_the_window_opens_the_call_waits_for_the_same_morning(rep):
    mock_form_name()
    arrive("L1")
    assert CallKaroCallLog.objects.get().scheduled_at == datetime(2026, 11, 30, 9, 0, tzinfo=IST)


def test_the_decision_reads_the_leads_own_time_zone():
    lead = LeadFactory.build(time_zone="Asia/Dubai")
    # 20:45 in India is 19:15 in Dubai: inside there.
    now = datetime(2026, 11, 30, 20, 45, tzinfo=IST)
    assert speed_to_lead_decide(lead, now).dial_now
    lead.time_zone = ""
    assert speed_to_lead_decide(lead, datetime(2026, 11, 30, 21, 0, tzinfo=IST)).window_opening == datetime(
        2026, 12, 1, 9, 0, tzinfo=IST
    )
    lead.phone_invalid = True
    assert not speed_to_lead_decide(lead, now).allowed


@time_machine.travel(datetime(2026, 11, 30, 11, 0, tzinfo=IST), tick=False)
@responses.activate
def test_no_second_dial_on_redelivery_or_backfill(rep, django_capture_on_commit_callbacks):
    from django.test import Client

    from metaleads.backfill import form_backfill
    from metaleads.models import MetaForm

    mock_lead(graph_lead("L1"))
    mock_form_name()
    mock_callkaro_ok()
    client = Client()
    with django_capture_on_commit_callbacks(execute=True):
        post(client, delivery(["L1"]))
        post(client, delivery(["L1"]))
        post(client, delivery(["L1", "L1"]))
    responses.get(f"https://graph.meta.test/v25.0/{FORM_ID}/leads", json={"data": [graph_lead("L1")]})
    with django_capture_on_commit_callbacks(execute=True):
        form_backfill(form=MetaForm.objects.get(form_id=FORM_ID))
    lead = SpeedToLeadCall.objects.get().lead
    assert speed_to_lead_start(lead=lead, now=datetime(2026, 11, 30, 11, 5, tzinfo=IST)) is None
    assert CallKaroCallLog.objects.count() == 1
    assert len([c for c in responses.calls if c.request.url == f"{CALLKARO}/call/outbound"]) == 1


@time_machine.travel(datetime(2026, 11, 30, 11, 0, tzinfo=IST), tick=False)
@responses.activate
def test_an_invalid_number_a_duplicate_or_the_rule_off_place_no_call(rep, meta_settings):
    mock_form_name()
    arrive("L1", phone="12345")
    assert SpeedToLeadCall.objects.get().outcome.endswith("has no valid phone number")
    LeadFactory(phone="+919812345699")
    assert arrive("L2", phone="+919812345699") == "merged"
    meta_settings.SPEED_TO_LEAD_AGENT_ID = ""
    arrive("L3", phone="+919812345698")
    assert CallKaroCallLog.objects.count() == 0
    assert SpeedToLeadCall.objects.count() == 1


@time_machine.travel(datetime(2026, 11, 30, 11, 0, tzinfo=IST), tick=False)
@responses.activate
def test_a_saved_empty_agent_turns_the_rule_off_over_the_environment(rep):
    MetaLeadsConfig.objects.create(speed_to_lead_agent_id="")
    mock_form_name()
    arrive("L1")
    assert not SpeedToLeadCall.objects.exists()


@time_machine.travel(datetime(2026, 11, 30, 11, 0, tzinfo=IST), tick=False)
@responses.activate
def test_a_lead_on_the_do_not_call_list_is_not_called(rep):
    from crm.dnc import dnc_add

    dnc_add(number="+919812345678", reason="asked")
    mock_form_name()
    arrive("L1")
    log = CallKaroCallLog.objects.first()
    # Stored, then cancelled by the pre-dial check (the shared do-not-call list) before any dial.
    assert log is None or log.status in {"queued", "cancelled"}
    assert not any(c.request.url.startswith(CALLKARO) for c in responses.calls)


@time_machine.travel(datetime(2026, 11, 30, 11, 0, tzinfo=IST), tick=False)
@responses.activate
def test_a_failure_to_start_the_call_never_costs_the_lead(rep, monkeypatch):
    from metaleads import services

    def broken(**kwargs):
        raise RuntimeError("bug in the dialler")

    monkeypatch.setattr(services, "speed_to_lead_start", broken)
    mock_form_name()
    assert arrive("L1") == "created"
    assert MetaLeadDelivery.objects.get().lead is not None


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_leads_held_at_night_from_many_threads_get_distinct_slots_on_postgresql(meta_settings):
    """Concurrent night-time leads: the config row's lock gives each its own slot after the opening."""
    import threading

    from django.db import connection

    from crm.models import Role
    from crm.tests.factories import make_member

    make_member(Role.REP, name="Night rep")
    leads = [LeadFactory(phone=f"+9198123450{n:02d}") for n in range(12)]
    barrier = threading.Barrier(len(leads))
    errors: list[BaseException] = []
    now = datetime(2026, 11, 30, 23, 0, tzinfo=IST)

    def worker(lead) -> None:
        try:
            barrier.wait(timeout=30)
            speed_to_lead_start(lead=lead, now=now)
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)
        finally:
            connection.close()

    with time_machine.travel(now, tick=True):
        threads = [threading.Thread(target=worker, args=(lead,)) for lead in leads]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    assert not errors, errors
    opening = datetime(2026, 12, 1, 9, 0, tzinfo=IST)
    offsets = sorted((log.scheduled_at - opening).total_seconds() for log in CallKaroCallLog.objects.all())
    assert offsets == [6.0 * n for n in range(len(leads))]
