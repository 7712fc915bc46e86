"""Acefone's webhook: answered and hang-up events, agent vs customer no-answer, matching."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import responses
from django.utils import timezone

from acefone.webhooks import WebhookPayloadError, parse_payload
from crm.models import LeadActivity
from telephony.models import ProviderWebhookEvent
from telephony.tests.webhook_samples import (
    ACEFONE_HANGUP,
    AF_SECRET,
    WebhookAuthSuite,
    acefone_hangup,
    final_receivers_only,
    make_af_log,
    post_json,
)

URL = "/acefone-webhook/"


@pytest.fixture(autouse=True)
def _secret(settings, monkeypatch):
    settings.ACEFONE_WEBHOOK_SECRET = AF_SECRET
    final_receivers_only(monkeypatch)


class TestAcefoneWebhookAuth(WebhookAuthSuite):
    url = URL
    secret = AF_SECRET

    @pytest.fixture
    def the_log(self, lead):
        return make_af_log(lead)

    @pytest.fixture
    def good_body(self, the_log):
        return acefone_hangup(the_log.pk)

    def add_second_secret(self, settings, secret):
        settings.ACEFONE_WEBHOOK_SECRET = f"{AF_SECRET}, {secret}"

    def clear_secrets(self, settings):
        settings.ACEFONE_WEBHOOK_SECRET = ""


# --- parsing -------------------------------------------------------------------------------------


def test_answered_hangup():
    [event] = parse_payload(ACEFONE_HANGUP)
    assert (event.status, event.call_log_id, event.provider_call_id) == ("completed", 77, "1714657799.11930963")
    assert event.duration == 163 and event.extras["billsec"] == 163
    assert (event.extras["agent_answered"], event.extras["customer_answered"]) == (True, True)
    assert event.extras["answered_at"] == datetime(2026, 11, 20, 12, 1, 19, tzinfo=ZoneInfo("Asia/Kolkata"))
    assert event.extras["ended_at"] == datetime(2026, 11, 20, 12, 4, 2, tzinfo=ZoneInfo("Asia/Kolkata"))


def test_agent_did_not_answer():
    body = acefone_hangup(5, call_status="missed", answered_agent_number="", billsec="0", answer_stamp="")
    [event] = parse_payload(body)
    assert event.status == "no_answer" and event.raw_status == "missed"
    assert (event.extras["agent_answered"], event.extras["customer_answered"]) == (False, None)


def test_customer_did_not_answer():
    body = acefone_hangup(5, call_status="missed", billsec="0", hangup_cause="NO_ANSWER")
    [event] = parse_payload(body)
    assert event.status == "no_answer"
    assert (event.extras["agent_answered"], event.extras["customer_answered"]) == (True, False)


@pytest.mark.parametrize(("cause", "status"), [("USER_BUSY", "busy"), ("UNALLOCATED_NUMBER", "failed")])
def test_customer_busy_or_bad_number(cause, status):
    [event] = parse_payload(acefone_hangup(5, call_status="missed", billsec="0", hangup_cause=cause))
    assert event.status == status


def test_unknown_call_status_is_kept_raw():
    [event] = parse_payload(acefone_hangup(5, call_status="transferred"))
    assert (event.status, event.raw_status) == ("unknown", "transferred")


def test_agent_answered_event_is_ringing_and_has_its_own_dedup_key():
    answered = {k: ACEFONE_HANGUP[k] for k in ("call_id", "uuid", "call_to_number", "answered_agent_number")}
    [event] = parse_payload({**answered, "event": "agent_answered", "custom_identifier": "9"})
    assert event.status == "ringing" and event.extras["agent_answered"] is True
    assert event.dedup_key != parse_payload(acefone_hangup(9))[0].dedup_key


@pytest.mark.parametrize("payload", [{}, [], {"foo": 1}, 3, None])
def test_unrecognisable_payload_raises(payload):
    with pytest.raises(WebhookPayloadError):
        parse_payload(payload)


# --- through the endpoint ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_hangup_applies_and_marks_the_lead_contacted(client, lead, django_capture_on_commit_callbacks):
    log = make_af_log(lead)
    with django_capture_on_commit_callbacks(execute=True):
        assert post_json(client, URL, acefone_hangup(log.pk), token=AF_SECRET, commit=False).status_code == 200
    log.refresh_from_db()
    assert (log.status, log.duration_seconds, log.billsec) == ("completed", 163, 163)
    assert log.provider_call_id == "1714657799.11930963" and log.call_uuid.startswith("5d7c2b1e")
    assert log.agent_answered is True and log.customer_answered is True and log.hangup_cause == "NORMAL_CLEARING"
    lead.refresh_from_db()
    assert lead.stage == "contacted"
    activity = LeadActivity.objects.get(lead=lead, kind="stage")
    assert (activity.actor_label, activity.call_ref) == ("Acefone webhook", f"acefone:{log.pk}")


@pytest.mark.django_db
def test_answered_then_hangup_in_any_order(client, lead):
    log = make_af_log(lead)
    answered = {"event": "agent_answered", "call_id": "c-1", "custom_identifier": str(log.pk), "call_to_number": "1"}
    hangup = acefone_hangup(log.pk, call_id="c-1")
    post_json(client, URL, hangup, token=AF_SECRET)
    post_json(client, URL, answered, token=AF_SECRET)
    log.refresh_from_db()
    assert log.status == "completed"


@pytest.mark.django_db
def test_match_by_number_and_time_without_custom_identifier(client, lead):
    log = make_af_log(lead)
    other = make_af_log(lead)
    type(other).objects.filter(pk=other.pk).update(created_at=timezone.now() - timedelta(days=2))
    now = timezone.localtime()
    body = acefone_hangup(
        None,
        call_to_number=str(lead.phone).lstrip("+"),
        start_stamp=now.strftime("%Y-%m-%d %H:%M:%S"),
        answer_stamp=now.strftime("%Y-%m-%d %H:%M:%S"),
        end_stamp=(now + timedelta(minutes=3)).strftime("%Y-%m-%d %H:%M:%S"),
    )
    assert post_json(client, URL, body, token=AF_SECRET).status_code == 200
    log.refresh_from_db()
    other.refresh_from_db()
    assert log.status == "completed" and other.status == "initiated"
    assert ProviderWebhookEvent.objects.get().call_log_id == log.pk


@pytest.mark.django_db
def test_unmatched_number_is_stored_as_unmatched(client, lead):
    make_af_log(lead)
    body = acefone_hangup(None, call_to_number="911111111111")
    assert post_json(client, URL, body, token=AF_SECRET).status_code == 200
    assert ProviderWebhookEvent.objects.get().outcome == "unmatched"


@pytest.mark.django_db
def test_stuck_acefone_call_reconciled_from_call_records(lead, settings):
    from telephony.events import calls_stuck_settle

    settings.ACEFONE_API_TOKEN = "af-token"
    settings.ACEFONE_BASE_URL = "https://acefone.test"
    log = make_af_log(lead, status="ringing")
    stuck = make_af_log(lead, status="ringing", to_number="+919800099999")
    long_ago = timezone.now() - timedelta(hours=2)
    type(log).objects.filter(pk__in=[log.pk, stuck.pk]).update(created_at=long_ago)
    start = timezone.localtime(long_ago + timedelta(seconds=5)).strftime("%Y-%m-%d %H:%M:%S")
    # A record with the API's own names for some variables, and no custom_identifier.
    record = acefone_hangup(None, call_to_number=None, start_stamp=None, event=None)
    record.update(client_number=str(lead.phone).lstrip("+"), start_time=start)
    with responses.RequestsMock() as mock:
        mock.get("https://acefone.test/v1/call/records", json={"results": [record]})
        counts = calls_stuck_settle()
        assert mock.calls[0].request.headers["Authorization"] == "Bearer af-token"
        assert "page=1" in mock.calls[0].request.url and "from_date=" in mock.calls[0].request.url
    log.refresh_from_db()
    stuck.refresh_from_db()
    assert log.status == "completed" and log.provider_call_id == ACEFONE_HANGUP["call_id"]
    assert counts["reconciled"] == 1
    assert stuck.status == "unknown" and "a person should check" in stuck.error_message


@pytest.mark.django_db
def test_stuck_acefone_call_marked_unknown_when_acefone_is_down(lead, settings):
    from telephony.events import calls_stuck_settle

    settings.ACEFONE_API_TOKEN = "af-token"
    settings.ACEFONE_BASE_URL = "https://acefone.test"
    log = make_af_log(lead, status="initiated")
    type(log).objects.filter(pk=log.pk).update(created_at=timezone.now() - timedelta(hours=2))
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.get("https://acefone.test/v1/call/records", status=503)
        calls_stuck_settle()
    log.refresh_from_db()
    assert log.status == "unknown"


@pytest.mark.django_db
@pytest.mark.parametrize("outcome", ["answered", "missed"])
def test_the_sandbox_bodies_are_understood(client, lead, outcome):
    """The sandbox posts the documented bodies; they must settle the call (a contract test)."""
    import random

    from acefone.sandbox import call_events

    log = make_af_log(lead)
    request = {"destination_number": str(lead.phone).lstrip("+"), "agent_number": "0602000004"}
    for body in call_events({**request, "custom_identifier": str(log.pk)}, outcome, random.Random(4)):
        assert post_json(client, URL, body, token=AF_SECRET).status_code == 200
    log.refresh_from_db()
    assert log.status == ("completed" if outcome == "answered" else "no_answer")
    assert log.agent_answered is (outcome == "answered")
