"""The funnel and the leaderboard on a hand-built data set, their CSV and their query counts."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from acefone.models import AcefoneCallLog
from callkaro.models import CallKaroCallLog
from crm.models import FollowUp, Lead, LeadStage
from crm.tests.factories import LeadFactory
from reporting.funnel import funnel_report, leaderboard
from reporting.periods import period_resolve
from telephony.lead_timeline import leads_timeline_note

pytestmark = pytest.mark.django_db


def _call(model, lead, member, *, after_s, status="completed", duration=0, **kw):
    extra = {"agent_number": "1001"} if model is AcefoneCallLog else {}
    log = model.objects.create(
        lead=lead,
        team_member=member,
        to_number=str(lead.phone),
        status=status,
        duration_seconds=duration,
        **extra,
        **kw,
    )
    log.created_at = lead.created_at + dt.timedelta(seconds=after_s)
    model.objects.filter(pk=log.pk).update(created_at=log.created_at)
    # Made by hand, not dialled or ended through the services: its lead's timeline is noted as they do.
    leads_timeline_note([("acefone" if model is AcefoneCallLog else "callkaro", log)])
    return log


@pytest.fixture
def funnel_world(rep, rep2):
    def lead(name, ad, stage=LeadStage.NEW, owner=rep):
        return LeadFactory(
            name=name,
            assigned_to=owner,
            meta_form_name="2BHK form",
            meta_campaign_name="Diwali",
            meta_ad_name=ad,
            stage=stage,
        )

    a, b, c = lead("A", "ad-1", LeadStage.CONVERTED), lead("B", "ad-1", LeadStage.INTERESTED), lead("C", "ad-1")
    d = lead("D", "ad-2", owner=rep2)
    LeadFactory(name="Walk-in", assigned_to=rep)  # not from Meta: its own row
    _call(CallKaroCallLog, a, rep, after_s=60, duration=90, converted=True)
    _call(AcefoneCallLog, a, rep, after_s=600, duration=120)
    _call(CallKaroCallLog, b, rep, after_s=180, status="no_answer")
    _call(AcefoneCallLog, b, rep, after_s=900, duration=30)
    _call(CallKaroCallLog, c, rep, after_s=10, status="scheduled")  # not dialled yet
    _call(AcefoneCallLog, d, rep2, after_s=30, status="no_answer", agent_answered=True, customer_answered=False)
    now = timezone.now()
    FollowUp.objects.create(lead=c, owner=rep, due_at=now - dt.timedelta(hours=2))
    FollowUp.objects.create(lead=c, owner=rep, due_at=now + dt.timedelta(hours=2))  # not overdue
    FollowUp.objects.create(lead=d, owner=rep2, due_at=now - dt.timedelta(hours=1), done_at=now)  # done
    return {"a": a, "b": b, "c": c, "d": d}


def test_funnel_counts_and_medians(funnel_world):
    rows = {(r["meta_form_name"], r["meta_ad_name"]): r for r in funnel_report(period_resolve("7d"))}
    ad1 = rows[("2BHK form", "ad-1")]
    assert (ad1["leads"], ad1["called"], ad1["connected"], ad1["interested"], ad1["converted"]) == (3, 2, 2, 2, 1)
    assert ad1["to_first_call"] == 120  # median of 60 s (A) and 180 s (B); C only scheduled
    assert ad1["to_human"] == 750  # median of 600 s and 900 s
    ad2 = rows[("2BHK form", "ad-2")]
    assert (ad2["leads"], ad2["called"], ad2["connected"], ad2["to_first_call"], ad2["to_human"]) == (1, 1, 0, 30, 30)
    assert rows[("", "")]["leads"] == 1 and rows[("", "")]["to_first_call"] is None


def test_the_funnel_uses_metas_submission_time_when_known(funnel_world):
    a = funnel_world["a"]
    Lead.objects.filter(pk=a.pk).update(meta_created_at=a.created_at - dt.timedelta(seconds=40))
    ad1 = next(r for r in funnel_report(period_resolve("7d")) if r["meta_ad_name"] == "ad-1")
    assert ad1["to_first_call"] == 140  # median of 100 s and 180 s


def test_leaderboard(funnel_world, rep, rep2):
    board = {r["name"]: r for r in leaderboard(period_resolve("7d"))}
    mine = board[rep.name]
    assert (mine["calls"], mine["connects"], mine["conversions"], mine["talk_seconds"], mine["overdue"]) == (
        4,
        3,
        1,
        240,
        1,
    )  # the scheduled call is not a call yet
    theirs = board[rep2.name]
    assert (theirs["calls"], theirs["connects"], theirs["overdue"]) == (1, 0, 0)
    assert list(board) == [rep.name, rep2.name]


def test_queries_stay_few_whatever_the_rows(funnel_world, rep, django_assert_max_num_queries):
    for i in range(30):
        lead = LeadFactory(assigned_to=rep, meta_form_name=f"form {i % 3}")
        _call(CallKaroCallLog, lead, rep, after_s=i, duration=i)
    with django_assert_max_num_queries(2):
        funnel_report(period_resolve("7d"))
    with django_assert_max_num_queries(4):  # which days are rolled up (none), each provider's calls, overdue
        leaderboard(period_resolve("7d"))
    with django_assert_max_num_queries(3):  # today has no rolled-up day to look for
        leaderboard(period_resolve("today"))


def test_the_funnel_is_one_query_of_lead_rows(funnel_world, rep):
    """No call-log table is read: the lead timeline holds the times. PostgreSQL takes the medians in the
    grouped query; SQLite, without ``percentile_cont``, reads the called leads' times once more."""
    for i in range(30):
        lead = LeadFactory(assigned_to=rep, meta_form_name=f"form {i % 3}")
        _call(AcefoneCallLog, lead, rep, after_s=i, duration=i)
    postgres = connection.vendor == "postgresql"
    with CaptureQueriesContext(connection) as ctx:
        rows = funnel_report(period_resolve("7d"))
    assert len(ctx.captured_queries) == (1 if postgres else 2)
    assert not any("calllog" in q["sql"] for q in ctx.captured_queries)
    by_form = {r["meta_form_name"]: r for r in rows}
    # form 0 holds i = 0, 3, ..., 27: ten leads, median of 12 s and 15 s.
    assert (by_form["form 0"]["called"], by_form["form 0"]["to_first_call"], by_form["form 0"]["to_human"]) == (
        10,
        13,
        13,
    )
    assert by_form["form 0"]["connected"] == 9  # i = 0 talked for 0 s


def test_csv_exports_neutralise_formulas(funnel_world, manager_client, rep):
    Lead.objects.filter(pk=funnel_world["a"].pk).update(meta_form_name="=HYPERLINK(1)")
    rep.name = "@evil"
    rep.save()
    funnel = manager_client.get(reverse("reporting:dashboard_funnel_export") + "?period=7d").content.decode()
    assert "'=HYPERLINK(1)" in funnel and "\n=HYPERLINK" not in funnel
    assert funnel.splitlines()[0].startswith("Meta form,Meta campaign,Ad,Leads in")
    board = manager_client.get(reverse("reporting:dashboard_leaderboard_export") + "?period=7d").content.decode()
    assert "'@evil" in board


def test_the_page_shows_both_tables(funnel_world, manager_client, rep_client):
    body = manager_client.get(reverse("reporting:dashboard_funnel") + "?period=7d").content.decode()
    assert "2BHK form" in body and "Team leaderboard" in body and "120 s" in body
    assert rep_client.get(reverse("reporting:dashboard_funnel")).status_code == 403
