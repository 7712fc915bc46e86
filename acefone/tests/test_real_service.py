"""Acefone on the day it meets the real service (issue 13): no call cut off after 30 s, the token and
the maximum call length on the config page, ref_id kept and matched, real hang-up causes, form posts."""

from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest
import responses
from django.db import connection
from django.urls import reverse

from acefone.config import get_effective_config
from acefone.models import AcefoneCallLog, AcefoneConfig
from acefone.webhooks import HANGUP_CAUSE_STATUS, cause_key, parse_payload
from telephony.models import ProviderWebhookEvent
from telephony.services import call_place
from telephony.status import CallStatus
from telephony.tests.webhook_samples import AF_SECRET, acefone_hangup, final_receivers_only, make_af_log, post_json

AF = "https://api.acefone.contract.test"
ENV_TOKEN = "af-env-token-1111"
SAVED_TOKEN = "af-saved-token-2222"
URL = "/acefone-webhook/"


@pytest.fixture(autouse=True)
def _env(settings, monkeypatch):
    settings.ACEFONE_BASE_URL = AF
    settings.ACEFONE_API_TOKEN = ENV_TOKEN
    settings.ACEFONE_CALLER_ID = "918069000001"
    settings.ACEFONE_MAX_CALL_SECONDS = None
    settings.ACEFONE_WEBHOOK_SECRET = AF_SECRET
    settings.TELEPHONY_HTTP_BACKOFF = 0
    final_receivers_only(monkeypatch)


def _ok(**extra):
    responses.post(
        f"{AF}/v1/click_to_call", json={"success": True, "message": "Originate successfully queued", **extra}
    )


def _save(client, **data):
    return client.post(reverse("acefone:save_settings"), {"api_token": "", "max_call_seconds": "", **data})


# --- defect 1: no call_timeout unless an admin sets a maximum call length ----------------------------
@responses.activate
@pytest.mark.django_db
def test_a_human_call_sends_no_call_timeout_by_default(lead, rep):
    _ok()
    call_place(provider="acefone", lead=lead, team_member=rep)
    assert "call_timeout" not in json.loads(responses.calls[0].request.body)


@responses.activate
@pytest.mark.django_db
def test_a_maximum_call_length_set_on_the_config_page_is_sent(lead, rep, admin_client_member):
    assert _save(admin_client_member, max_call_seconds="3600").status_code == 302
    _ok()
    call_place(provider="acefone", lead=lead, team_member=rep)
    assert json.loads(responses.calls[0].request.body)["call_timeout"] == 3600


@responses.activate
@pytest.mark.django_db
def test_the_environment_maximum_is_the_initial_value(lead, rep, settings):
    settings.ACEFONE_MAX_CALL_SECONDS = 1800
    _ok()
    call_place(provider="acefone", lead=lead, team_member=rep)
    assert json.loads(responses.calls[0].request.body)["call_timeout"] == 1800


@pytest.mark.django_db
@pytest.mark.parametrize("seconds", ["30", "59", "0", "-1", "abc"])
def test_a_maximum_under_a_minute_is_refused(admin_client_member, seconds):
    response = _save(admin_client_member, max_call_seconds=seconds)
    assert response.status_code == 302
    assert get_effective_config().max_call_seconds is None
    page = admin_client_member.get(reverse("callkaro:config")).content.decode()
    assert "Acefone settings not saved" in page


# --- defect 7: the token on the config page ---------------------------------------------------------
@responses.activate
@pytest.mark.django_db
def test_a_token_saved_on_the_config_page_is_encrypted_used_and_never_shown(lead, rep, admin_client_member):
    _save(admin_client_member, api_token=SAVED_TOKEN)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT api_token_encrypted FROM {AcefoneConfig._meta.db_table}")  # noqa: S608
        (stored,) = cursor.fetchone()
    assert SAVED_TOKEN not in stored and stored
    page = admin_client_member.get(reverse("callkaro:config")).content.decode()
    assert "••••2222" in page and SAVED_TOKEN not in page and "saved here" in page
    _ok()
    call_place(provider="acefone", lead=lead, team_member=rep)
    assert responses.calls[0].request.headers["Authorization"] == f"Bearer {SAVED_TOKEN}"


@responses.activate
@pytest.mark.django_db
def test_the_environment_token_is_used_until_one_is_saved_and_after_it_is_removed(lead, rep, admin_client_member):
    assert get_effective_config().token_source == "environment"
    _save(admin_client_member, api_token=SAVED_TOKEN)
    _save(admin_client_member, clear_api_token="on")
    _ok()
    call_place(provider="acefone", lead=lead, team_member=rep)
    assert responses.calls[0].request.headers["Authorization"] == f"Bearer {ENV_TOKEN}"


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["rep_client", "manager_client"])
def test_only_admins_change_acefone_settings(request, who):
    response = _save(request.getfixturevalue(who), api_token=SAVED_TOKEN)
    assert response.status_code == 403 and not AcefoneConfig.objects.exists()


# --- defect 7: ref_id -----------------------------------------------------------------------------
@responses.activate
@pytest.mark.django_db
def test_ref_id_is_kept_and_a_hang_up_carrying_it_matches(client, lead, rep):
    _ok(ref_id="ref-5521")
    log = call_place(provider="acefone", lead=lead, team_member=rep).call_log
    assert log.provider_call_id == "ref-5521"
    body = acefone_hangup(None, ref_id="ref-5521", call_to_number="910000000000")  # no custom_identifier
    assert post_json(client, URL, body, token=AF_SECRET).status_code == 200
    log.refresh_from_db()
    assert log.status == CallStatus.COMPLETED
    assert ProviderWebhookEvent.objects.get().call_log_id == log.pk


@pytest.mark.django_db
def test_custom_identifier_still_matches_when_a_ref_id_was_kept(client, lead):
    log = make_af_log(lead, provider_call_id="ref-9")
    post_json(client, URL, acefone_hangup(log.pk), token=AF_SECRET)
    log.refresh_from_db()
    assert log.status == CallStatus.COMPLETED


# --- defect 7: Acefone's real hang-up causes --------------------------------------------------------
CAUSES = [
    # hang-up cause as sent, status of a missed call the agent answered, stored cause
    ("NORMAL_CLEARING", CallStatus.NO_ANSWER, "NORMAL_CLEARING"),
    ("NormalClearing", CallStatus.NO_ANSWER, "NORMAL_CLEARING"),
    ("USER_BUSY", CallStatus.BUSY, "USER_BUSY"),
    ("UserBusy", CallStatus.BUSY, "USER_BUSY"),
    ("NO_ANSWER", CallStatus.NO_ANSWER, "NO_ANSWER"),
    ("CALL_REJECTED", CallStatus.NO_ANSWER, "CALL_REJECTED"),
    ("CallRejected", CallStatus.NO_ANSWER, "CALL_REJECTED"),
    ("ORIGINATOR_CANCEL", CallStatus.NO_ANSWER, "ORIGINATOR_CANCEL"),
    ("NO_USER_RESPONSE", CallStatus.NO_ANSWER, "NO_USER_RESPONSE"),
    ("UNALLOCATED_NUMBER", CallStatus.FAILED, "UNALLOCATED_NUMBER"),
    ("UnallocatedNumber", CallStatus.FAILED, "UNALLOCATED_NUMBER"),
    ("INVALID_NUMBER_FORMAT", CallStatus.FAILED, "INVALID_NUMBER_FORMAT"),
    ("MEDIA_TIMEOUT_SOMETHING_NEW", CallStatus.NO_ANSWER, "MEDIA_TIMEOUT_SOMETHING_NEW"),
    ("SomethingNew", CallStatus.NO_ANSWER, "SomethingNew"),  # unknown: kept raw
]


@pytest.mark.parametrize(("cause", "status", "stored"), CAUSES)
def test_hang_up_causes_table(cause, status, stored):
    body = acefone_hangup(7, call_status="missed", billsec="0", hangup_cause=cause)
    (event,) = parse_payload(body)
    assert (event.status, event.extras["hangup_cause"]) == (status, stored)


def test_every_mapped_cause_is_in_the_table_test():
    assert {cause_key(cause) for cause, _status, _stored in CAUSES} >= set(HANGUP_CAUSE_STATUS) - {
        "SUBSCRIBER_ABSENT",
        "ALLOTTED_TIMEOUT",
        "NO_ROUTE_DESTINATION",
        "NETWORK_OUT_OF_ORDER",
        "NORMAL_TEMPORARY_FAILURE",
        "RECOVERY_ON_TIMER_EXPIRE",
    }


def test_an_answered_call_with_talk_time_is_completed_whatever_the_cause():
    (event,) = parse_payload(acefone_hangup(7, hangup_cause="NormalClearing"))
    assert event.status == CallStatus.COMPLETED


# --- defect 7: JSON or form-encoded --------------------------------------------------------------
@pytest.mark.django_db
def test_a_form_encoded_hang_up_is_accepted_like_json(client, lead):
    log = make_af_log(lead)
    body = urlencode(acefone_hangup(log.pk))
    response = client.post(f"{URL}?token={AF_SECRET}", data=body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 200, response.content
    row = ProviderWebhookEvent.objects.get()
    assert row.is_authenticated and json.loads(row.body)["custom_identifier"] == f"acefone-log-{log.pk}"


@pytest.mark.django_db
def test_a_form_encoded_hang_up_settles_the_call(client, lead):
    log = make_af_log(lead)
    post_json(
        client,
        URL,
        urlencode(acefone_hangup(log.pk)),
        token=AF_SECRET,
        content_type="application/x-www-form-urlencoded",
    )
    log.refresh_from_db()
    assert log.status == CallStatus.COMPLETED and log.billsec == 163


@pytest.mark.django_db
def test_a_form_with_a_bad_token_is_refused(client, lead):
    log = make_af_log(lead)
    response = client.post(
        f"{URL}?token=wrong", data=urlencode(acefone_hangup(log.pk)), content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 401
    log.refresh_from_db()
    assert log.status == "initiated"


@pytest.mark.django_db
def test_other_content_types_are_still_refused(client):
    response = client.post(f"{URL}?token={AF_SECRET}", data="x", content_type="text/plain")
    assert response.status_code == 415 and not AcefoneCallLog.objects.exists()
