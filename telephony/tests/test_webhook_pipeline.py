"""The shared webhook pipeline: storage, unmatched events matched later, failures kept, hooks, stuck calls."""

from __future__ import annotations

import json
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from telephony import tasks as webhook_tasks
from telephony.events import call_event_apply
from telephony.models import ProviderWebhookEvent
from telephony.tests.webhook_samples import (
    CK_SECRET,
    call_ended,
    final_receivers_only,
    make_af_log,
    make_ck_log,
    post_json,
    stored_outcome,
)

URL = "/callkaro-webhook/"
HOOK_CALLS: list[tuple[int, str]] = []


def record_hook(call_log, provider: str, **_) -> None:
    HOOK_CALLS.append((call_log.pk, provider))


def broken_hook(call_log, provider: str, **_) -> None:
    raise RuntimeError("a hook that fails")


@pytest.fixture(autouse=True)
def _settings(settings, monkeypatch):
    settings.CALLKARO_WEBHOOK_SECRET = CK_SECRET
    final_receivers_only(monkeypatch)
    HOOK_CALLS.clear()


@pytest.mark.django_db
def test_raw_event_is_stored_with_ip_headers_and_body(client, lead):
    log = make_ck_log(lead)
    body = call_ended(log.pk)
    response = post_json(
        client,
        f"{URL}?token={CK_SECRET}&source=agent",
        body,
        headers={"User-Agent": "CallKaro/1"},
        REMOTE_ADDR="10.1.2.3",
    )
    assert response.status_code == 200
    row = ProviderWebhookEvent.objects.get()
    assert json.loads(row.body) == body
    assert row.remote_addr == "10.1.2.3" and row.headers["User-Agent"] == "CallKaro/1"
    assert row.headers["query_string"] == "source=agent"
    assert row.dedup_key.startswith("ck:") and row.provider_call_id == "6811c0de2a4b9e0012ab34cd"
    assert row.processed_at is not None and row.attempts == 1


@pytest.mark.django_db
def test_unknown_call_id_is_kept_and_matched_once_the_log_appears(client, lead, django_capture_on_commit_callbacks):
    body = call_ended(None)  # no metadata; matched by Call Karo's callSid once we know it
    assert post_json(client, URL, body, token=CK_SECRET).status_code == 200
    row = ProviderWebhookEvent.objects.get()
    assert row.outcome == "unmatched"
    assert webhook_tasks.webhook_events_rematch() == {"unmatched": 1}  # still no log

    log = make_ck_log(lead, provider_call_id="6811c0de2a4b9e0012ab34cd")
    with django_capture_on_commit_callbacks(execute=True):
        assert webhook_tasks.webhook_events_rematch.delay().get() == {"applied": 1}
    row.refresh_from_db()
    log.refresh_from_db()
    assert (row.outcome, row.call_log_id, row.attempts) == ("applied", log.pk, 3)
    assert log.status == "completed"
    lead.refresh_from_db()
    assert lead.stage == "converted"


@pytest.mark.django_db
def test_reprocess_command_matches_unmatched_by_default_and_is_idempotent(client, lead):
    post_json(client, URL, call_ended(987654), token=CK_SECRET)
    assert ProviderWebhookEvent.objects.get().outcome == "unmatched"
    log = make_ck_log(lead, provider_call_id="6811c0de2a4b9e0012ab34cd")
    out = StringIO()
    call_command("reprocess_webhooks", stdout=out)
    assert "applied: 1" in out.getvalue()
    log.refresh_from_db()
    assert log.status == "completed"
    out = StringIO()
    call_command("reprocess_webhooks", "--all", stdout=out)
    assert "stale: 1" in out.getvalue()
    log.refresh_from_db()
    assert log.status == "completed"


@pytest.mark.django_db
def test_a_failure_while_applying_is_kept_and_answered_200(client, lead, monkeypatch):
    log = make_ck_log(lead)

    def explode(*args, **kwargs):
        raise RuntimeError("database hiccup")

    monkeypatch.setattr("telephony.events._apply_to_log", explode)
    response = post_json(client, URL, call_ended(log.pk), token=CK_SECRET)
    assert response.status_code == 200 and stored_outcome(response) == "failed"
    row = ProviderWebhookEvent.objects.get()
    assert row.outcome == "failed" and "database hiccup" in row.error
    log.refresh_from_db()
    assert log.status == "initiated"

    monkeypatch.undo()
    call_command("reprocess_webhooks", "--failed", stdout=StringIO())
    row.refresh_from_db()
    log.refresh_from_db()
    assert row.outcome == "applied" and row.error == "" and log.status == "completed"


@pytest.mark.django_db
def test_an_unrecognised_but_authentic_body_is_stored_as_failed(client):
    assert post_json(client, URL, {"hello": "world"}, token=CK_SECRET).status_code == 400
    row = ProviderWebhookEvent.objects.get()
    assert row.is_authenticated and row.outcome == "failed" and "Unrecognised" in row.error


@pytest.mark.django_db
def test_final_hooks_run_once_after_commit_and_a_broken_one_does_not_stop_the_rest(
    client, lead, monkeypatch, django_capture_on_commit_callbacks
):
    final_receivers_only(monkeypatch, broken_hook, record_hook)
    log = make_ck_log(lead)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        post_json(client, URL, call_ended(log.pk), token=CK_SECRET, commit=False)
    assert HOOK_CALLS == []  # nothing runs before the commit
    with django_capture_on_commit_callbacks(execute=True):  # the commit: the apply task, then its follow-up
        for callback in callbacks:
            callback()
    assert HOOK_CALLS == [(log.pk, "callkaro")]
    with django_capture_on_commit_callbacks(execute=True):
        post_json(client, URL, call_ended(log.pk, call_duration=99), token=CK_SECRET, commit=False)  # a copy: no re-run
    assert HOOK_CALLS == [(log.pk, "callkaro")]


@pytest.mark.django_db
def test_non_final_event_runs_no_hooks(lead, monkeypatch, django_capture_on_commit_callbacks):
    from telephony.base import CallEvent

    final_receivers_only(monkeypatch, record_hook)
    log = make_af_log(lead)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        outcome = call_event_apply(
            provider="acefone", event=CallEvent(provider="acefone", status="ringing", call_log_id=log.pk)
        )
    assert outcome == "applied" and callbacks == [] and HOOK_CALLS == []


@pytest.mark.django_db
def test_pending_row_left_by_a_crash_is_applied_by_the_periodic_task(lead):
    log = make_ck_log(lead)
    row = ProviderWebhookEvent.objects.create(
        provider="callkaro", body=json.dumps(call_ended(log.pk)), is_authenticated=True, dedup_key="ck:crashed"
    )
    ProviderWebhookEvent.objects.filter(pk=row.pk).update(received_at=timezone.now() - timedelta(minutes=10))
    assert webhook_tasks.webhook_events_rematch() == {"applied": 1}
    log.refresh_from_db()
    assert log.status == "completed"


@pytest.mark.django_db
def test_stuck_call_is_marked_unknown_visibly(lead, settings):
    settings.TELEPHONY_STUCK_CALL_MINUTES = 30
    stuck = make_ck_log(lead, status="in_progress")
    recent = make_ck_log(lead, status="ringing")
    scheduled_later = make_ck_log(lead, status="initiated", scheduled_at=timezone.now() + timedelta(hours=1))
    done = make_ck_log(lead, status="completed")
    old = timezone.now() - timedelta(minutes=45)
    type(stuck).objects.filter(pk__in=[stuck.pk, scheduled_later.pk, done.pk]).update(created_at=old)
    counts = webhook_tasks.calls_stuck_settle()
    assert counts["marked_unknown"] >= 1
    for log in (stuck, recent, scheduled_later, done):
        log.refresh_from_db()
    assert stuck.status == "unknown" and "a person should check" in stuck.error_message
    assert (recent.status, scheduled_later.status, done.status) == ("ringing", "initiated", "completed")
    # A webhook arriving later still settles it.
    call_event_apply(
        provider="callkaro", event=__import__("callkaro.webhooks").webhooks.parse_payload(call_ended(stuck.pk))[0]
    )
    stuck.refresh_from_db()
    assert stuck.status == "completed"


def test_beat_schedule_registers_the_webhook_tasks(settings):
    from crm.celery import app

    app.loader.import_default_modules()  # what a worker does at start-up: autodiscovery of <app>.tasks
    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert {"telephony.webhook_events_rematch", "telephony.calls_stuck_settle"} <= tasks
    assert "telephony.webhook_event_apply" in app.tasks
    assert "telephony.webhook_events_drain" in app.tasks


@pytest.mark.django_db
def test_the_configured_final_hooks_run_cleanly(client, lead, monkeypatch, caplog, django_capture_on_commit_callbacks):
    """With the project's own ``call_became_final`` receivers (the campaign one among them)."""
    monkeypatch.undo()  # the autouse fixture switched them off
    log = make_ck_log(lead)
    with django_capture_on_commit_callbacks(execute=True):
        assert post_json(client, URL, call_ended(log.pk), token=CK_SECRET, commit=False).status_code == 200
    assert not [r for r in caplog.records if r.levelname in ("ERROR", "CRITICAL")]
    lead.refresh_from_db()
    assert lead.stage == "converted"


@pytest.mark.django_db
def test_with_a_real_queue_the_answer_comes_once_stored_and_the_task_applies_it(
    client, lead, settings, django_capture_on_commit_callbacks
):
    """Without eager Celery the request only stores; the drain is kicked after commit."""
    from django.core.cache import cache

    from crm.celery import app
    from telephony.drain import DRAIN_FLAG

    log = make_ck_log(lead)
    cache.delete(DRAIN_FLAG)
    app.conf.task_always_eager = False
    try:
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            response = post_json(client, URL, call_ended(log.pk), token=CK_SECRET, commit=False)
    finally:
        app.conf.task_always_eager = True
    row = ProviderWebhookEvent.objects.get()
    assert response.status_code == 200
    assert response.json()["events"] == [{"id": row.pk, "outcome": "pending"}]
    assert (row.outcome, row.attempts, row.processed_at) == ("pending", 0, None)
    assert len(callbacks) == 1  # the kick waits for the commit, so a worker always finds the row
    log.refresh_from_db()
    assert log.status == "initiated"

    with django_capture_on_commit_callbacks(execute=True):
        assert webhook_tasks.webhook_events_drain_task() == {"applied": 1}  # what the worker runs
    row.refresh_from_db()
    log.refresh_from_db()
    lead.refresh_from_db()
    assert (row.outcome, row.attempts, log.status, lead.stage) == ("applied", 1, "completed", "converted")
    # A second drain, or a per-event task queued before the drain existed, is a no-op.
    assert webhook_tasks.webhook_events_drain_task() == {}
    assert webhook_tasks.webhook_event_apply(row.pk) == "applied"
    row.refresh_from_db()
    assert row.attempts == 1


@pytest.mark.django_db
def test_a_broker_outage_applies_the_event_in_the_request(client, lead, monkeypatch):
    from crm.celery import app

    def broker_down(*args, **kwargs):
        raise ConnectionError("broker unreachable")

    from django.core.cache import cache

    from telephony.drain import DRAIN_FLAG, webhook_drain_kick

    log = make_ck_log(lead)
    monkeypatch.setattr(webhook_tasks.webhook_events_drain_task, "apply_async", broker_down)
    cache.delete(DRAIN_FLAG)
    app.conf.task_always_eager = False
    try:
        row = ProviderWebhookEvent.objects.create(
            provider="callkaro", body=json.dumps(call_ended(log.pk)), is_authenticated=True, dedup_key="ck:x"
        )
        webhook_drain_kick(webhook_event_id=row.pk)
    finally:
        app.conf.task_always_eager = True
    row.refresh_from_db()
    log.refresh_from_db()
    assert row.outcome == "applied" and log.status == "completed"
    assert cache.get(DRAIN_FLAG) is None  # the next request tries the broker again


@pytest.mark.django_db
def test_a_pending_event_whose_task_was_lost_is_applied_after_a_minute(lead):
    log = make_ck_log(lead)
    fresh = ProviderWebhookEvent.objects.create(
        provider="callkaro", body=json.dumps(call_ended(log.pk)), is_authenticated=True, dedup_key="ck:fresh"
    )
    ProviderWebhookEvent.objects.filter(pk=fresh.pk).update(received_at=timezone.now() - timedelta(seconds=30))
    assert webhook_tasks.webhook_events_rematch() == {}  # its task may still be on the way
    ProviderWebhookEvent.objects.filter(pk=fresh.pk).update(received_at=timezone.now() - timedelta(seconds=90))
    assert webhook_tasks.webhook_events_rematch() == {"applied": 1}
    log.refresh_from_db()
    assert log.status == "completed"
    assert webhook_tasks.webhook_event_apply(fresh.pk) == "applied"  # the late task finds it done


@pytest.mark.django_db
def test_an_unauthenticated_row_is_never_applied_by_the_task(lead):
    log = make_ck_log(lead)
    row = ProviderWebhookEvent.objects.create(
        provider="callkaro", body=json.dumps(call_ended(log.pk)), is_authenticated=False, outcome="pending"
    )
    webhook_tasks.webhook_event_apply(row.pk)
    ProviderWebhookEvent.objects.filter(pk=row.pk).update(received_at=timezone.now() - timedelta(minutes=10))
    webhook_tasks.webhook_events_rematch()
    log.refresh_from_db()
    assert log.status == "initiated"


@pytest.mark.django_db
def test_the_request_reads_the_config_once_per_few_seconds_and_a_new_secret_works_at_once(client, lead, admin_member):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from callkaro.services import webhook_secret_generate

    first, second = make_ck_log(lead), make_ck_log(lead)
    with CaptureQueriesContext(connection) as ctx:
        assert post_json(client, URL, call_ended(first.pk), token=CK_SECRET).status_code == 200
        assert post_json(client, URL, call_ended(second.pk, callSid="other"), token=CK_SECRET).status_code == 200
    config_reads = [q for q in ctx.captured_queries if "callkaro_callkaroconfig" in q["sql"]]
    assert len(config_reads) == 1  # secrets and time zone of both requests from one read

    new = webhook_secret_generate(actor=admin_member)  # the save clears the cached copy
    third = make_ck_log(lead)
    assert post_json(client, URL, call_ended(third.pk, callSid="third"), token=new).status_code == 200
    third.refresh_from_db()
    assert third.status == "completed"
