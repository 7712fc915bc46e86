"""``telephony.calls``, the one reader of calls: every provider's table, named by its provider key."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from acefone.models import AcefoneCallLog
from callkaro.models import CallKaroAgent, CallKaroCallLog
from crm.models import Lead
from crm.tests.factories import LeadFactory
from telephony import calls
from telephony.status import CallStatus as S


def _call(model, lead, status, *, ago: dt.timedelta = dt.timedelta(0), **kw):
    extra = {"agent_number": "0602000001"} if model is AcefoneCallLog else {}
    log = model.objects.create(lead=lead, to_number=str(lead.phone), status=status, **extra, **kw)
    model.objects.filter(pk=log.pk).update(created_at=timezone.now() - ago)
    log.refresh_from_db()
    return log


@pytest.fixture
def leads(rep):
    return {name: LeadFactory(assigned_to=rep) for name in ("ai_queued", "human_live", "settled", "never")}


def test_models_come_from_the_registry_keyed_by_provider():
    assert calls.call_log_models() == {"callkaro": CallKaroCallLog, "acefone": AcefoneCallLog}
    assert calls.call_log_model("acefone") is AcefoneCallLog
    assert calls.provider_labels() == {"callkaro": "Call Karo AI", "acefone": "Acefone (human)"}
    assert calls.call_log_has("callkaro", "campaign") and not calls.call_log_has("acefone", "campaign")
    assert calls.providers_with("converted") == ["callkaro", "acefone"]  # acefone: set by the wrap-up
    assert calls.providers_with("hangup_reason") == ["callkaro"]
    assert calls.providers_with("agent_number", ["callkaro"]) == []


def test_in_flight_across_providers(leads):
    _call(CallKaroCallLog, leads["ai_queued"], S.QUEUED)
    _call(AcefoneCallLog, leads["human_live"], S.IN_PROGRESS)
    _call(CallKaroCallLog, leads["settled"], S.COMPLETED)
    _call(AcefoneCallLog, leads["settled"], S.NO_ANSWER)
    busy = set(Lead.objects.filter(calls.leads_with_calls_in_flight()).values_list("pk", flat=True))
    assert busy == {leads["ai_queued"].pk, leads["human_live"].pk}
    assert calls.lead_has_call_in_flight(leads["human_live"].pk)
    assert not calls.lead_has_call_in_flight(leads["settled"].pk)
    assert not calls.lead_has_call_in_flight(leads["never"].pk)


def test_lead_call_exists_since_and_statuses(leads):
    _call(CallKaroCallLog, leads["ai_queued"], S.QUEUED)
    _call(AcefoneCallLog, leads["human_live"], S.COMPLETED, ago=dt.timedelta(days=10))
    _call(CallKaroCallLog, leads["settled"], S.COMPLETED, ago=dt.timedelta(days=1))
    since = timezone.now() - dt.timedelta(days=3)

    def pks(q):
        return set(Lead.objects.filter(q).values_list("pk", flat=True))

    assert pks(calls.lead_call_exists()) == {leads[n].pk for n in ("ai_queued", "human_live", "settled")}
    assert pks(calls.lead_call_exists(since=since)) == {leads["ai_queued"].pk, leads["settled"].pk}
    assert pks(calls.lead_call_exists(since=since, exclude_statuses=[S.QUEUED])) == {leads["settled"].pk}
    never_recently = set(Lead.objects.filter(~calls.lead_call_exists(since=since)).values_list("pk", flat=True))
    assert never_recently == {leads["human_live"].pk, leads["never"].pk}


def test_a_leads_calls_merge_newest_first(lead):
    agent = CallKaroAgent.objects.create(agent_id="a1", name="Sales bot")
    old = _call(CallKaroCallLog, lead, S.COMPLETED, ago=dt.timedelta(hours=3), agent=agent)
    mid = _call(AcefoneCallLog, lead, S.COMPLETED, ago=dt.timedelta(hours=2))
    new = _call(CallKaroCallLog, lead, S.QUEUED, ago=dt.timedelta(hours=1))
    rows = calls.calls_for_lead(lead.pk)
    assert [(p, log.pk) for p, log in rows] == [("callkaro", new.pk), ("acefone", mid.pk), ("callkaro", old.pk)]
    assert [(p, log.pk) for p, log in calls.calls_for_lead(lead.pk, limit=2)] == [
        ("callkaro", new.pk),
        ("acefone", mid.pk),
    ]


def test_union_has_the_provider_key_column(lead):
    a = _call(CallKaroCallLog, lead, S.COMPLETED, duration_seconds=12)
    h = _call(AcefoneCallLog, lead, S.BUSY)
    with CaptureQueriesContext(connection) as ctx:
        rows = list(calls.calls_union("id", "status", "duration_seconds", lead_id=lead.pk))
    assert len(ctx.captured_queries) == 1
    assert sorted((r["provider"], r["id"], r["status"]) for r in rows) == sorted(
        [("callkaro", a.pk, S.COMPLETED), ("acefone", h.pk, S.BUSY)]
    )
    start = timezone.now() + dt.timedelta(minutes=1)
    assert list(calls.calls_union("id", ranges=[(start, start + dt.timedelta(hours=1))])) == []


def test_stuck_calls_and_first_call(lead):
    assert calls.first_call_at() is None
    stuck = _call(AcefoneCallLog, lead, S.RINGING, ago=dt.timedelta(hours=2))
    _call(CallKaroCallLog, lead, S.RINGING, ago=dt.timedelta(minutes=1))
    _call(CallKaroCallLog, lead, S.COMPLETED, ago=dt.timedelta(hours=3))
    found = calls.calls_stuck(cutoff=timezone.now() - dt.timedelta(minutes=30))
    assert {p: [log.pk for log in logs] for p, logs in found.items()} == {"callkaro": [], "acefone": [stuck.pk]}
    first = calls.first_call_at()
    assert first is not None and timezone.now() - first > dt.timedelta(hours=2, minutes=59)
