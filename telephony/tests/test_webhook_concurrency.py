"""On PostgreSQL: the same event posted from several threads at once is applied exactly once."""

from __future__ import annotations

import copy
import json
import threading

import pytest
from django.db import connection
from django.test import Client

from crm.models import LeadActivity
from crm.tests.factories import LeadFactory
from telephony.models import ProviderWebhookEvent
from telephony.tests.webhook_samples import CK_SECRET, call_ended, final_receivers_only, make_ck_log

THREADS = 8
HOOK_CALLS: list[int] = []
_hook_lock = threading.Lock()


def counting_hook(call_log, provider: str, **_) -> None:
    with _hook_lock:
        HOOK_CALLS.append(call_log.pk)


def _post_all(bodies: list[dict]) -> list[int]:
    barrier = threading.Barrier(len(bodies))
    codes: list[int] = []
    errors: list[BaseException] = []

    def worker(body: dict) -> None:
        try:
            client = Client()
            barrier.wait(timeout=30)
            response = client.post(
                "/callkaro-webhook/", json.dumps(body), content_type="application/json",
                headers={"X-Webhook-Token": CK_SECRET},
            )  # fmt: skip
            codes.append(response.status_code)
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(body,)) for body in bodies]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    return codes


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_same_event_from_many_threads_is_applied_once(settings, monkeypatch):
    settings.CALLKARO_WEBHOOK_SECRET = CK_SECRET
    final_receivers_only(monkeypatch, counting_hook)
    HOOK_CALLS.clear()
    lead = LeadFactory()
    log = make_ck_log(lead)
    body = call_ended(log.pk)
    # Half are the account-level copy, half the byte-different agent-level copy.
    agent_copy = copy.deepcopy(body)
    agent_copy["data"]["call_duration"] = "143"
    codes = _post_all([body if i % 2 else agent_copy for i in range(THREADS)])

    assert codes == [200] * THREADS
    rows = ProviderWebhookEvent.objects.filter(provider="callkaro")
    assert rows.exclude(dedup_key="").count() == 1
    assert rows.filter(outcome="applied").count() == 1
    assert rows.filter(outcome="duplicate").count() == THREADS - 1
    log.refresh_from_db()
    lead.refresh_from_db()
    assert log.status == "completed" and lead.stage == "converted"
    assert LeadActivity.objects.filter(lead=lead, kind="stage").count() == 1
    assert HOOK_CALLS == [log.pk]


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_different_tries_racing_end_at_the_latest_try(settings, monkeypatch):
    settings.CALLKARO_WEBHOOK_SECRET = CK_SECRET
    final_receivers_only(monkeypatch)
    log = make_ck_log(LeadFactory())
    bodies = [
        call_ended(log.pk, try_count=t, hangup_reason="USER_UNAVAILABLE" if t < 3 else "CLIENT_INITIATED")
        for t in range(4)
    ] * 2
    assert _post_all(bodies) == [200] * len(bodies)
    log.refresh_from_db()
    assert (log.status, log.try_count) == ("completed", 3)


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_the_event_is_applied_and_the_lead_updated_in_a_real_worker_after_the_answer(settings):
    """The worker autodiscovers only ``<app>.tasks``; this proves it finds the webhook tasks too."""
    from crm.celery import app
    from tests.workers import start_worker, stop, wait_for

    settings.CALLKARO_WEBHOOK_SECRET = CK_SECRET
    lead = LeadFactory()
    log = make_ck_log(lead)
    app.conf.task_always_eager = False
    proc = start_worker(concurrency=1)
    try:
        response = Client().post(
            "/callkaro-webhook/", json.dumps(call_ended(log.pk)), content_type="application/json",
            headers={"X-Webhook-Token": CK_SECRET},
        )  # fmt: skip
        assert response.status_code == 200
        # Stored before the answer; applied by the worker's webhook_event_apply task after it.
        row = ProviderWebhookEvent.objects.get(provider="callkaro")
        assert row.dedup_key and response.json()["events"] == [{"id": row.pk, "outcome": "pending"}]
        assert wait_for(lambda: ProviderWebhookEvent.objects.get(pk=row.pk).outcome == "applied", timeout=60)
        log.refresh_from_db()
        assert log.status == "completed"
        assert wait_for(lambda: LeadActivity.objects.filter(lead=lead, kind="stage").exists(), timeout=60)
        lead.refresh_from_db()
        assert lead.stage == "converted"
    finally:
        app.conf.task_always_eager = True
        stop(proc)
