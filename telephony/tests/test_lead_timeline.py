"""The lead's call timeline: written where calls are dialled and end, only ever earlier, and backfilled."""

from __future__ import annotations

import datetime as dt
import importlib
import itertools
import json
from types import SimpleNamespace

import pytest
import responses
from django.apps import apps
from django.core.cache import cache
from django.db import connection
from django.utils import timezone

from acefone.models import AcefoneCallLog
from callkaro.models import CallKaroCallLog
from crm.models import Lead
from crm.tests.factories import LeadFactory
from telephony import drain
from telephony.events import call_final_process
from telephony.lead_timeline import (
    backfill_sql,
    lead_timeline_backfill,
    lead_timeline_note,
    leads_timeline_note,
)
from telephony.services import call_dispatch
from telephony.status import CallStatus
from telephony.tests.test_dial_queries import _queued
from telephony.tests.test_webhook_drain import stored
from telephony.tests.webhook_samples import CK_SECRET, final_receivers_only, make_af_log, make_ck_log

pytestmark = pytest.mark.django_db

AF = "https://api.acefone.test"
CK = "https://ck.test"
T0 = dt.datetime(2026, 11, 20, 10, 0, tzinfo=dt.UTC)


def _at(minutes: int) -> dt.datetime:
    return T0 + dt.timedelta(minutes=minutes)


def _timeline(lead) -> tuple:
    return Lead.objects.values_list("first_call_at", "first_human_call_at", "first_connect_at").get(pk=lead.pk)


@pytest.fixture(autouse=True)
def _providers(settings):
    settings.CALLKARO_BASE_URL, settings.CALLKARO_API_KEY = CK, "sk-callkaro-test-key-1234"
    settings.CALLKARO_DEFAULT_AGENT_ID, settings.CALLKARO_WEBHOOK_SECRET = "default-agent", CK_SECRET
    settings.ACEFONE_BASE_URL, settings.ACEFONE_API_TOKEN = AF, "acefone-token-0042"
    settings.TELEPHONY_HTTP_BACKOFF, settings.TELEPHONY_HTTP_RETRIES = 0, 0
    cache.clear()
    yield
    cache.clear()


# --- Where a call is dialled -----------------------------------------------------------------------


@responses.activate
def test_a_reps_acefone_click_to_call_is_the_leads_first_call_and_first_human_call(rep_client, lead):
    responses.post(f"{AF}/v1/click_to_call", json={"success": True, "message": "Originate successfully queued"})
    resp = rep_client.post("/initiate-acefone-call/", json.dumps({"lead_id": lead.pk}), content_type="application/json")
    assert resp.status_code == 200, resp.content
    log = AcefoneCallLog.objects.get()
    assert _timeline(lead) == (log.dispatched_at, log.dispatched_at, None)  # talk time comes when it ends


@responses.activate
def test_an_ai_dial_sets_the_first_call_only(lead, rep):
    responses.post(f"{CK}/call/outbound", json={"status": "done", "message": "queued", "call_sid": "sid-1"})
    log = _queued(lead, rep)
    call_dispatch(provider="callkaro", call_log_id=log.pk)
    log.refresh_from_db()
    assert _timeline(lead) == (log.dispatched_at, None, None)


@responses.activate
def test_a_dial_the_checks_cancel_is_not_a_call(lead, rep):
    log = _queued(lead, rep)
    Lead.objects.filter(pk=lead.pk).update(do_not_call=True)  # since it was queued
    assert call_dispatch(provider="callkaro", call_log_id=log.pk) == CallStatus.CANCELLED
    assert _timeline(lead) == (None, None, None) and len(responses.calls) == 0


@responses.activate
def test_a_dial_the_provider_refused_counts_as_dialled_as_before(lead, rep):
    """The funnel's definition is the status: failed is not queued, scheduled or cancelled."""
    responses.post(f"{CK}/call/outbound", status=400, json={"status": "error", "message": "bad number"})
    log = _queued(lead, rep)
    assert call_dispatch(provider="callkaro", call_log_id=log.pk, interactive=True) == CallStatus.FAILED
    log.refresh_from_db()
    assert _timeline(lead)[0] == log.dispatched_at


# --- Where a call ends ----------------------------------------------------------------------------


def _drain(django_capture_on_commit_callbacks) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        drain.drain_batch(size=500)


def test_a_drained_batch_sets_first_connects_in_one_update(monkeypatch, django_capture_on_commit_callbacks):
    final_receivers_only(monkeypatch)
    talked, silent = LeadFactory(), LeadFactory()
    a = make_ck_log(talked, dispatched_at=_at(5))
    b = make_ck_log(silent, dispatched_at=_at(7))
    stored(a.pk, "ck:a")  # 143 s of talk
    stored(b.pk, "ck:b", call_duration=0, hangup_reason="USER_UNAVAILABLE", conversion_status=False, post_call={})
    statements: list[str] = []

    def record(execute, sql, params, many, context):
        statements.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        _drain(django_capture_on_commit_callbacks)
    # One round trip for both leads (an executemany, which psycopg 3 pipelines).
    timeline = [sql for sql in statements if sql.startswith('UPDATE "crm_lead" SET') and "first_connect_at" in sql]
    assert len(timeline) == 1
    assert _timeline(talked) == (_at(5), None, _at(5))
    assert _timeline(silent) == (_at(7), None, None)


def test_one_ended_call_on_its_own_sets_its_times(monkeypatch):
    final_receivers_only(monkeypatch)
    lead = LeadFactory()
    log = make_af_log(lead, status=CallStatus.COMPLETED, duration_seconds=40)
    call_final_process(provider="acefone", call_log_id=log.pk)
    assert _timeline(lead) == (log.created_at,) * 3  # never dispatched by us: its creation is its dial time


def test_a_late_or_repeated_end_never_moves_a_time_later(monkeypatch, django_capture_on_commit_callbacks):
    final_receivers_only(monkeypatch)
    lead = LeadFactory()
    early = make_ck_log(lead, status=CallStatus.COMPLETED, duration_seconds=30, dispatched_at=_at(0))
    call_final_process(provider="callkaro", call_log_id=early.pk)
    late = make_ck_log(lead, dispatched_at=_at(60))
    stored(late.pk, "ck:late")
    _drain(django_capture_on_commit_callbacks)
    stored(late.pk, "ck:late:again", try_count=3)  # a newer try ends it again
    _drain(django_capture_on_commit_callbacks)
    call_final_process(provider="callkaro", call_log_id=early.pk)  # a duplicate follow-up
    assert _timeline(lead) == (_at(0), None, _at(0))


# --- The conditional writes -----------------------------------------------------------------------


def test_writes_only_move_earlier_whatever_their_order():
    results = set()
    for order in itertools.permutations([_at(30), _at(10), _at(20), _at(10)]):
        lead = LeadFactory()
        for at in order:
            lead_timeline_note(lead_id=lead.pk, times={"first_call_at": at, "first_connect_at": at + dt.timedelta(1)})
        results.add(_timeline(lead))
    assert results == {(_at(10), None, _at(10) + dt.timedelta(1))}


def test_a_time_the_read_lead_already_shows_costs_no_query(django_assert_num_queries):
    lead = LeadFactory()
    Lead.objects.filter(pk=lead.pk).update(first_call_at=_at(0))
    lead.refresh_from_db()
    with django_assert_num_queries(0):
        assert not lead_timeline_note(lead_id=lead.pk, times={"first_call_at": _at(5)}, known=lead)
    with django_assert_num_queries(1):  # unread: the UPDATE's own filter refuses it
        assert not lead_timeline_note(lead_id=lead.pk, times={"first_call_at": _at(5)})
    assert _timeline(lead)[0] == _at(0)


def test_many_leads_in_one_update_and_queued_or_cancelled_calls_prove_nothing(django_assert_num_queries):
    leads = [LeadFactory() for _ in range(3)]
    logs = [
        ("callkaro", make_ck_log(leads[0], dispatched_at=_at(3))),
        ("acefone", make_af_log(leads[1], dispatched_at=_at(4), status="completed", duration_seconds=9)),
        ("acefone", make_af_log(leads[1], dispatched_at=_at(2), status="no_answer")),
        ("callkaro", make_ck_log(leads[2], status="cancelled", dispatched_at=_at(1))),
        ("callkaro", make_ck_log(leads[2], status="queued")),
    ]
    with django_assert_num_queries(1):
        assert leads_timeline_note(logs) == 2
    assert _timeline(leads[0]) == (_at(3), None, None)
    assert _timeline(leads[1]) == (_at(2), _at(2), _at(4))
    assert _timeline(leads[2]) == (None, None, None)


# --- The backfill ---------------------------------------------------------------------------------


@pytest.fixture
def history():
    """Calls stored without the timeline (before the migration, or loaded in bulk)."""
    a, b, c, d = (LeadFactory() for _ in range(4))
    make_ck_log(a, status="completed", duration_seconds=50, dispatched_at=_at(20))
    make_ck_log(a, status="no_answer", dispatched_at=_at(10))
    make_ck_log(a, status="scheduled")  # not dialled
    make_af_log(a, status="completed", duration_seconds=5, dispatched_at=_at(30))
    make_af_log(b, status="failed", dispatched_at=_at(40))
    make_ck_log(c, status="cancelled", dispatched_at=_at(1))
    Lead.objects.filter(pk=b.pk).update(first_call_at=_at(35), first_human_call_at=_at(50))  # partly known
    return a, b, c, d


EXPECTED = {
    "a": (_at(10), _at(30), _at(20)),
    "b": (_at(35), _at(40), None),  # an earlier time already held stays; a later one moves earlier
    "c": (None, None, None),
    "d": (None, None, None),
}


def _check(history) -> None:
    assert {k: _timeline(lead) for k, lead in zip("abcd", history, strict=True)} == EXPECTED


def test_the_data_migrations_backfill_set_based_and_idempotently(history, django_assert_num_queries):
    editor = SimpleNamespace(connection=connection)
    migrations = ["callkaro.migrations.0006_lead_timeline_backfill", "acefone.migrations.0004_lead_timeline_backfill"]
    with django_assert_num_queries(2):  # one UPDATE … FROM per provider table
        for name in migrations:
            importlib.import_module(name).backfill(apps, editor)
    _check(history)
    assert lead_timeline_backfill() == 0  # nothing left to move


def test_the_older_sqlite_fallback_gives_the_same_timeline(history):
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        for table, human in ((CallKaroCallLog._meta.db_table, False), (AcefoneCallLog._meta.db_table, True)):
            cursor.execute(backfill_sql(quote("crm_lead"), quote(table), human=human, update_from=False))
    _check(history)


def test_the_backfill_never_moves_a_live_write_later(history):
    a = history[0]
    Lead.objects.filter(pk=a.pk).update(first_call_at=_at(-5))
    lead_timeline_backfill()
    assert _timeline(a)[0] == _at(-5)
    assert timezone.is_aware(_timeline(a)[1])
