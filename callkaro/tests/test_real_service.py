"""What the real Call Karo does that a naive client misses (issue 13): non-final events, reports we
did not ask for, later tries, another agent, and short calls whose post-call values are defaults."""

from __future__ import annotations

import pytest

from callkaro.webhooks import parse_payload
from crm.models import LeadActivity, LeadStage
from telephony.models import ProviderWebhookEvent
from telephony.tests.webhook_samples import CK_SECRET, call_ended, final_receivers_only, make_ck_log, post_json

URL = "/callkaro-webhook/"
NON_FINAL_EVENTS = [
    "call_started",
    "message_received",
    "message_sent",
    "template_sent",
    "message_status_updated",
    "something_new_next_year",
]


@pytest.fixture(autouse=True)
def _secret(settings, monkeypatch):
    settings.CALLKARO_WEBHOOK_SECRET = CK_SECRET
    settings.TELEPHONY_SHORT_CALL_SECONDS = 10
    final_receivers_only(monkeypatch)


def _post(client, body):
    response = post_json(client, URL, body, token=CK_SECRET)
    assert response.status_code == 200, response.content
    return response


def _snapshot(log):
    log.refresh_from_db()
    return (log.status, log.duration_seconds, log.provider_call_id, log.transcript, log.hangup_reason, log.tries)


# --- defect 2: only call_ended settles a call ------------------------------------------------------
@pytest.mark.django_db
@pytest.mark.parametrize("event", NON_FINAL_EVENTS)
def test_a_non_final_event_is_stored_and_changes_no_call_or_lead(client, lead, event):
    log = make_ck_log(lead, status="initiated")
    before = _snapshot(log)
    body = call_ended(log.pk)
    body["event"] = event  # the same data, as a real non-final event may carry it
    _post(client, body)
    assert _snapshot(log) == before
    lead.refresh_from_db()
    assert lead.stage == LeadStage.NEW and not lead.do_not_call and not LeadActivity.objects.exists()
    row = ProviderWebhookEvent.objects.get()
    assert row.is_authenticated and row.outcome == "stale" and row.event["raw_status"] == event


@pytest.mark.django_db
def test_a_non_final_event_after_the_call_ended_changes_nothing(client, lead):
    log = make_ck_log(lead, status="initiated")
    _post(client, call_ended(log.pk))
    settled = _snapshot(log)
    _post(client, {"event": "message_sent", "data": {"callSid": "x", "text": "Thanks for your time"}})
    _post(client, {"event": "template_sent", "data": []})  # a body of an unexpected shape is still kept
    assert _snapshot(log) == settled
    assert ProviderWebhookEvent.objects.filter(outcome="stale").count() == 2


def test_only_call_ended_is_parsed_as_a_settling_event():
    (ended,) = parse_payload(call_ended(5))
    (started,) = parse_payload({**call_ended(5), "event": "call_started"})
    (bare,) = parse_payload(call_ended(5)["data"])  # the data posted without its envelope is a report
    assert ended.changes_call and bare.changes_call and not started.changes_call
    assert started.call_log_id == 5 and started.raw_status == "call_started"


# --- defect 4: reports the product did not ask for ----------------------------------------------
@pytest.mark.django_db
def test_an_unknown_call_sid_with_our_call_log_id_matches(client, lead):
    log = make_ck_log(lead, status="initiated", provider_call_id="sid-we-received")
    _post(client, call_ended(log.pk, callSid="sid-call-karo-made-on-its-own"))
    log.refresh_from_db()
    assert log.status == "completed" and log.provider_call_id == "sid-we-received"
    assert [t["call_sid"] for t in log.tries] == ["sid-call-karo-made-on-its-own"]
    assert ProviderWebhookEvent.objects.get().call_log_id == log.pk


@pytest.mark.django_db
def test_call_log_id_is_matched_before_the_call_sid(client, lead, other_lead):
    ours = make_ck_log(lead, status="initiated")
    other = make_ck_log(other_lead, status="initiated", provider_call_id="sid-shared")
    _post(client, call_ended(ours.pk, callSid="sid-shared"))
    ours.refresh_from_db()
    other.refresh_from_db()
    assert ours.status == "completed" and other.status == "initiated"


@pytest.mark.django_db
def test_without_our_id_the_call_sid_matches(client, lead):
    log = make_ck_log(lead, status="initiated", provider_call_id="sid-known")
    _post(client, call_ended(None, callSid="sid-known"))
    log.refresh_from_db()
    assert log.status == "completed"


@pytest.mark.django_db
def test_the_agent_that_spoke_is_kept_beside_the_one_requested(client, lead):
    log = make_ck_log(lead, status="initiated", metadata_sent={"agent_id": "agent-asked"})
    _post(client, call_ended(log.pk, agent="agent-transferred-to", next_call_scheduled=True))
    log.refresh_from_db()
    assert log.spoken_agent_id == "agent-transferred-to" and log.metadata_sent["agent_id"] == "agent-asked"
    assert log.next_call_scheduled is True and log.tries[0]["spoken_agent_id"] == "agent-transferred-to"


def _try(log_pk, try_count, *, connected, sid=None):
    fields = {"callSid": sid or f"sid-try-{try_count}", "try_count": try_count}
    if not connected:
        fields.update(hangup_reason="USER_UNAVAILABLE", call_duration=0, transcription="", post_call={})
    return call_ended(log_pk, **fields)


@pytest.mark.django_db
def test_a_second_try_is_kept_as_an_attempt_and_becomes_the_outcome(client, lead):
    log = make_ck_log(lead, status="initiated")
    _post(client, _try(log.pk, 0, connected=False))
    log.refresh_from_db()
    assert log.status == "no_answer"
    _post(client, _try(log.pk, 1, connected=True))
    log.refresh_from_db()
    assert (log.status, log.try_count) == ("completed", 1)
    assert [(t["try_count"], t["status"], t["call_sid"]) for t in log.tries] == [
        (0, "no_answer", "sid-try-0"),
        (1, "completed", "sid-try-1"),
    ]
    assert log.tries[0]["hangup_reason"] == "USER_UNAVAILABLE"


@pytest.mark.django_db
def test_a_later_unanswered_try_never_overwrites_a_conversation(client, lead):
    log = make_ck_log(lead, status="initiated")
    _post(client, _try(log.pk, 0, connected=True))
    conversation = _snapshot(log)[:5]
    _post(client, _try(log.pk, 1, connected=False))
    log.refresh_from_db()
    assert _snapshot(log)[:5] == conversation and log.try_count == 0
    assert [(t["try_count"], t["status"]) for t in log.tries] == [(0, "completed"), (1, "no_answer")]
    row = ProviderWebhookEvent.objects.order_by("-id").first()
    assert row.outcome == "applied"  # recorded as an attempt: visible in the call's history


@pytest.mark.django_db
def test_tries_in_any_order_end_the_same(client, lead, other_lead):
    first, second = make_ck_log(lead, status="initiated"), make_ck_log(other_lead, status="initiated")
    for body in (_try(first.pk, 0, connected=True), _try(first.pk, 1, connected=False)):
        _post(client, body)
    for body in (_try(second.pk, 1, connected=False, sid="b-1"), _try(second.pk, 0, connected=True, sid="b-0")):
        _post(client, body)
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, first.try_count) == (second.status, second.try_count) == ("completed", 0)
    assert [t["try_count"] for t in first.tries] == [t["try_count"] for t in second.tries] == [0, 1]


@pytest.mark.django_db
def test_a_copy_of_a_try_completes_its_entry_without_adding_one(client, lead):
    log = make_ck_log(lead, status="initiated")
    _post(client, _try(log.pk, 0, connected=True))
    richer = _try(log.pk, 0, connected=True)
    richer["data"]["disposition_reason"] = "Asked for a brochure"
    _post(client, richer)
    log.refresh_from_db()
    assert len(log.tries) == 1


# --- defect 5: short calls carry default post-call values ------------------------------------------
def _short(log_pk, seconds, post_call):
    return call_ended(
        log_pk,
        call_duration=seconds,
        post_call=post_call,
        post_call_detail={},
        conversion_status=False,
        hangup_reason="CLIENT_INITIATED",
    )


@pytest.mark.django_db
def test_a_5_second_call_saying_not_interested_does_not_move_the_lead(client, lead):
    from telephony.models import CallOutcomeRule
    from telephony.outcomes import outcome_rules_seed

    outcome_rules_seed()
    CallOutcomeRule.objects.create(
        name="Not interested → do not call", post_call_key="lead_status", post_call_values="not interested",
        set_flag="do_not_call",
    )  # fmt: skip
    lead.stage = LeadStage.CONTACTED
    lead.save()
    log = make_ck_log(lead, status="initiated")
    _post(client, _short(log.pk, 5, {"lead_status": "not interested", "do_not_call": True}))
    log.refresh_from_db()
    lead.refresh_from_db()
    assert log.status == "completed" and log.post_call["lead_status"] == "not interested"  # stored
    assert lead.stage == LeadStage.CONTACTED and not lead.do_not_call
    assert not LeadActivity.objects.filter(lead=lead).exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("seconds", "stage"), [(5, LeadStage.CONTACTED), (10, LeadStage.CONTACTED), (11, "interested")]
)
def test_post_call_interest_counts_only_past_the_short_call_limit(client, lead, seconds, stage):
    log = make_ck_log(lead, status="initiated")
    _post(client, _short(log.pk, seconds, {"lead_status": "interested"}))
    lead.refresh_from_db()
    assert lead.stage == stage  # connected (duration > 0) is contacted either way


@pytest.mark.django_db
def test_the_short_call_limit_is_a_setting(client, lead, settings):
    settings.TELEPHONY_SHORT_CALL_SECONDS = 30
    log = make_ck_log(lead, status="initiated")
    _post(client, _short(log.pk, 20, {"lead_status": "interested", "do_not_call": True}))
    lead.refresh_from_db()
    assert lead.stage == LeadStage.CONTACTED and not lead.do_not_call


@pytest.mark.django_db
def test_the_tries_are_visible_in_the_lead_call_history(client, lead, manager_client):
    log = make_ck_log(lead, status="initiated")
    _post(client, _try(log.pk, 0, connected=False))
    _post(client, _try(log.pk, 1, connected=True))
    from django.urls import reverse

    page = manager_client.get(reverse("crm:call_history", args=[lead.pk])).content.decode()
    assert "2 tries reported" in page and "USER_UNAVAILABLE" in page
