"""The batch drain: one kick at a time, batches in one transaction, every event applied once, none lost."""

from __future__ import annotations

import json
import threading

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from callkaro.webhooks import parse_payload
from crm.tests.factories import LeadFactory
from telephony import drain
from telephony import tasks as webhook_tasks
from telephony.event_json import event_to_json
from telephony.models import ProviderWebhookEvent
from telephony.tests.webhook_samples import CK_SECRET, call_ended, final_receivers_only, make_ck_log, post_json

URL = "/callkaro-webhook/"


@pytest.fixture(autouse=True)
def _settings(settings, monkeypatch):
    settings.CALLKARO_WEBHOOK_SECRET = CK_SECRET
    final_receivers_only(monkeypatch)
    cache.delete(drain.DRAIN_FLAG)
    yield
    cache.delete(drain.DRAIN_FLAG)


def stored(log_id: int | None, key: str, **data) -> ProviderWebhookEvent:
    """A row as the webhook leaves it: authenticated, parsed once, pending."""
    body = call_ended(log_id, **{"callSid": f"sid-{log_id}", **data})
    return ProviderWebhookEvent.objects.create(
        provider="callkaro",
        body=json.dumps(body),
        event=event_to_json(parse_payload(body)[0]),
        is_authenticated=True,
        dedup_key=key,
        call_log_id=log_id,
    )


@pytest.mark.django_db
def test_a_drain_applies_every_pending_event_in_batches_and_frees_the_flag():
    logs = [make_ck_log(LeadFactory()) for _ in range(5)]
    rows = [stored(log.pk, f"ck:{i}") for i, log in enumerate(logs)]
    cache.set(drain.DRAIN_FLAG, 1, 10)  # as the kick left it
    assert drain.webhook_events_drain(size=2) == {"applied": 5}
    assert {r.outcome for r in ProviderWebhookEvent.objects.filter(pk__in=[r.pk for r in rows])} == {"applied"}
    assert set(ProviderWebhookEvent.objects.values_list("attempts", flat=True)) == {1}
    assert ProviderWebhookEvent.objects.filter(processed_at__isnull=True).count() == 0
    assert list(ProviderWebhookEvent.objects.order_by("id").values_list("call_log_id", flat=True)) == [
        log.pk for log in logs
    ]
    assert {log.status for log in type(logs[0]).objects.all()} == {"completed"}
    assert cache.get(drain.DRAIN_FLAG) is None


@pytest.mark.django_db
def test_a_batch_writes_its_rows_outcomes_in_one_update():
    logs = [make_ck_log(LeadFactory()) for _ in range(6)]
    for i, log in enumerate(logs):
        stored(log.pk, f"ck:{i}")
    with CaptureQueriesContext(connection) as ctx:
        assert drain.drain_batch(size=10) == {"applied": 6}
    event_updates = [q for q in ctx.captured_queries if 'UPDATE "crm_providerwebhookevent"' in q["sql"]]
    assert len(event_updates) == 1
    # Per event: a savepoint, the locked read, the provider id's uniqueness check, the log's UPDATE and
    # the release; per batch: the claim, the call logs' lock, the rows' one UPDATE (and the test's savepoint).
    assert len(ctx.captured_queries) <= 5 * 6 + 5


@pytest.mark.django_db
def test_forward_only_holds_inside_one_batch():
    log = make_ck_log(LeadFactory())
    stored(log.pk, "ck:ended")
    stored(log.pk, "ck:late-ringing", call_status="ringing", status="ringing")
    drain.webhook_events_drain()
    log.refresh_from_db()
    assert log.status == "completed"
    outcomes = sorted(ProviderWebhookEvent.objects.values_list("outcome", flat=True))
    assert outcomes[0] == "applied" and all(o in ("applied", "stale") for o in outcomes)


@pytest.mark.django_db
def test_one_broken_event_fails_alone_and_the_rest_of_its_batch_applies():
    good = make_ck_log(LeadFactory())
    broken = stored(None, "ck:broken")
    ProviderWebhookEvent.objects.filter(pk=broken.pk).update(event={"not": "an event"})
    ok = stored(good.pk, "ck:good")
    counts = drain.webhook_events_drain()
    assert counts == {"failed": 1, "applied": 1}
    assert ProviderWebhookEvent.objects.get(pk=broken.pk).outcome == "failed"
    assert ProviderWebhookEvent.objects.get(pk=ok.pk).outcome == "applied"


@pytest.mark.django_db
def test_an_event_stored_while_the_drain_frees_its_flag_is_still_applied(monkeypatch):
    """The drain frees its flag before its last look, so the late row is in that look."""
    log, late_log = make_ck_log(LeadFactory()), make_ck_log(LeadFactory())
    stored(log.pk, "ck:first")
    real_clear = drain._flag_clear
    late: list[ProviderWebhookEvent] = []

    def clear_then_store() -> None:
        real_clear()
        if not late:
            late.append(stored(late_log.pk, "ck:late"))

    monkeypatch.setattr(drain, "_flag_clear", clear_then_store)
    assert drain.webhook_events_drain() == {"applied": 2}
    late_log.refresh_from_db()
    assert late_log.status == "completed"


@pytest.mark.django_db
def test_requests_kick_one_drain_while_one_is_queued(client, monkeypatch, django_capture_on_commit_callbacks):
    published: list[int] = []
    monkeypatch.setattr(webhook_tasks.webhook_events_drain_task, "apply_async", lambda **kw: published.append(1))
    logs = [make_ck_log(LeadFactory()) for _ in range(3)]
    with django_capture_on_commit_callbacks(execute=True):
        for log in logs:
            post_json(client, URL, call_ended(log.pk, callSid=f"s{log.pk}"), token=CK_SECRET, commit=False)
    assert published == [1]  # three events, one message
    assert ProviderWebhookEvent.objects.filter(outcome="pending").count() == 3
    assert drain.webhook_events_drain() == {"applied": 3}  # the queued drain runs: flag freed
    with django_capture_on_commit_callbacks(execute=True):
        post_json(client, URL, call_ended(logs[0].pk, try_count=2), token=CK_SECRET, commit=False)
    assert published == [1, 1]


@pytest.mark.django_db
def test_with_the_flag_store_down_the_request_still_kicks(monkeypatch):
    published: list[int] = []

    def cache_down(*args, **kwargs):
        raise ConnectionError("redis is down")

    monkeypatch.setattr(drain.cache, "add", cache_down)
    monkeypatch.setattr(webhook_tasks.webhook_events_drain_task, "apply_async", lambda **kw: published.append(1))
    row = stored(make_ck_log(LeadFactory()).pk, "ck:x")
    drain.webhook_drain_kick(webhook_event_id=row.pk)
    assert published == [1]


@pytest.mark.django_db
def test_in_tests_the_eager_drain_applies_the_event_within_the_request(client):
    log = make_ck_log(LeadFactory())
    assert post_json(client, URL, call_ended(log.pk), token=CK_SECRET).status_code == 200
    log.refresh_from_db()
    assert log.status == "completed"
    assert cache.get(drain.DRAIN_FLAG) is None


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_concurrent_drains_apply_each_event_exactly_once():
    """Four drains at once over the same pending rows (PostgreSQL, SKIP LOCKED): each row once."""
    logs = [make_ck_log(LeadFactory()) for _ in range(120)]
    for i, log in enumerate(logs):
        stored(log.pk, f"ck:{i}")
        stored(log.pk, f"ck:{i}:t2", try_count=2)  # two events per call: batches share call logs
    errors: list[BaseException] = []

    def run() -> None:
        try:
            drain.webhook_events_drain(size=25)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    rows = ProviderWebhookEvent.objects.all()
    assert rows.filter(outcome="pending").count() == 0
    assert set(rows.values_list("attempts", flat=True)) == {1}
    assert {(log.status, log.try_count) for log in type(logs[0]).objects.all()} == {("completed", 2)}


@pytest.mark.django_db(transaction=True)  # a worker's drain runs outside any transaction
def test_a_drain_lingers_holding_its_flag_so_steady_traffic_publishes_no_new_drain(settings, monkeypatch):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.TELEPHONY_WEBHOOK_DRAIN_LINGER = 0.04
    first, second = make_ck_log(LeadFactory()), make_ck_log(LeadFactory())
    stored(first.pk, "ck:first")
    clears: list[bool] = []
    real_clear = drain._flag_clear
    monkeypatch.setattr(drain, "_flag_clear", lambda: clears.append(True) or real_clear())
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        if len(sleeps) == 1:
            stored(second.pk, "ck:second")  # arrives while the drain lingers: the flag was never freed

    monkeypatch.setattr(drain.time, "sleep", sleep)
    assert drain.webhook_events_drain() == {"applied": 2}
    assert clears == [True]  # freed once, at the very end
    # Each batch that was not full waits for the next to gather; then two empty linger looks.
    assert sleeps == [0.05, 0.05, drain.LINGER_STEP, drain.LINGER_STEP]


@pytest.mark.django_db(transaction=True)  # a worker's drain runs outside any transaction
def test_full_batches_follow_each_other_without_waiting(settings, monkeypatch):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.TELEPHONY_WEBHOOK_DRAIN_LINGER = 0
    for i in range(4):
        stored(make_ck_log(LeadFactory()).pk, f"ck:full-{i}")
    sleeps: list[float] = []
    monkeypatch.setattr(drain.time, "sleep", sleeps.append)
    assert drain.webhook_events_drain(size=2) == {"applied": 4}
    assert sleeps == []  # two full batches, then the empty last look: no gather wait


@pytest.mark.django_db
def test_a_drain_inside_a_transaction_never_waits_holding_its_locks(settings, monkeypatch):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    stored(make_ck_log(LeadFactory()).pk, "ck:in-atomic")
    monkeypatch.setattr(drain.time, "sleep", lambda s: pytest.fail("waited inside a transaction"))
    assert drain.webhook_events_drain() == {"applied": 1}


@pytest.mark.django_db
def test_an_eager_drain_inside_a_request_never_lingers(settings, monkeypatch):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    monkeypatch.setattr(drain.time, "sleep", lambda s: pytest.fail("lingered"))
    stored(make_ck_log(LeadFactory()).pk, "ck:x")
    assert drain.webhook_events_drain() == {"applied": 1}
