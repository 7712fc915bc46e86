"""A failed Graph fetch is retried within seconds by the worker itself; beat's sweep stays the safety net."""

from __future__ import annotations

import pytest
import responses

from metaleads.models import MetaLeadDelivery
from metaleads.services import QUICK_RETRY_SECONDS, delivery_fetch, delivery_retry_due_in
from metaleads.tasks import delivery_fetch_task

from .helpers import FORM_ID, GRAPH

pytestmark = pytest.mark.django_db
FAILURE = {"error": {"message": "An unexpected error has occurred", "code": 2}}


@responses.activate
def test_the_first_failures_are_due_again_within_seconds_then_back_off():
    responses.get(f"{GRAPH}/L1", json=FAILURE, status=500)
    row = MetaLeadDelivery.objects.create(leadgen_id="L1", form_id=FORM_ID)
    for expected in QUICK_RETRY_SECONDS:
        assert delivery_fetch(delivery_id=row.pk) == "failed"
        assert 0 < delivery_retry_due_in(row.pk) <= expected
        MetaLeadDelivery.objects.filter(pk=row.pk).update(next_attempt_at=None)  # as if due now
    assert delivery_fetch(delivery_id=row.pk) == "failed"
    assert delivery_retry_due_in(row.pk) is None  # beyond the quick ones: the sweep's backoff
    row.refresh_from_db()
    assert (row.next_attempt_at - row.received_at).total_seconds() >= 25


@responses.activate
def test_a_worker_schedules_the_quick_retry_itself(monkeypatch):
    responses.get(f"{GRAPH}/L1", json=FAILURE, status=500)
    row = MetaLeadDelivery.objects.create(leadgen_id="L1", form_id=FORM_ID)
    scheduled: list[tuple] = []
    monkeypatch.setattr(delivery_fetch_task, "apply_async", lambda args, countdown: scheduled.append((args, countdown)))
    delivery_fetch_task.push_request(is_eager=False)  # as in a worker, not inline
    try:
        assert delivery_fetch_task.run(row.pk) == "failed"
    finally:
        delivery_fetch_task.pop_request()
    assert len(scheduled) == 1
    args, countdown = scheduled[0]
    assert args == (row.pk,) and 1 < countdown <= QUICK_RETRY_SECONDS[0] + 0.2
