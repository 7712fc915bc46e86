"""A webhook body is parsed once, in the request; the worker applies the stored event (issue 12, item 5)."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from callkaro.provider import CallKaroProvider
from telephony import tasks
from telephony.base import CallEvent
from telephony.event_json import event_from_json, event_to_json
from telephony.models import ProviderWebhookEvent
from telephony.tests.webhook_samples import CK_SECRET, call_ended, final_followups, make_ck_log, post_json

URL = "/callkaro-webhook/"


@pytest.fixture(autouse=True)
def _secret(settings):
    settings.CALLKARO_WEBHOOK_SECRET = CK_SECRET


def _parser_broken(monkeypatch) -> None:
    def parse_webhook(self, payload):
        raise AssertionError("parsed a second time")

    monkeypatch.setattr(CallKaroProvider, "parse_webhook", parse_webhook)


@pytest.mark.django_db
def test_the_worker_applies_the_stored_event_and_follows_up_in_the_same_task(
    client, lead, monkeypatch, django_capture_on_commit_callbacks
):
    log = make_ck_log(lead)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert post_json(client, URL, call_ended(log.pk), token=CK_SECRET, commit=False).status_code == 200
    row = ProviderWebhookEvent.objects.get()
    event = event_from_json(row.event)
    assert (row.outcome, event.status, event.call_log_id, event.duration) == ("pending", "completed", log.pk, 143)
    assert event.occurred_at is not None and event.occurred_at.tzinfo is not None

    _parser_broken(monkeypatch)  # the worker must not need the parser
    with django_capture_on_commit_callbacks(execute=True) as after:
        for callback in callbacks:
            callback()  # the commit: the apply task runs (inline here)
    assert len(final_followups(after)) == 1  # the follow-up ran after the apply committed, not as a new message
    row.refresh_from_db()
    log.refresh_from_db()
    lead.refresh_from_db()
    assert (row.outcome, log.status, lead.stage) == ("applied", "completed", "converted")


@pytest.mark.django_db
def test_there_is_no_separate_follow_up_task():
    assert not hasattr(tasks, "call_final_followup")


def test_an_event_survives_the_round_trip_through_json():
    from django.utils import timezone

    now = timezone.now()
    event = CallEvent(
        provider="callkaro",
        status="completed",
        call_log_id=7,
        duration=12,
        occurred_at=now,
        try_count=1,
        extras={"answered_at": now, "transcript": "hi", "post_call": {"x": [1, 2]}},
        raw={"data": {"n": float("inf")}},
    )
    assert event_from_json(event_to_json(event)) == event


def _stale_row(log) -> ProviderWebhookEvent:
    """A row an older parser got wrong: it missed our id, so the stored event matches no call."""
    import json

    wrong = CallEvent(provider="callkaro", status="completed", provider_call_id="sid-nobody-knows")
    return ProviderWebhookEvent.objects.create(
        provider="callkaro",
        body=json.dumps(call_ended(log.pk)),
        event=event_to_json(wrong),
        is_authenticated=True,
        outcome=ProviderWebhookEvent.Outcome.UNMATCHED,
        dedup_key="ck:stale",
    )


@pytest.mark.django_db
def test_reprocess_applies_the_stored_event_and_reparse_reads_the_body_again(lead, monkeypatch):
    log = make_ck_log(lead)
    row = _stale_row(log)
    with monkeypatch.context() as patched:
        _parser_broken(patched)
        out = StringIO()
        call_command("reprocess_webhooks", stdout=out)  # the stored event, not a new parse
    assert "unmatched: 1" in out.getvalue()
    log.refresh_from_db()
    assert log.status == "initiated"

    out = StringIO()
    call_command("reprocess_webhooks", "--reparse", stdout=out)
    assert "applied: 1" in out.getvalue()
    row.refresh_from_db()
    log.refresh_from_db()
    assert row.outcome == "applied" and log.status == "completed"
    assert event_from_json(row.event).call_log_id == log.pk  # the new parse is kept


@pytest.mark.django_db
def test_a_row_stored_before_events_were_kept_is_parsed_from_its_body(lead):
    import json

    log = make_ck_log(lead)
    ProviderWebhookEvent.objects.create(
        provider="callkaro", body=json.dumps(call_ended(log.pk)), is_authenticated=True, dedup_key="ck:old"
    )
    call_command("reprocess_webhooks", "--all", stdout=StringIO())
    log.refresh_from_db()
    assert log.status == "completed"


@pytest.mark.django_db
def test_call_became_final_names_the_provider_and_the_call(client, lead, monkeypatch):
    from telephony.tests.webhook_samples import final_receivers_only

    seen = []

    def receiver(sender, *, provider, call_log, **kwargs):
        seen.append((sender, provider, call_log.pk, call_log.status))

    final_receivers_only(monkeypatch, receiver)
    log = make_ck_log(lead)
    post_json(client, URL, call_ended(log.pk), token=CK_SECRET)
    assert seen == [(CallKaroProvider, "callkaro", log.pk, "completed")]
