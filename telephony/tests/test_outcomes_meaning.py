"""Outcomes that mean something: not interested, converted, a callback with a time; structured opt-outs."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import responses
import time_machine

from callkaro.models import CallKaroAgent, CallKaroCallLog
from crm.dnc import is_do_not_call
from crm.models import FollowUp, LeadStage
from telephony.models import CallOutcomeRule
from telephony.outcomes import DEFAULT_RULES, call_outcome_apply, uses_post_call
from telephony.services import call_dispatch, call_place
from telephony.status import CallStatus
from telephony.tests.webhook_samples import make_af_log, make_ck_log

pytestmark = pytest.mark.django_db
IST = ZoneInfo("Asia/Kolkata")
NOON = dt.datetime(2026, 12, 1, 12, 0, tzinfo=IST)


@pytest.fixture(autouse=True)
def _noon():
    with time_machine.travel(NOON, tick=False):
        yield


def _apply(log, provider="callkaro"):
    log.refresh_from_db()
    return call_outcome_apply(call_log=log, provider=provider)


@pytest.mark.parametrize("stage", [LeadStage.NEW, LeadStage.CONTACTED, LeadStage.NEGOTIATION])
def test_not_interested_closes_an_open_lead(lead, stage):
    lead.stage = stage
    lead.save()
    log = make_ck_log(lead, status="completed", post_call={"lead_status": "Not Interested"})
    assert _apply(log) == ["stage=not_interested"]


def test_a_conversion_beats_not_interested_and_nothing_reopens_a_closed_lead(lead, other_lead):
    both = make_ck_log(lead, status="completed", converted=True, post_call={"lead_status": "not_interested"})
    assert _apply(both) == ["stage=converted"]
    other_lead.stage = LeadStage.NOT_INTERESTED
    other_lead.save()
    assert _apply(make_ck_log(other_lead, status="completed", converted=True)) == []


def test_a_callback_with_a_time_is_a_follow_up_for_the_owning_rep(lead, rep):
    log = make_ck_log(lead, status="completed", post_call={"callback_time": "2026-12-02 16:30:00"})
    assert _apply(log) == ["stage=contacted", "follow_up=2026-12-02T16:30:00+05:30"]
    follow_up = FollowUp.objects.get(lead=lead)
    assert (follow_up.owner, follow_up.source) == (rep, FollowUp.Source.AI_CALLBACK)
    assert follow_up.due_at == dt.datetime(2026, 12, 2, 16, 30, tzinfo=IST)
    assert follow_up.call_ref == f"callkaro:{log.pk}"
    assert _apply(log) == []  # a repeated webhook adds nothing
    assert not CallKaroCallLog.objects.exclude(pk=log.pk).exists()  # the default rule schedules no call


def test_a_past_or_unreadable_callback_time_makes_no_follow_up(lead):
    assert "follow_up" not in " ".join(
        _apply(make_ck_log(lead, status="completed", post_call={"callback_time": "soon"}))
    )
    past = make_ck_log(lead, status="completed", post_call={"callback_time": "2026-11-01 10:00"})
    _apply(past)
    assert not FollowUp.objects.exists()


def test_the_rule_may_also_schedule_an_ai_call_inside_calling_hours(lead, rep, settings):
    settings.CALLKARO_API_KEY = "ck"
    settings.CALLKARO_DEFAULT_AGENT_ID = "ag-1"
    settings.CALL_MIN_GAP_HOURS = 0
    CallKaroAgent.objects.create(agent_id="ag-1", name="Priya")
    CallOutcomeRule.objects.create(
        name="Callback", post_call_key="callback_time", follow_up=True, schedule_ai_call=True
    )
    log = make_ck_log(lead, status="completed", post_call={"callback_time": "2026-12-02T22:00:00+05:30"})
    changes = _apply(log)
    call = CallKaroCallLog.objects.exclude(pk=log.pk).get()
    assert f"callback_call={call.pk}" in changes
    assert call.status == CallStatus.SCHEDULED
    assert call.scheduled_at == dt.datetime(2026, 12, 3, 9, 0, tzinfo=IST)  # 22:00 is outside: the next opening
    assert call.metadata_sent["trigger"] == "callback"
    assert FollowUp.objects.get(lead=lead).due_at == dt.datetime(2026, 12, 2, 22, 0, tzinfo=IST)


def test_structured_opt_outs_list_the_number_and_flag_the_lead(lead, other_lead, rep):
    _apply(make_ck_log(lead, status="completed", post_call={"do_not_call": True}))
    lead.refresh_from_db()
    assert lead.do_not_call and is_do_not_call(lead.phone)
    _apply(make_ck_log(other_lead, status="completed", disposition="DND"))
    other_lead.refresh_from_db()
    assert other_lead.do_not_call and is_do_not_call(other_lead.phone)


def test_a_provider_dnd_hangup_lists_the_number(lead):
    _apply(make_af_log(lead, status="failed", hangup_cause="NCPR"), "acefone")
    lead.refresh_from_db()
    assert lead.do_not_call and is_do_not_call(lead.phone)


@responses.activate
def test_a_dial_refused_as_dnd_lists_the_number(lead, rep, settings):
    settings.ACEFONE_BASE_URL = "https://af.test"
    settings.ACEFONE_API_TOKEN = "t"
    settings.TELEPHONY_HTTP_RETRIES = 0
    rep.acefone_agent_number = "0602"
    rep.save()
    responses.post(
        "https://af.test/v1/click_to_call", status=400, json={"success": False, "message": "Number is in DND"}
    )
    outcome = call_place(provider="acefone", lead=lead, team_member=rep, dispatch="async")
    assert call_dispatch(provider="acefone", call_log_id=outcome.call_log.pk) == CallStatus.FAILED
    lead.refresh_from_db()
    assert lead.do_not_call and is_do_not_call(lead.phone)


def test_the_post_call_rules_are_the_ones_a_guard_may_hold_back():
    """Rules reading the after-call report are marked, so that one guard can judge that report."""
    reading = {r["name"] for r in DEFAULT_RULES if uses_post_call(CallOutcomeRule(**r))}
    assert "Completed call → contacted" not in reading
    assert {"Post-call: not interested → not interested", "Disposition: opt-out → do not call"} <= reading


def test_the_new_default_rules_match_the_data_migration():
    """An install with rules already loaded receives the same new rules as the code's defaults."""
    import importlib

    migration = importlib.import_module("telephony.migrations.0007_outcome_rules_meaning")
    defaults = {r["name"]: r for r in DEFAULT_RULES}
    for rule in migration.NEW_RULES:
        assert defaults[rule["name"]] == rule
