"""The follow-up of a drain batch's ended calls: done together, with the same effects as call by call."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from crm.models import DoNotCallEntry, Lead, LeadActivity
from crm.services import LeadStageWrites
from crm.tests.factories import LeadFactory
from telephony import drain
from telephony.models import ProviderWebhookEvent
from telephony.tests.test_webhook_drain import stored
from telephony.tests.webhook_samples import CK_SECRET, final_receivers_only, make_ck_log


@pytest.fixture(autouse=True)
def _settings(settings, monkeypatch):
    settings.CALLKARO_WEBHOOK_SECRET = CK_SECRET


def _drain(django_capture_on_commit_callbacks) -> list[str]:
    """One batch; its after-commit follow-up runs. Returns the SQL of that follow-up."""
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        drain.drain_batch(size=500)
    with CaptureQueriesContext(connection) as ctx:
        for callback in callbacks:
            callback()
    return [q["sql"] for q in ctx.captured_queries]


@pytest.mark.django_db
def test_the_follow_up_of_a_batch_costs_the_same_statements_for_3_calls_or_30(
    monkeypatch, django_capture_on_commit_callbacks
):
    final_receivers_only(monkeypatch)
    counts = []
    for n in (3, 30):
        logs = [make_ck_log(LeadFactory()) for _ in range(n)]
        for i, log in enumerate(logs):
            stored(log.pk, f"ck:{n}:{i}")
        counts.append(len(_drain(django_capture_on_commit_callbacks)))
        assert set(Lead.objects.filter(pk__in=[log.lead_id for log in logs]).values_list("stage", flat=True)) == {
            "converted"
        }
        assert LeadActivity.objects.filter(kind="stage", call_ref__startswith="callkaro:").count() == sum(
            (3, 30)[: len(counts)]
        )
    # The calls read, the rules read, the leads locked, one UPDATE per stage, one INSERT (and a savepoint).
    assert counts[0] == counts[1] <= 8


@pytest.mark.django_db
def test_receivers_run_after_commit_once_per_call_with_the_updated_lead(
    monkeypatch, django_capture_on_commit_callbacks
):
    seen: list[tuple[int, str]] = []

    def receiver(call_log, provider, **_):
        seen.append((call_log.pk, call_log.lead.stage))

    final_receivers_only(monkeypatch, receiver)
    first, second = make_ck_log(LeadFactory()), make_ck_log(LeadFactory())
    stored(first.pk, "ck:a")
    stored(first.pk, "ck:a:t2", try_count=2)  # the same call ends again in the batch: followed up once
    stored(second.pk, "ck:b")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        drain.drain_batch()
    assert seen == []  # nothing before the commit
    for callback in callbacks:
        callback()
    assert sorted(seen) == sorted([(first.pk, "converted"), (second.pk, "converted")])


@pytest.mark.django_db
def test_two_calls_of_one_lead_in_a_batch_keep_its_history_in_order(monkeypatch, django_capture_on_commit_callbacks):
    final_receivers_only(monkeypatch)
    lead = LeadFactory()
    plain, converted = make_ck_log(lead), make_ck_log(lead)
    stored(plain.pk, "ck:plain", post_call={}, post_call_detail={}, conversion_status=False)
    stored(converted.pk, "ck:converted")
    _drain(django_capture_on_commit_callbacks)
    lead.refresh_from_db()
    assert lead.stage == "converted"
    history = list(
        LeadActivity.objects.filter(lead=lead, kind="stage").order_by("id").values_list("old_value", "new_value")
    )
    assert history == [("new", "contacted"), ("contacted", "converted")]


@pytest.mark.django_db
def test_an_opt_out_in_a_batch_lists_the_number_and_keeps_the_stage_first(
    monkeypatch, django_capture_on_commit_callbacks
):
    final_receivers_only(monkeypatch)
    leads = [LeadFactory() for _ in range(3)]
    logs = [make_ck_log(lead) for lead in leads]
    stored(logs[0].pk, "ck:0")
    stored(logs[1].pk, "ck:1", post_call={"do_not_call": "yes"}, post_call_detail={}, conversion_status=False)
    stored(logs[2].pk, "ck:2")
    _drain(django_capture_on_commit_callbacks)
    opted = Lead.objects.get(pk=leads[1].pk)
    assert (opted.do_not_call, opted.stage) == (True, "contacted")
    assert DoNotCallEntry.objects.filter(phone=str(opted.phone)).exists()
    kinds = list(LeadActivity.objects.filter(lead=opted).order_by("id").values_list("kind", flat=True))
    assert kinds[:2] == ["stage", "do_not_call"]
    assert {Lead.objects.get(pk=lead.pk).stage for lead in (leads[0], leads[2])} == {"converted"}


@pytest.mark.django_db
def test_a_failing_batch_write_falls_back_to_call_by_call(monkeypatch, django_capture_on_commit_callbacks):
    seen: list[int] = []
    final_receivers_only(monkeypatch, lambda call_log, provider, **_: seen.append(call_log.pk))

    def broken(self):
        raise RuntimeError("bulk write failed")

    monkeypatch.setattr(LeadStageWrites, "flush", broken)
    logs = [make_ck_log(LeadFactory()) for _ in range(3)]
    for i, log in enumerate(logs):
        stored(log.pk, f"ck:{i}")
    _drain(django_capture_on_commit_callbacks)
    assert set(Lead.objects.filter(pk__in=[log.lead_id for log in logs]).values_list("stage", flat=True)) == {
        "converted"
    }
    assert LeadActivity.objects.filter(kind="stage").count() == 3  # rolled back, then once each
    assert sorted(seen) == sorted(log.pk for log in logs)
    assert set(ProviderWebhookEvent.objects.values_list("outcome", flat=True)) == {"applied"}
