"""The dashboard's CSV export: streamed, filtered, bounded in queries, private data masked."""

from __future__ import annotations

import csv
import datetime as dt
import io
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.http import StreamingHttpResponse
from django.urls import reverse

from acefone.models import AcefoneCallLog
from callkaro.models import CallKaroAgent, CallKaroCallLog
from crm.tests.factories import LeadFactory
from reporting import export as dashboard
from reporting import views as views_dashboard
from telephony.status import CallStatus as S

IST = ZoneInfo("Asia/Kolkata")
NOW = dt.datetime(2026, 11, 27, 12, 0, tzinfo=IST)
URL = "reporting:dashboard_export"


def _call(model, **kw):
    at = kw.pop("at", NOW)
    call = model.objects.create(**kw)
    model.objects.filter(pk=call.pk).update(created_at=at)
    return call


@pytest.fixture
def calls(db, rep):
    agent = CallKaroAgent.objects.create(agent_id="ag-1", name="Sales bot")
    lead = LeadFactory(assigned_to=rep, name="=HYPERLINK(evil)", phone="+919812345678")
    ai = _call(
        CallKaroCallLog,
        lead=lead,
        to_number="+919812345678",
        status=S.COMPLETED,
        duration_seconds=90,
        converted=True,
        agent=agent,
        team_member=rep,
        hangup_reason="CLIENT_INITIATED",
        transcript="SECRET TRANSCRIPT my card number is 4111",
        recording_url="https://rec.example/r.mp3",
    )
    human = _call(
        AcefoneCallLog,
        lead=lead,
        to_number="+919812345678",
        status=S.NO_ANSWER,
        team_member=rep,
        agent_number="0602000001",
        hangup_cause="NO_ANSWER",
        at=NOW - dt.timedelta(minutes=5),
    )
    old = _call(CallKaroCallLog, lead=lead, to_number="+919812345678", status=S.FAILED, at=NOW - dt.timedelta(days=3))
    return {"callkaro": ai, "acefone": human, "old": old, "agent": agent}


def _read(response) -> list[list[str]]:
    assert isinstance(response, StreamingHttpResponse) and response.streaming
    chunks = list(response.streaming_content)
    return list(csv.reader(io.StringIO(b"".join(chunks).decode())))


def test_export_streams_in_batches(db, rep, manager_client, monkeypatch):
    monkeypatch.setattr(views_dashboard, "EXPORT_BATCH_ROWS", 10)
    lead = LeadFactory(assigned_to=rep)
    CallKaroCallLog.objects.bulk_create(
        CallKaroCallLog(lead=lead, to_number="+919800000001", status=S.COMPLETED) for _ in range(35)
    )
    response = manager_client.get(reverse(URL), {"period": "all"})
    chunks = [c.decode() for c in response.streaming_content]
    assert [c.count("\n") for c in chunks] == [10, 10, 10, 6]  # header + 35 rows, 10 lines a chunk


def test_export_streams_header_rows_and_masks(calls, manager_client):
    with time_machine.travel(NOW, tick=False):
        response = manager_client.get(reverse(URL))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="calls-2026-11-27-2026-11-27.csv"'
    rows = _read(response)
    assert rows[0] == list(dashboard.EXPORT_HEADER)
    body = rows[1:]
    assert [(r[0], r[1]) for r in body] == [
        ("callkaro", str(calls["callkaro"].pk)),
        ("acefone", str(calls["acefone"].pk)),
    ]
    ai = dict(zip(rows[0], body[0], strict=True))
    assert ai["to_number"] == "+91•••••••678"
    assert ai["lead_name"] == "'=HYPERLINK(evil)"  # a formula is neutralised
    assert ai["created_at"] == "2026-11-27T12:00:00+05:30"
    assert (ai["agent"], ai["status"], ai["duration_seconds"], ai["converted"], ai["has_recording"]) == (
        "Sales bot",
        "completed",
        "90",
        "yes",
        "yes",
    )
    text = "\n".join(",".join(r) for r in rows)
    assert "9812345678" not in text and "SECRET TRANSCRIPT" not in text and "rec.example" not in text
    human = dict(zip(rows[0], body[1], strict=True))
    assert (human["hangup_reason"], human["converted"], human["agent"]) == ("NO_ANSWER", "", "")


def test_export_applies_period_and_filters(calls, manager_client):
    with time_machine.travel(NOW, tick=False):
        week = _read(manager_client.get(reverse(URL), {"period": "7d", "provider": "callkaro"}))
        by_agent = _read(manager_client.get(reverse(URL), {"period": "7d", "agent": calls["agent"].pk}))
        empty = _read(
            manager_client.get(reverse(URL), {"period": "custom", "start": "2026-01-01", "end": "2026-01-02"})
        )
    assert sorted(int(r[1]) for r in week[1:]) == sorted([calls["callkaro"].pk, calls["old"].pk])
    assert [int(r[1]) for r in by_agent[1:]] == [calls["callkaro"].pk]
    assert empty == [list(dashboard.EXPORT_HEADER)]


def test_export_is_for_managers_only(calls, rep_client, admin_client_member):
    assert rep_client.get(reverse(URL)).status_code == 403
    assert admin_client_member.get(reverse(URL)).status_code == 200


@pytest.mark.parametrize("rows", [10, 200])
def test_export_query_count_is_bounded(db, rep, manager_client, rows, django_assert_max_num_queries):
    lead = LeadFactory(assigned_to=rep)
    CallKaroCallLog.objects.bulk_create(
        CallKaroCallLog(lead=lead, to_number="+919800000001", status=S.COMPLETED, team_member=rep) for _ in range(rows)
    )
    AcefoneCallLog.objects.bulk_create(
        AcefoneCallLog(lead=lead, to_number="+919800000001", status=S.COMPLETED, agent_number="1") for _ in range(rows)
    )
    # Session, user, permissions, then one query per provider (rows come in chunks of 2,000).
    with django_assert_max_num_queries(6):
        response = manager_client.get(reverse(URL), {"period": "all"})
        assert len(_read(response)) == 2 * rows + 1


def test_mask_phone():
    assert dashboard.mask_phone("+919812345678") == "+91•••••••678"
    assert dashboard.mask_phone("9812345678") == "•••••••678"
    assert dashboard.mask_phone("") == ""
    assert dashboard.mask_phone("+1234") == "••••"


def test_every_text_cell_from_outside_is_neutralised_and_utf8_declared(calls, manager_client):
    """Hang-up reasons, agent and member names come from providers and admins, not only lead names."""
    calls["agent"].name = "@SUM(1+1)*cmd|' /C calc'!A0"
    calls["agent"].save()
    CallKaroCallLog.objects.filter(pk=calls["callkaro"].pk).update(hangup_reason="=cmd|'/C calc'!A0")
    AcefoneCallLog.objects.filter(pk=calls["acefone"].pk).update(hangup_cause="-2+3")
    calls["callkaro"].team_member.name = "+SUM(A1)"
    calls["callkaro"].team_member.save()
    with time_machine.travel(NOW, tick=False):
        response = manager_client.get(reverse(URL))
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    rows = _read(response)
    ai, human = (dict(zip(rows[0], r, strict=True)) for r in rows[1:3])
    assert ai["hangup_reason"] == "'=cmd|'/C calc'!A0"
    assert ai["agent"].startswith("'@") and ai["team_member"] == "'+SUM(A1)"
    assert human["hangup_reason"] == "'-2+3"
    assert ai["to_number"] == "+91•••••••678"  # a masked number is data, left as it is
    for row in rows[1:]:
        assert all(not cell or cell[0] not in "=+-@" or cell.startswith("+91") for cell in row)


def test_csv_safe_cell_neutralises_every_formula_start():
    for text in ("=1+1", "+1+1", "-1+1", "@A1", "\tx", "\rx", " =1+1", "|x", "%x"):
        assert dashboard.csv_safe_cell(text) == "'" + text
    for value in ("plain", "", 12, None, "-12", "+91•••678", "3.5"):
        assert dashboard.csv_safe_cell(value) == value
