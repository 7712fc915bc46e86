"""The dashboard's figures against a hand-built data set, its periods in IST, roles and query bounds."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from acefone.models import AcefoneCallLog
from callkaro.models import CallKaroAgent, CallKaroCallLog, CallKaroCampaign
from crm.models import Role
from crm.tests.factories import LeadFactory, make_member
from reporting import selectors
from reporting.periods import DashboardFilters, period_resolve
from reporting.services import rollup_days_rebuild, rollup_refresh
from reporting.widgets import OUTCOMES
from telephony.status import CallStatus as S

IST = ZoneInfo("Asia/Kolkata")
UTC = dt.UTC
#: "Now" in every test: 27 Nov 2026, 12:00 IST.
NOW = dt.datetime(2026, 11, 27, 12, 0, tzinfo=IST)
TODAY = NOW.date()


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


def ai_call(
    lead,
    status,
    *,
    at=NOW,
    duration=None,
    converted=None,
    agent=None,
    member=None,
    campaign=None,
    hangup="",
    transcript="",
    recording="",
):
    call = CallKaroCallLog.objects.create(
        lead=lead,
        to_number=str(lead.phone),
        status=status,
        duration_seconds=duration,
        converted=converted,
        agent=agent,
        team_member=member,
        campaign=campaign,
        hangup_reason=hangup,
        transcript=transcript,
        recording_url=recording,
    )
    CallKaroCallLog.objects.filter(pk=call.pk).update(created_at=at)
    return call


def human_call(lead, status, *, at=NOW, duration=None, member=None):
    call = AcefoneCallLog.objects.create(
        lead=lead,
        to_number=str(lead.phone),
        status=status,
        duration_seconds=duration,
        team_member=member,
        agent_number="0602000001",
    )
    AcefoneCallLog.objects.filter(pk=call.pk).update(created_at=at)
    return call


def figures(key="today", filters=None, **kw):
    return selectors.dashboard_figures(period_resolve(key, now=NOW, **kw), filters or DashboardFilters())


@pytest.fixture
def world(db, rep, rep2):
    """Today: 6 AI calls and 3 human calls with known outcomes; 2 AI calls 3 days ago; 1 forty days ago."""
    sales = CallKaroAgent.objects.create(agent_id="ag-sales", name="Sales bot")
    remind = CallKaroAgent.objects.create(agent_id="ag-remind", name="Reminder bot")
    camp = CallKaroCampaign.objects.create(name="Diwali", agent=sales, status="running", total_leads=10)
    lead = LeadFactory(assigned_to=rep, name="Asha")
    ai = [
        ai_call(
            lead,
            S.COMPLETED,
            duration=120,
            converted=True,
            agent=sales,
            member=rep,
            campaign=camp,
            hangup="CLIENT_INITIATED",
            transcript="hello",
            recording="https://rec.example/1.mp3",
        ),
        ai_call(
            lead,
            S.COMPLETED,
            duration=60,
            converted=False,
            agent=sales,
            member=rep,
            campaign=camp,
            hangup="CLIENT_INITIATED",
        ),
        ai_call(lead, S.COMPLETED, duration=None, agent=remind, member=rep2, hangup="SESSION_TIMEOUT"),
        ai_call(lead, S.NO_ANSWER, agent=sales, member=rep, campaign=camp, hangup="USER_UNAVAILABLE"),
        ai_call(lead, S.FAILED, agent=remind, member=rep2, hangup="INVALID_PHONE_NUMBER"),
        ai_call(lead, S.QUEUED, agent=sales, member=rep, campaign=camp),
    ]
    human = [
        human_call(lead, S.COMPLETED, duration=30, member=rep),
        human_call(lead, S.BUSY, member=rep2),
        human_call(lead, S.FAILED, duration=5, member=rep2),  # talk time, so "connected" by definition
    ]
    earlier = [
        ai_call(lead, S.COMPLETED, duration=40, at=NOW - dt.timedelta(days=3), agent=sales, member=rep),
        ai_call(lead, S.NO_ANSWER, at=NOW - dt.timedelta(days=3), agent=sales, member=rep),
    ]
    old = ai_call(lead, S.COMPLETED, duration=10, at=NOW - dt.timedelta(days=40), agent=sales, member=rep)
    return {
        "sales": sales,
        "remind": remind,
        "camp": camp,
        "lead": lead,
        "callkaro": ai,
        "acefone": human,
        "earlier": earlier,
        "old": old,
    }


# --- periods ---------------------------------------------------------------------------------------------


def test_today_starts_at_local_midnight_ist():
    just_after = dt.datetime(2026, 11, 26, 18, 31, tzinfo=UTC)  # 00:01 IST on 27 Nov
    p = period_resolve("today", now=just_after)
    assert p.first_day == dt.date(2026, 11, 27)
    assert p.start == dt.datetime(2026, 11, 26, 18, 30, tzinfo=UTC)
    assert p.end == dt.datetime(2026, 11, 27, 18, 30, tzinfo=UTC)


def test_seven_days_is_today_and_six_before():
    p = period_resolve("7d", now=NOW)
    assert (p.first_day, p.last_day) == (dt.date(2026, 11, 21), TODAY)
    p30 = period_resolve("30d", now=NOW)
    assert p30.first_day == dt.date(2026, 10, 29)


def test_custom_range_is_inclusive_and_order_insensitive():
    p = period_resolve("custom", start=dt.date(2026, 11, 5), end=dt.date(2026, 11, 1), now=NOW)
    assert (p.first_day, p.last_day) == (dt.date(2026, 11, 1), dt.date(2026, 11, 5))
    assert p.end == dt.datetime(2026, 11, 6, tzinfo=IST)


def test_unknown_period_falls_back_to_today_and_all_has_no_start():
    assert period_resolve("nonsense", now=NOW).key == "today"
    assert period_resolve("all", now=NOW).start is None


# --- figures -----------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_no_calls_at_all_gives_zeros_and_no_rates():
    f = figures("all")
    assert f.kpis.calls == 0 and f.kpis.connected == 0
    assert f.kpis.connect_rate is None and f.kpis.conversion_rate is None and f.kpis.avg_talk_seconds is None
    assert f.kpis.calls_per_day == 0
    assert f.recent == [] and f.agents == [] and f.team == [] and f.hangups == [] and f.campaigns == []
    assert f.chart["labels"] == [TODAY.isoformat()]


def test_kpis_today_both_providers(world):
    k = figures().kpis
    assert k.calls == 9
    assert k.settled == 8  # the queued call is not settled
    assert k.connected == 4  # talk time > 0: 2 AI + human completed + human failed with 5 s
    assert k.completed == 4
    assert k.no_answer == 2  # AI no_answer + human busy
    assert k.failed == 2
    assert k.connect_rate == 50.0
    assert k.talk_seconds == 215
    assert k.avg_talk_seconds == 53.8
    assert k.conversions == 1
    assert k.conversion_rate == 25.0
    assert k.calls_per_day == 9.0


def test_human_vs_ai_figures(world):
    f = figures()
    ai, human = f.by_provider["callkaro"], f.by_provider["acefone"]
    # the completed SESSION_TIMEOUT call with no talk time is not connected (duration > 0 is the definition)
    assert (ai.calls, ai.settled, ai.connected, ai.completed, ai.no_answer, ai.failed) == (6, 5, 2, 3, 1, 1)
    assert ai.connect_rate == 40.0 and ai.talk_seconds == 180 and ai.avg_talk_seconds == 90.0
    assert ai.conversions == 1 and ai.conversion_rate == 50.0
    assert (human.calls, human.settled, human.connected, human.completed, human.no_answer) == (3, 3, 2, 1, 1)
    assert human.connect_rate == 66.7 and human.talk_seconds == 35
    assert human.conversions == 0 and human.conversion_rate == 0.0  # a wrap-up sets a human conversion


def test_period_with_no_data_and_seven_day_window(world):
    empty = figures("custom", start=dt.date(2026, 11, 1), end=dt.date(2026, 11, 10))
    assert empty.kpis.calls == 0 and empty.chart["labels"][0] == "2026-11-01" and len(empty.chart["labels"]) == 10
    assert sum(sum(v) for v in empty.chart["series"].values()) == 0
    week = figures("7d")
    assert week.kpis.calls == 11
    assert week.kpis.calls_per_day == round(11 / 7, 1)
    assert figures("30d").kpis.calls == 11
    assert figures("all").kpis.calls == 12


def test_calls_over_time_stacked_by_outcome(world):
    chart = figures("7d").chart
    assert len(chart["labels"]) == 7
    i_today, i_earlier = chart["labels"].index("2026-11-27"), chart["labels"].index("2026-11-24")
    s = chart["series"]
    assert [s[o][i_today] for o in OUTCOMES] == [4, 2, 2, 1]
    assert [s[o][i_earlier] for o in OUTCOMES] == [1, 1, 0, 0]
    assert sum(s["completed"]) == 5


def test_midnight_ist_boundary(db, rep):
    lead = LeadFactory(assigned_to=rep)
    before = dt.datetime(2026, 11, 26, 18, 29, 59, tzinfo=UTC)  # 23:59:59 IST, 26 Nov
    after = dt.datetime(2026, 11, 26, 18, 30, 0, tzinfo=UTC)  # 00:00:00 IST, 27 Nov
    ai_call(lead, S.COMPLETED, duration=10, at=before)
    ai_call(lead, S.FAILED, at=after)
    human_call(lead, S.COMPLETED, duration=20, at=before)
    today = figures("today")
    assert today.kpis.calls == 1 and today.kpis.failed == 1 and today.kpis.completed == 0
    week = figures("7d").chart
    assert week["series"]["completed"][week["labels"].index("2026-11-26")] == 2
    assert week["series"]["failed"][week["labels"].index("2026-11-27")] == 1
    # A custom range that ends on 26 Nov includes 23:59:59 IST but not 00:00 IST.
    ranged = figures("custom", start=dt.date(2026, 11, 26), end=dt.date(2026, 11, 26))
    assert ranged.kpis.calls == 2 and ranged.kpis.failed == 0


def test_hangup_breakdown_agents_and_team(world):
    f = figures()
    assert {h["reason"]: h["calls"] for h in f.hangups} == {
        "CLIENT_INITIATED": 2,
        "SESSION_TIMEOUT": 1,
        "USER_UNAVAILABLE": 1,
        "INVALID_PHONE_NUMBER": 1,
        "(none yet)": 1,
    }
    agents = {a["name"]: a for a in f.agents}
    assert agents["Sales bot"]["calls"] == 4 and agents["Sales bot"]["talk_minutes"] == 3.0
    assert agents["Sales bot"]["connect_rate"] == 66.7  # 2 connected of 3 settled
    assert agents["Sales bot"]["conversion_rate"] == 50.0
    assert agents["Reminder bot"]["calls"] == 2 and agents["Reminder bot"]["connect_rate"] == 0.0
    team = {m["name"]: m for m in f.team}
    rep_row = team[world["callkaro"][0].team_member.name]
    assert (rep_row["calls"], *rep_row["provider_calls"]) == (5, 4, 1)
    assert rep_row["connected"] == 3 and rep_row["connect_rate"] == 75.0 and rep_row["conversions"] == 1
    rep2_row = team[world["callkaro"][2].team_member.name]
    assert (rep2_row["calls"], rep2_row["connected"], rep2_row["settled"]) == (4, 1, 4)


def test_campaign_progress_and_completion_rate(world):
    (c,) = figures().campaigns
    assert c["name"] == "Diwali" and c["planned"] == 10 and c["calls"] == 4
    assert c["settled"] == 3 and c["completed"] == 2 and c["progress"] == 30.0 and c["completion_rate"] == 66.7
    CallKaroCampaign.objects.create(name="Draft one", agent=world["sales"])
    assert [c["name"] for c in figures().campaigns] == ["Diwali"]  # drafts are not shown
    assert figures(filters=DashboardFilters(provider="acefone")).campaigns == []


def test_filters(world, rep):
    by_agent = figures(filters=DashboardFilters(agent_id=world["remind"].pk))
    assert by_agent.kpis.calls == 2 and by_agent.by_provider["acefone"].calls == 0  # agent filter excludes human calls
    by_campaign = figures(filters=DashboardFilters(campaign_id=world["camp"].pk))
    assert by_campaign.kpis.calls == 3 + 0 + 1 - 0 and by_campaign.kpis.conversions == 1
    human_only = figures(filters=DashboardFilters(provider="acefone"))
    assert human_only.kpis.calls == 3 and human_only.agents == [] and human_only.by_provider["callkaro"].calls == 6
    assert all(r["provider"] == "acefone" for r in human_only.recent)
    ai_only = figures(filters=DashboardFilters(provider="callkaro"))
    assert ai_only.kpis.calls == 6 and ai_only.kpis.conversions == 1
    mine = figures(filters=DashboardFilters(team_member_id=rep.pk))
    assert mine.kpis.calls == 5 and [m["name"] for m in mine.team] == [rep.name]


def test_recent_calls_merge_both_providers_newest_first(world):
    f = figures()
    assert len(f.recent) == 8  # the queued call has not happened yet
    times = [r["created_at"] for r in f.recent]
    assert times == sorted(times, reverse=True)
    first_ai = next(r for r in f.recent if r["id"] == world["callkaro"][0].pk and r["provider"] == "callkaro")
    assert first_ai["has_transcript"] is True and first_ai["recording_url"] == "https://rec.example/1.mp3"
    assert first_ai["agent_name"] == "Sales bot" and first_ai["lead_name"] == "Asha"


def _comparable(f):
    return (
        vars(f.kpis),
        vars(f.by_provider["callkaro"]),
        vars(f.by_provider["acefone"]),
        f.chart,
        f.hangups,
        f.agents,
        f.team,
        f.campaigns,
        f.recent,
    )


@pytest.mark.parametrize("key", ["today", "7d", "all"])
def test_cached_figures_equal_uncached(world, key):
    p, flt = period_resolve(key, now=NOW), DashboardFilters()
    uncached = selectors.dashboard_figures(p, flt)
    cold = selectors.dashboard_figures_cached(p, flt, now=NOW)
    warm = selectors.dashboard_figures_cached(p, flt, now=NOW)
    assert _comparable(cold) == _comparable(uncached) == _comparable(warm)


def test_closed_days_come_from_the_rollup_and_today_is_live(world, rep, django_assert_num_queries):
    p, flt = period_resolve("7d", now=NOW), DashboardFilters()
    rollup_days_rebuild(days=[TODAY - dt.timedelta(days=n) for n in range(1, 7)])
    selectors.dashboard_figures_cached(p, flt, now=NOW)  # campaign progress cached
    ai_call(world["lead"], S.COMPLETED, duration=10, at=NOW, member=rep)  # today: counted at once
    ai_call(world["lead"], S.COMPLETED, duration=10, at=NOW - dt.timedelta(days=2), member=rep)  # rolled up
    # 1 for the rolled-up days, 3 roll-up queries, today's 6 grouped queries and the 2 recent-calls queries
    with django_assert_num_queries(12):
        f = selectors.dashboard_figures_cached(p, flt, now=NOW)
    assert f.kpis.calls == 12  # 11 + today's new call; the back-dated one (no hook ran) waits for the refresh
    rollup_refresh(now=NOW)
    assert selectors.dashboard_figures_cached(p, flt, now=NOW).kpis.calls == 13


def test_a_past_range_is_served_from_the_rollup(world, django_assert_num_queries):
    p = period_resolve("custom", start=dt.date(2026, 11, 20), end=dt.date(2026, 11, 26), now=NOW)
    rollup_days_rebuild(days=[dt.date(2026, 11, 20) + dt.timedelta(days=n) for n in range(7)])
    first = selectors.dashboard_figures_cached(p, DashboardFilters(), now=NOW)
    with django_assert_num_queries(6):  # the rolled-up days, 3 roll-up queries, recent calls; no live scan
        again = selectors.dashboard_figures_cached(p, DashboardFilters(), now=NOW)
    assert first.kpis.calls == again.kpis.calls == 2


# --- views -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["dashboard", "dashboard_live", "dashboard_export"])
def test_reps_get_403(rep_client, name):
    assert rep_client.get(reverse(f"reporting:{name}")).status_code == 403


@pytest.mark.parametrize("name", ["dashboard", "dashboard_live", "dashboard_export"])
def test_anonymous_is_sent_to_login(client, db, name):
    response = client.get(reverse(f"reporting:{name}"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_manager_and_admin_see_the_page(world, manager_client, admin_client_member):
    with time_machine.travel(NOW, tick=False):
        for c in (manager_client, admin_client_member):
            response = c.get(reverse("reporting:dashboard"))
            assert response.status_code == 200
            body = response.content.decode()
            assert 'hx-trigger="every 5s"' in body and reverse("reporting:dashboard_live") in body
            assert 'id="dashboard-chart-data"' in body and "chart-4.6.1.umd.min.js" in body
            assert "Sales bot" in body and reverse("crm:lead_detail", args=[world["lead"].pk]) in body
            assert response.context["figures"].kpis.calls == 9


def test_live_partial_is_a_fragment_with_the_filters(world, manager_client):
    with time_machine.travel(NOW, tick=False):
        response = manager_client.get(reverse("reporting:dashboard_live"), {"period": "7d", "provider": "callkaro"})
    assert response.status_code == 200
    body = response.content.decode()
    assert "<html" not in body and 'id="dashboard-chart-data"' in body and 'data-kpi="calls"' in body
    assert response.context["figures"].kpis.calls == 8


def test_invalid_filters_fall_back_to_defaults(world, manager_client):
    with time_machine.travel(NOW, tick=False):
        response = manager_client.get(reverse("reporting:dashboard"), {"period": "x", "agent": "abc"})
    assert response.status_code == 200 and response.context["figures"].kpis.calls == 9


def _seed(n: int, rep) -> None:
    agent = CallKaroAgent.objects.create(agent_id=f"bulk-{n}", name=f"Bulk {n}")
    camp = CallKaroCampaign.objects.create(name=f"Bulk {n}", agent=agent, status="running", total_leads=n)
    leads = [LeadFactory(assigned_to=rep) for _ in range(5)]
    statuses = [S.COMPLETED, S.NO_ANSWER, S.FAILED, S.BUSY, S.QUEUED]
    CallKaroCallLog.objects.bulk_create(
        CallKaroCallLog(
            lead=leads[i % 5],
            to_number="+919800000000",
            status=statuses[i % 5],
            duration_seconds=i,
            agent=agent,
            campaign=camp,
            team_member=rep,
            hangup_reason=f"R{i % 7}",
            converted=i % 3 == 0,
        )
        for i in range(n)
    )
    AcefoneCallLog.objects.bulk_create(
        AcefoneCallLog(
            lead=leads[i % 5], to_number="+919800000000", status=statuses[i % 5], team_member=rep, agent_number="1"
        )
        for i in range(n)
    )
    for _i in range(3):  # extra members and agents, so that grouped rows grow too
        make_member(Role.REP)


#: 4 for session, user and permissions, 1 for the navigation, 3 for the filter options (full page only),
#: and at most 15 for the widgets: 6 grouped queries for the closed days (when the roll-up is not cached),
#: 6 for today, 1 for campaigns, 2 for recent calls. The same whatever the row count.
MAX_PAGE_QUERIES = 23
MAX_LIVE_QUERIES = 20


@pytest.mark.parametrize("rows", [10, 200])
@pytest.mark.parametrize("period", ["today", "all"])
def test_query_count_is_bounded_and_flat(manager_client, rep, rows, period, django_assert_max_num_queries):
    _seed(rows, rep)
    with django_assert_max_num_queries(MAX_PAGE_QUERIES):
        assert manager_client.get(reverse("reporting:dashboard"), {"period": period}).status_code == 200
    cache.clear()
    with django_assert_max_num_queries(MAX_LIVE_QUERIES):
        assert manager_client.get(reverse("reporting:dashboard_live"), {"period": period}).status_code == 200


def test_query_count_does_not_grow_with_rows(manager_client, rep):
    counts = []
    for rows in (10, 200):
        _seed(rows, rep)
        cache.clear()
        with CaptureQueriesContext(connection) as ctx:
            manager_client.get(reverse("reporting:dashboard"), {"period": "all"})
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1]
