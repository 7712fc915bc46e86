"""Call Karo's webhook: the real envelope, the simple form, the hang-up table, the two copies."""

from __future__ import annotations

import copy
import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from callkaro.webhooks import HANGUP_REASON_STATUS, WebhookPayloadError, hangup_status, parse_payload
from crm.models import LeadActivity
from telephony.models import ProviderWebhookEvent
from telephony.tests.webhook_samples import (
    CALL_ENDED,
    CALL_ENDED_NO_ANSWER,
    CK_SECRET,
    LONG_TRANSCRIPT,
    SIMPLE_STATUS,
    WebhookAuthSuite,
    call_ended,
    final_followups,
    final_receivers_only,
    make_ck_log,
    post_json,
    stored_outcome,
)

URL = "/callkaro-webhook/"


@pytest.fixture(autouse=True)
def _secret(settings, monkeypatch):
    settings.CALLKARO_WEBHOOK_SECRET = CK_SECRET
    settings.CALLKARO_TIME_ZONE = "Asia/Kolkata"
    final_receivers_only(monkeypatch)


class TestCallKaroWebhookAuth(WebhookAuthSuite):
    url = URL
    secret = CK_SECRET

    @pytest.fixture
    def the_log(self, lead):
        return make_ck_log(lead)

    @pytest.fixture
    def good_body(self, the_log):
        return call_ended(the_log.pk, transcription=LONG_TRANSCRIPT)

    def add_second_secret(self, settings, secret):
        from callkaro.models import CallKaroConfig
        from crm import crypto

        CallKaroConfig.objects.create(webhook_secrets_encrypted=crypto.encrypt(json.dumps([secret, CK_SECRET])))

    def clear_secrets(self, settings):
        settings.CALLKARO_WEBHOOK_SECRET = ""


# --- parsing ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reason", "duration", "status"),
    [
        ("CLIENT_INITIATED", 143, "completed"),
        ("PARTICIPANT_REMOVED", 5, "completed"),
        ("SESSION_TIMEOUT", 600, "completed"),
        ("CLIENT_INITIATED", 0, "no_answer"),
        ("USER_UNAVAILABLE", 0, "no_answer"),
        ("USER_UNRESPONSIVE", 0, "no_answer"),
        ("USER_REJECTED", 0, "no_answer"),
        ("VOICEMAIL_DETECTED", 12, "no_answer"),
        ("INVALID_PHONE_NUMBER", 0, "failed"),
        ("DELETED_SCH_CALL_ALL", 0, "cancelled"),
        ("DELETED_SCH_CALL_ONE", 0, "cancelled"),
        ("DELETED_SCH_CALL_SOMETHING_NEW", 0, "cancelled"),
        ("OUTSIDE_TRIGGER_WINDOW", 0, "no_answer"),
        ("PRE_CALL_FN_FAILED", 0, "failed"),
        ("UNKNOWN", 0, "unknown"),
        ("A_REASON_FROM_NEXT_YEAR", 30, "unknown"),
        ("", 30, "unknown"),
    ],
)
def test_hangup_table(reason, duration, status):
    assert hangup_status(reason, duration) == status


def test_every_documented_reason_is_in_the_table():
    documented = {
        "CLIENT_INITIATED", "PARTICIPANT_REMOVED", "SESSION_TIMEOUT", "VOICEMAIL_DETECTED", "USER_REJECTED",
        "USER_UNAVAILABLE", "USER_UNRESPONSIVE", "INVALID_PHONE_NUMBER", "OUTSIDE_TRIGGER_WINDOW",
        "PRE_CALL_FN_FAILED", "UNKNOWN",
    }  # fmt: skip
    assert documented <= HANGUP_REASON_STATUS.keys()


@pytest.mark.django_db
def test_parse_real_envelope():
    [event] = parse_payload(CALL_ENDED)
    assert (event.status, event.call_log_id, event.provider_call_id) == ("completed", 42, "6811c0de2a4b9e0012ab34cd")
    assert event.duration == 143 and event.try_count == 0 and event.raw_status == "CLIENT_INITIATED"
    assert event.extras["converted"] is True
    assert event.extras["post_call"]["lead_status"] == "interested"
    assert event.extras["disposition"] == "Interested, site visit requested"
    assert event.raw == CALL_ENDED


@pytest.mark.django_db
def test_zone_less_time_is_read_in_the_configured_zone(settings):
    [event] = parse_payload(CALL_ENDED)
    assert event.occurred_at == datetime(2026, 11, 20, 11, 42, 7, tzinfo=ZoneInfo("Asia/Kolkata"))
    assert event.extras["ended_at"] - event.occurred_at == timedelta(seconds=143)
    settings.CALLKARO_TIME_ZONE = "Asia/Dubai"
    [event] = parse_payload(CALL_ENDED)
    assert event.occurred_at.utcoffset() == timedelta(hours=4)


@pytest.mark.django_db
def test_parse_leniently_numbers_as_strings_and_missing_fields():
    body = copy.deepcopy(CALL_ENDED_NO_ANSWER)
    body["data"].update(call_duration="0", try_count="1", call_metadata='{"call_log_id": "43"}')
    del body["data"]["time"], body["data"]["recordingUrl"]
    [event] = parse_payload(body)
    assert (event.status, event.call_log_id, event.try_count, event.duration) == ("no_answer", 43, 1, 0)
    assert event.occurred_at is None


@pytest.mark.django_db
def test_parse_simple_form():
    [event] = parse_payload(SIMPLE_STATUS)
    assert (event.status, event.provider_call_id, event.duration) == ("completed", "6811c0de2a4b9e0012ab34cd", 120)
    assert parse_payload({"call_id": "x", "status": "missed"})[0].status == "no_answer"
    assert parse_payload({"call_id": "x", "status": "failed"})[0].status == "failed"
    assert parse_payload({"call_id": "x", "status": "weird"})[0].status == "unknown"


@pytest.mark.django_db
@pytest.mark.parametrize("payload", [{}, [], 5, "text", None, {"event": "call_ended"}, {"status": "completed"}])
def test_unrecognisable_payload_raises(payload):
    with pytest.raises(WebhookPayloadError):
        parse_payload(payload)


@pytest.mark.django_db
def test_account_and_agent_copies_share_a_dedup_key():
    account = copy.deepcopy(CALL_ENDED)
    agent = copy.deepcopy(CALL_ENDED)
    agent["data"] = dict(reversed(list(agent["data"].items())))
    agent["data"]["call_duration"] = "143"
    agent["agent_level"] = True
    assert json.dumps(account) != json.dumps(agent)
    assert parse_payload(account)[0].dedup_key == parse_payload(agent)[0].dedup_key
    retry = copy.deepcopy(CALL_ENDED)
    retry["data"]["try_count"] = 1
    assert parse_payload(retry)[0].dedup_key != parse_payload(account)[0].dedup_key


# --- through the endpoint ------------------------------------------------------------------------


@pytest.mark.django_db
def test_real_payload_with_long_transcript_is_applied(client, lead, django_capture_on_commit_callbacks):
    log = make_ck_log(lead)
    body = call_ended(log.pk, transcription=LONG_TRANSCRIPT)
    assert len(json.dumps(body)) > 100_000
    with django_capture_on_commit_callbacks(execute=True):
        response = post_json(client, URL, body, token=CK_SECRET, commit=False)
    assert response.status_code == 200
    assert stored_outcome(response) == "applied"
    log.refresh_from_db()
    assert log.status == "completed" and log.duration_seconds == 143
    assert log.transcript == LONG_TRANSCRIPT
    assert log.provider_call_id == "6811c0de2a4b9e0012ab34cd"
    assert log.hangup_reason == "CLIENT_INITIATED" and log.converted is True
    assert log.recording_url.endswith(".mp3") and log.call_link.startswith("https://")
    assert log.post_call["site_visit_day"] == "Saturday" and log.disposition.startswith("Interested")
    assert log.ended_at == datetime(2026, 11, 20, 11, 44, 30, tzinfo=ZoneInfo("Asia/Kolkata"))
    lead.refresh_from_db()
    assert lead.stage == "converted"  # the provider marked it converted: that beats "interested" and "contacted"
    activity = LeadActivity.objects.get(lead=lead, kind="stage")
    assert (activity.actor_label, activity.call_ref) == ("Call Karo webhook", f"callkaro:{log.pk}")


@pytest.mark.django_db
def test_the_two_copies_produce_one_effect(client, lead, django_capture_on_commit_callbacks):
    log = make_ck_log(lead)
    account = call_ended(log.pk)
    agent = copy.deepcopy(account)
    agent["data"]["call_duration"] = "143"
    agent["data"]["agent"] = agent["data"].pop("agent")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        first = post_json(client, URL, account, token=CK_SECRET, commit=False)
        second = post_json(client, URL, agent, token=CK_SECRET, commit=False)
    assert (first.status_code, second.status_code) == (200, 200)
    assert [stored_outcome(r) for r in (first, second)] == ["applied", "duplicate"]
    assert len(final_followups(callbacks)) == 1  # one follow-up: one lead update, one campaign count
    assert LeadActivity.objects.filter(lead=lead, kind="stage").count() == 1
    assert ProviderWebhookEvent.objects.exclude(dedup_key="").count() == 1
    assert ProviderWebhookEvent.objects.filter(outcome="duplicate").count() == 1


@pytest.mark.django_db
def test_another_try_updates_the_same_log(client, lead):
    log = make_ck_log(lead, number_of_retries=2)
    no_answer = call_ended(log.pk, hangup_reason="USER_UNAVAILABLE", call_duration=0, try_count=0, transcription="")
    answered = call_ended(log.pk, try_count=1, call_duration=60)
    post_json(client, URL, no_answer, token=CK_SECRET)
    log.refresh_from_db()
    assert (log.status, log.try_count) == ("no_answer", 0)
    post_json(client, URL, answered, token=CK_SECRET)
    post_json(client, URL, no_answer, token=CK_SECRET)  # a late copy of the first try
    log.refresh_from_db()
    assert (log.status, log.try_count, log.duration_seconds) == ("completed", 1, 60)
    assert type(log).objects.count() == 1


@pytest.mark.django_db
def test_late_event_never_moves_a_final_call_back_but_fills_missing_extras(client, lead):
    log = make_ck_log(lead, status="completed", duration_seconds=143)
    body = call_ended(log.pk, hangup_reason="USER_UNAVAILABLE", call_duration=0)
    assert post_json(client, URL, body, token=CK_SECRET).status_code == 200
    log.refresh_from_db()
    assert (log.status, log.duration_seconds) == ("completed", 143)
    assert log.transcript  # was empty, filled in
    row = ProviderWebhookEvent.objects.get()
    assert row.outcome == "applied"
    post_json(client, URL, call_ended(log.pk, hangup_reason="USER_REJECTED"), token=CK_SECRET)
    assert ProviderWebhookEvent.objects.order_by("-id").first().outcome == "stale"


@pytest.mark.django_db
def test_simple_form_matches_by_provider_call_id(client, lead):
    log = make_ck_log(lead, provider_call_id="6811c0de2a4b9e0012ab34cd")
    assert post_json(client, URL, SIMPLE_STATUS, token=CK_SECRET).status_code == 200
    log.refresh_from_db()
    assert (log.status, log.duration_seconds, log.raw_status) == ("completed", 120, "completed")


@pytest.mark.django_db
def test_invalid_number_flags_the_lead(client, lead, django_capture_on_commit_callbacks):
    log = make_ck_log(lead)
    body = call_ended(
        log.pk,
        hangup_reason="INVALID_PHONE_NUMBER",
        call_duration=0,
        conversion_status=False,
        post_call={},
        post_call_detail={},
    )
    with django_capture_on_commit_callbacks(execute=True):
        post_json(client, URL, body, token=CK_SECRET, commit=False)
    log.refresh_from_db()
    lead.refresh_from_db()
    assert log.status == "failed" and lead.phone_invalid and lead.stage == "new"


@pytest.mark.django_db
def test_nul_characters_in_the_payload_do_not_fail_the_event(client, lead):
    log = make_ck_log(lead)
    body = call_ended(log.pk, post_call={"lead_status": "interested\u0000", "note\u0000": ["a\u0000"]})
    body["data"]["transcription"] = "hello\u0000world"
    assert post_json(client, URL, body, token=CK_SECRET).status_code == 200
    log.refresh_from_db()
    assert log.status == "completed" and log.transcript == "helloworld"
    assert log.post_call == {"lead_status": "interested", "note": ["a"]}
    assert ProviderWebhookEvent.objects.get().outcome == "applied"


@pytest.mark.django_db
def test_webhook_answers_fast(client, lead):
    import time

    log = make_ck_log(lead)
    started = time.monotonic()
    assert post_json(client, URL, call_ended(log.pk, transcription=LONG_TRANSCRIPT), token=CK_SECRET).status_code == 200
    assert time.monotonic() - started < 1.0  # Call Karo gives us 5 s


@pytest.mark.django_db
def test_a_later_richer_delivery_fills_in_the_transcript(client, lead, django_capture_on_commit_callbacks):
    log = make_ck_log(lead)
    bare = call_ended(log.pk, transcription="", recordingUrl="")
    rich = call_ended(log.pk)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        responses = [post_json(client, URL, b, token=CK_SECRET, commit=False) for b in (bare, rich)]
    assert [stored_outcome(r) for r in responses] == ["applied", "applied"]
    log.refresh_from_db()
    assert log.status == "completed" and log.transcript and log.recording_url
    assert len(final_followups(callbacks)) == 1  # the call turned final once


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("outcome", "status"), [("connected", "completed"), ("voicemail", "no_answer"), ("rejected", "no_answer")]
)
def test_the_sandbox_bodies_are_understood(client, lead, outcome, status):
    """The sandbox posts the documented envelope; it must settle the call (a contract test)."""
    import random

    from callkaro.sandbox import call_ended_payload

    log = make_ck_log(lead)
    request = {"to_number": str(lead.phone), "agent_id": "a1", "metadata": {"call_log_id": log.pk}}
    body = call_ended_payload(request, "sid-sandbox", outcome, random.Random(1))
    assert post_json(client, URL, body, token=CK_SECRET).status_code == 200
    log.refresh_from_db()
    assert log.status == status and log.provider_call_id == "sid-sandbox"
