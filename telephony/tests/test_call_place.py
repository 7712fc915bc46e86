"""call_place / call_dispatch: the one way a call is placed, through either provider."""

from __future__ import annotations

import json
import logging
from datetime import timedelta

import pytest
import requests
import responses
from django.core.cache import cache
from django.utils import timezone

from acefone.models import AcefoneCallLog
from callkaro.models import CallKaroAgent, CallKaroCallLog
from telephony.base import CallOptions
from telephony.breaker import breaker_for
from telephony.errors import ProviderUnavailable, ProviderUnsupported
from telephony.services import CallNotAllowed, call_cancel, call_dispatch, call_place
from telephony.status import CallStatus

CK = "https://ck.test"
AF = "https://af.test"
KEY = "sk-callkaro-test-key-1234"
TOKEN = "af-token-test-5678"


@pytest.fixture(autouse=True)
def _providers(settings):
    settings.CALLKARO_BASE_URL = CK
    settings.CALLKARO_API_KEY = KEY
    settings.CALLKARO_DEFAULT_AGENT_ID = "default-agent"
    settings.ACEFONE_BASE_URL = AF
    settings.ACEFONE_API_TOKEN = TOKEN
    settings.ACEFONE_CALLER_ID = "918069000001"
    settings.TELEPHONY_HTTP_BACKOFF = 0
    settings.TELEPHONY_BREAKER_THRESHOLD = 3
    cache.clear()
    yield
    cache.clear()


def ck_ok(call_sid="sid-1"):
    return responses.post(
        f"{CK}/call/outbound", json={"status": "done", "message": "Call queued successfully", "call_sid": call_sid}
    )


def af_ok():
    return responses.post(
        f"{AF}/v1/click_to_call", json={"success": "true", "message": "Originate successfully queued"}
    )


# --- refusals -----------------------------------------------------------------------------------
def test_do_not_call_is_refused(lead, rep):
    lead.do_not_call = True
    lead.save()
    with pytest.raises(CallNotAllowed) as exc:
        call_place(provider="callkaro", lead=lead, team_member=rep)
    assert exc.value.code == "do_not_call"
    assert not CallKaroCallLog.objects.exists()


def test_invalid_number_is_refused(lead, rep):
    lead.phone_invalid = True
    lead.save()
    with pytest.raises(CallNotAllowed) as exc:
        call_place(provider="acefone", lead=lead, team_member=rep)
    assert exc.value.code == "invalid_number"


@pytest.mark.parametrize(
    ("first", "second"), [("callkaro", "acefone"), ("acefone", "callkaro"), ("callkaro", "callkaro")]
)
@pytest.mark.parametrize("status", [CallStatus.QUEUED, CallStatus.DISPATCHING, CallStatus.RINGING])
def test_in_flight_with_any_provider_is_refused(lead, rep, first, second, status):
    model = CallKaroCallLog if first == "callkaro" else AcefoneCallLog
    extra = {"agent_number": "0602"} if first == "acefone" else {}
    model.objects.create(lead=lead, to_number=str(lead.phone), status=status, **extra)
    with pytest.raises(CallNotAllowed) as exc:
        call_place(provider=second, lead=lead, team_member=rep, dispatch="async")
    assert exc.value.code == "in_flight"


@pytest.mark.parametrize(("first", "second"), [("callkaro", "acefone"), ("acefone", "callkaro")])
def test_a_scheduled_call_is_superseded_by_a_reps_call_now(lead, rep, first, second):
    """A scheduled call never locks a lead: the rep's call goes ahead, the scheduled one is cancelled."""
    model = CallKaroCallLog if first == "callkaro" else AcefoneCallLog
    extra = {"agent_number": "0602"} if first == "acefone" else {}
    waiting = model.objects.create(lead=lead, to_number=str(lead.phone), status=CallStatus.SCHEDULED, **extra)
    outcome = call_place(provider=second, lead=lead, team_member=rep, dispatch="async")
    assert outcome.status == CallStatus.QUEUED
    waiting.refresh_from_db()
    assert waiting.status == CallStatus.CANCELLED
    assert waiting.skip_reason == "Superseded by a rep's call"


@responses.activate
def test_a_finished_call_does_not_block(lead, rep):
    AcefoneCallLog.objects.create(lead=lead, to_number=str(lead.phone), status=CallStatus.COMPLETED, agent_number="1")
    ck_ok()
    assert call_place(provider="callkaro", lead=lead, team_member=rep).ok


def test_not_configured(lead, rep, settings):
    settings.CALLKARO_API_KEY = ""
    with pytest.raises(CallNotAllowed) as exc:
        call_place(provider="callkaro", lead=lead, team_member=rep)
    assert exc.value.code == "not_configured"
    rep.acefone_agent_number = ""
    with pytest.raises(CallNotAllowed) as exc:
        call_place(provider="acefone", lead=lead, team_member=rep)
    assert exc.value.code == "not_configured"


def test_acefone_cannot_schedule(lead, rep):
    with pytest.raises(ProviderUnsupported):
        call_place(
            provider="acefone",
            lead=lead,
            team_member=rep,
            options=CallOptions(schedule_at=timezone.now() + timedelta(hours=1)),
        )


# --- scheduled, queued, sync, async -------------------------------------------------------------
@responses.activate
def test_scheduled_call_waits_for_the_scheduler(lead, rep, django_capture_on_commit_callbacks):
    when = timezone.now() + timedelta(hours=2)
    with django_capture_on_commit_callbacks() as callbacks:
        outcome = call_place(
            provider="callkaro", lead=lead, team_member=rep, options=CallOptions(schedule_at=when), dispatch="async"
        )
    assert outcome.status == CallStatus.SCHEDULED and outcome.ok
    assert outcome.call_log.scheduled_at == when
    assert not callbacks and not responses.calls


@responses.activate
def test_async_queues_and_dispatches_after_commit(lead, rep, django_capture_on_commit_callbacks):
    ck_ok()
    with django_capture_on_commit_callbacks() as callbacks:
        outcome = call_place(provider="callkaro", lead=lead, team_member=rep, dispatch="async")
        assert outcome.status == CallStatus.QUEUED
        assert not responses.calls  # nothing dialled before the commit
    assert len(callbacks) == 1
    callbacks[0]()  # the commit: the (eager) task runs
    log = CallKaroCallLog.objects.get()
    assert log.status == CallStatus.INITIATED and log.provider_call_id == "sid-1"
    assert len(responses.calls) == 1


@responses.activate
def test_sync_callkaro_call(lead, rep):
    agent = CallKaroAgent.objects.create(agent_id="agent-7", name="Asha")
    ck_ok("sid-42")
    outcome = call_place(
        provider="callkaro",
        lead=lead,
        team_member=rep,
        options=CallOptions(
            agent_id="agent-7", language="hi", number_of_retries=2, priority=5, metadata={"src": "panel"}
        ),
        log_fields={"agent": agent},
    )
    log = outcome.call_log
    assert outcome.ok and outcome.status == CallStatus.INITIATED and outcome.fallback is None
    assert log.provider_call_id == "sid-42" and log.initiated_at and log.dispatched_at
    assert log.metadata_sent == {"src": "panel", "call_log_id": log.pk, "lead_id": lead.pk}
    body = json.loads(responses.calls[0].request.body)
    assert body == {
        "to_number": str(lead.phone),
        "agent_id": "agent-7",
        "metadata": {
            # The lead fields chosen on the config page (the defaults here), the caller's extras, our ids.
            "lead_name": lead.name,
            "lead_city": lead.city,
            "lead_source": lead.get_source_display(),
            "rep_first_name": lead.assigned_to.name.split()[0] if lead.assigned_to else "",
            "src": "panel",
            "call_log_id": log.pk,
            "lead_id": lead.pk,
        },
        "number_of_retries": 2,
        "priority": 5,
        "language": "hi",
    }
    assert responses.calls[0].request.headers["X-API-KEY"] == KEY


@responses.activate
def test_sync_callkaro_uses_the_default_agent(lead, rep):
    ck_ok()
    call_place(provider="callkaro", lead=lead, team_member=rep)
    assert json.loads(responses.calls[0].request.body)["agent_id"] == "default-agent"


@responses.activate
def test_sync_acefone_call(lead, rep):
    af_ok()
    outcome = call_place(provider="acefone", lead=lead, team_member=rep)
    log = outcome.call_log
    assert outcome.ok and log.status == CallStatus.INITIATED and log.provider_call_id is None
    assert log.agent_number == rep.acefone_agent_number
    body = json.loads(responses.calls[0].request.body)
    assert body == {
        "agent_number": rep.acefone_agent_number,
        "destination_number": str(lead.phone).lstrip("+"),
        "caller_id": "918069000001",
        "async": "1",
        "custom_identifier": str(log.pk),
    }


# --- the claim ----------------------------------------------------------------------------------
@responses.activate
def test_the_claim_makes_a_second_dispatch_a_no_op(lead, rep, django_capture_on_commit_callbacks):
    ck_ok()
    with django_capture_on_commit_callbacks():
        log = call_place(provider="callkaro", lead=lead, team_member=rep, dispatch="async").call_log
    assert call_dispatch(provider="callkaro", call_log_id=log.pk) == CallStatus.INITIATED
    assert call_dispatch(provider="callkaro", call_log_id=log.pk) == CallStatus.INITIATED
    assert len(responses.calls) == 1


@responses.activate
def test_pre_dial_check_cancels_with_a_reason(lead, rep, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks():
        log = call_place(provider="callkaro", lead=lead, team_member=rep, dispatch="async").call_log
    lead.do_not_call = True
    lead.save()
    assert call_dispatch(provider="callkaro", call_log_id=log.pk) == CallStatus.CANCELLED
    log.refresh_from_db()
    assert "do-not-call" in log.skip_reason
    assert not responses.calls


# --- failures -----------------------------------------------------------------------------------
@responses.activate
def test_rejected_is_failed_with_the_providers_message(lead, rep):
    responses.post(f"{CK}/call/outbound", json={"status": "error", "message": "Agent does not exist"}, status=404)
    outcome = call_place(provider="callkaro", lead=lead, team_member=rep)
    assert outcome.status == CallStatus.FAILED and not outcome.ok and outcome.fallback is None
    assert not outcome.unavailable  # refused, not down: no other provider is offered
    assert outcome.call_log.error_message == "Agent does not exist"
    assert "Agent does not exist" in outcome.message


@responses.activate
def test_read_timeout_is_unknown_and_never_redialled(lead, rep):
    responses.post(f"{CK}/call/outbound", body=requests.ReadTimeout())
    outcome = call_place(provider="callkaro", lead=lead, team_member=rep)
    assert outcome.status == CallStatus.UNKNOWN and not outcome.ok
    assert call_dispatch(provider="callkaro", call_log_id=outcome.call_log.pk) == CallStatus.UNKNOWN
    assert len(responses.calls) == 1


@responses.activate
def test_unavailable_interactive_offers_acefone(lead, rep):
    responses.post(f"{CK}/call/outbound", json={"status": "error", "message": "boom"}, status=500)
    outcome = call_place(provider="callkaro", lead=lead, team_member=rep)
    assert outcome.status == CallStatus.FAILED and outcome.fallback == "acefone" and outcome.unavailable
    assert "unavailable" in outcome.call_log.error_message
    # the lead is free again: the rep can call it through Acefone in one click
    af_ok()
    assert call_place(provider="acefone", lead=lead, team_member=rep).ok


@responses.activate
def test_fallback_when_the_breaker_is_open(lead, rep):
    breaker = breaker_for("callkaro")
    for _ in range(3):
        breaker.record_failure()
    outcome = call_place(provider="callkaro", lead=lead, team_member=rep)
    assert outcome.fallback == "acefone" and outcome.status == CallStatus.FAILED and outcome.unavailable
    assert not responses.calls  # the open circuit spared the provider


@responses.activate
def test_an_unavailable_provider_without_a_fallback_says_so_itself(lead, rep):
    """Acefone names no fallback provider: the outcome is unavailable, with nobody to offer."""
    for _ in range(3):
        breaker_for("acefone").record_failure()
    outcome = call_place(provider="acefone", lead=lead, team_member=rep)
    assert outcome.unavailable and outcome.fallback is None and outcome.status == CallStatus.FAILED


@responses.activate
def test_unavailable_for_a_worker_reschedules_and_raises(lead, rep, django_capture_on_commit_callbacks):
    responses.post(f"{CK}/call/outbound", status=429, headers={"Retry-After": "120"})
    with django_capture_on_commit_callbacks():
        log = call_place(provider="callkaro", lead=lead, team_member=rep, dispatch="async").call_log
    before = timezone.now()
    with pytest.raises(ProviderUnavailable):
        call_dispatch(provider="callkaro", call_log_id=log.pk)
    log.refresh_from_db()
    assert log.status == CallStatus.SCHEDULED and log.dispatch_attempts == 1
    assert log.scheduled_at >= before + timedelta(seconds=119)
    assert log.dispatched_at is None


@responses.activate
def test_breaker_opens_after_threshold_through_dispatch(lead, rep):
    responses.post(f"{CK}/call/outbound", status=500, json={"message": "down"})
    for _ in range(3):
        call_place(provider="callkaro", lead=lead, team_member=rep)
    assert breaker_for("callkaro").is_open()
    assert len(responses.calls) == 3
    outcome = call_place(provider="callkaro", lead=lead, team_member=rep)
    assert outcome.fallback == "acefone" and len(responses.calls) == 3


@responses.activate
def test_credentials_never_logged(lead, rep, caplog):
    caplog.set_level(logging.DEBUG)
    responses.post(f"{CK}/call/outbound", json={"status": "error", "message": f"key {KEY} is bad"}, status=403)
    responses.post(f"{AF}/v1/click_to_call", json={"message": f"Bearer {TOKEN}"}, status=503)
    first = call_place(provider="callkaro", lead=lead, team_member=rep)
    second = call_place(provider="acefone", lead=lead, team_member=rep)
    text = " ".join([first.message, second.message, first.call_log.error_message, second.call_log.error_message])
    text += " ".join(r.getMessage() for r in caplog.records)
    assert KEY not in text and TOKEN not in text


# --- cancel -------------------------------------------------------------------------------------
def test_cancel_a_pending_call(lead, rep, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks():
        log = call_place(provider="callkaro", lead=lead, team_member=rep, dispatch="async").call_log
    call_cancel(provider="callkaro", call_log=log)
    assert log.status == CallStatus.CANCELLED
    assert call_dispatch(provider="callkaro", call_log_id=log.pk) == CallStatus.CANCELLED


def test_cancel_a_live_call_is_refused(lead, rep):
    log = CallKaroCallLog.objects.create(lead=lead, to_number=str(lead.phone), status=CallStatus.RINGING)
    with pytest.raises(CallNotAllowed):
        call_cancel(provider="callkaro", call_log=log)


@responses.activate
def test_cancel_a_call_handed_over_with_a_schedule(lead, rep):
    responses.post(f"{CK}/call/delete-schedule-call", json={"status": "success", "message": "deleted"})
    log = CallKaroCallLog.objects.create(
        lead=lead,
        to_number=str(lead.phone),
        status=CallStatus.INITIATED,
        provider_call_id="sid-9",
        scheduled_at=timezone.now() + timedelta(hours=1),
    )
    call_cancel(provider="callkaro", call_log=log)
    assert log.status == CallStatus.CANCELLED
    assert responses.calls[0].request.url == f"{CK}/call/delete-schedule-call?agent_id=default-agent"


def test_acefone_cannot_withdraw_a_call(lead, rep):
    log = AcefoneCallLog.objects.create(
        lead=lead, to_number=str(lead.phone), status=CallStatus.INITIATED, agent_number="1"
    )
    with pytest.raises(ProviderUnsupported):
        call_cancel(provider="acefone", call_log=log)


@responses.activate
def test_the_task_keeps_an_unavailable_call_for_later(lead, rep, django_capture_on_commit_callbacks):
    responses.post(f"{CK}/call/outbound", status=503, json={"message": "maintenance"})
    with django_capture_on_commit_callbacks(execute=True):
        outcome = call_place(provider="callkaro", lead=lead, team_member=rep, dispatch="async")
    log = CallKaroCallLog.objects.get(pk=outcome.call_log.pk)
    assert log.status == CallStatus.SCHEDULED and log.dispatch_attempts == 1
    assert "maintenance" in log.error_message
    assert len(responses.calls) == 3  # a 503 proves it was not taken: retried twice, never more
