"""A read compiled once and re-run with new values gives what the ORM gives (``telephony.prepared``)."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import connection
from django.db.models import BooleanField, Exists, ExpressionWrapper, OuterRef, Q
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from callkaro.models import CallKaroCallLog
from crm.tests.factories import LeadFactory
from telephony import prepared
from telephony.dial_checks import dial_row

pytestmark = pytest.mark.django_db
HOUR = dt.timedelta(hours=1)


@pytest.fixture(autouse=True)
def _fresh():
    prepared.prepared_forget()
    yield
    prepared.prepared_forget()


def _build(*, pk: int, now: dt.datetime):
    """A row with a join, a subquery using ``now`` and a comparison with ``now``."""
    later = CallKaroCallLog.objects.filter(lead_id=OuterRef("lead_id"), scheduled_at__gt=now).exclude(pk=OuterRef("pk"))
    due = ExpressionWrapper(Q(scheduled_at__lte=now), output_field=BooleanField())
    return (
        CallKaroCallLog.objects.filter(pk=pk)
        .select_related("lead__assigned_to")
        .annotate(t_later=Exists(later), t_due=due)
    )


def _call(lead, **fields) -> CallKaroCallLog:
    return CallKaroCallLog.objects.create(lead=lead, to_number=str(lead.phone), **fields)


def _same(a, b) -> None:
    assert a is not None and b is not None
    fields = [f.attname for f in CallKaroCallLog._meta.concrete_fields]
    assert [getattr(a, f) for f in fields] == [getattr(b, f) for f in fields]
    assert (a.t_later, a.t_due) == (b.t_later, b.t_due)
    assert a.lead.name == b.lead.name and a.lead.assigned_to == b.lead.assigned_to
    assert type(a.scheduled_at) is type(b.scheduled_at)


def test_each_run_gives_what_the_orm_gives_for_its_own_id_and_clock():
    now = timezone.now()
    lead = LeadFactory()
    due, later = _call(lead, scheduled_at=now - HOUR), _call(lead, scheduled_at=now + HOUR)
    other = _call(LeadFactory(), scheduled_at=None)
    for pk, at in [(due.pk, now), (later.pk, now), (later.pk, now + 2 * HOUR), (other.pk, now)]:
        got = prepared.prepared_first("t", _build, pk=pk, now=at)
        _same(got, _build(pk=pk, now=at).first())
    assert prepared.prepared_first("t", _build, pk=-1, now=now) is None
    assert prepared._local.kept  # it was kept, not rebuilt each time
    assert all(value is not None for value in prepared._local.kept.values())


def test_the_kept_read_is_one_query_and_answers_for_the_new_clock():
    now = timezone.now()
    call = _call(LeadFactory(), scheduled_at=now + HOUR)
    assert prepared.prepared_first("t", _build, pk=call.pk, now=now).t_due is False
    with CaptureQueriesContext(connection) as ctx:
        row = prepared.prepared_first("t", _build, pk=call.pk, now=now + 2 * HOUR)
    assert row.t_due is True and len(ctx.captured_queries) == 1


def test_a_value_derived_from_the_clock_is_not_kept_and_still_answers_right():
    def derived(*, pk: int, now: dt.datetime):
        return CallKaroCallLog.objects.filter(pk=pk, created_at__gt=now - HOUR)  # arithmetic on "now"

    call = _call(LeadFactory())
    assert prepared.prepared_first("d", derived, pk=call.pk, now=timezone.now()) == call
    assert prepared.prepared_first("d", derived, pk=call.pk, now=timezone.now() + 2 * HOUR) is None
    assert list(prepared._local.kept.values()) == [None]


def test_a_query_whose_shape_follows_its_values_is_not_kept():
    def shaped(*, pk: int, now: dt.datetime):
        qs = CallKaroCallLog.objects.filter(pk=pk)
        return qs.filter(scheduled_at__isnull=True) if now.year % 2 else qs

    call = _call(LeadFactory(), scheduled_at=timezone.now())
    assert prepared.prepared_first("s", shaped, pk=call.pk, now=timezone.now()) == call
    assert list(prepared._local.kept.values()) == [None]


@pytest.mark.django_db(transaction=True)
def test_each_thread_keeps_its_own_compiled_read():
    call = _call(LeadFactory())
    found: list = []

    def run() -> None:
        try:
            found.append(prepared.prepared_first("th", _build, pk=call.pk, now=timezone.now()))
        finally:
            connection.close()

    prepared.prepared_first("th", _build, pk=call.pk, now=timezone.now())
    thread = threading.Thread(target=run)
    thread.start()
    thread.join(timeout=30)
    assert found and found[0].pk == call.pk


def test_the_dial_read_is_kept_and_matches_a_fresh_build():
    lead = LeadFactory()
    call = _call(lead, status="dispatching")
    first = dial_row(CallKaroCallLog, call.pk, related=("lead__assigned_to", "agent", "campaign"))
    again = dial_row(CallKaroCallLog, call.pk, related=("lead__assigned_to", "agent", "campaign"))
    assert [v for v in prepared._local.kept.values() if v is not None]  # the dial's read compiled once
    names = [n for n in vars(first) if n.startswith("dial_")]
    assert names and {n: getattr(first, n) for n in names} == {n: getattr(again, n) for n in names}
