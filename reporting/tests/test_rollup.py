"""The daily roll-up: what it answers equals the live queries, and it follows late changes to old calls."""

from __future__ import annotations

import datetime as dt
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.cache import cache
from django.core.management import call_command
from django.db.models import F
from django.urls import reverse

from acefone.models import AcefoneCallLog
from callkaro.models import CallKaroAgent, CallKaroCallLog, CallKaroCampaign
from crm.tests.factories import LeadFactory
from reporting import selectors
from reporting.models import CallDailyRollup, CallRollupDay
from reporting.periods import DashboardFilters, local_midnight, period_resolve
from reporting.rollup import day_runs, rollup_clean_days
from reporting.services import LAST_REFRESH_KEY, rollup_call_final, rollup_days_rebuild, rollup_refresh
from telephony.status import CallStatus as S
from telephony.tests.webhook_samples import CK_SECRET, call_ended, final_receivers_only, post_json

IST = ZoneInfo("Asia/Kolkata")
#: "Now" in every test: 27 Nov 2026, 12:00 IST.
NOW = dt.datetime(2026, 11, 27, 12, 0, tzinfo=IST)
TODAY = NOW.date()
YESTERDAY = TODAY - dt.timedelta(days=1)


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


def _ai(lead, status, at, *, duration=None, member=None, **fields):
    fields.update(duration_seconds=duration, team_member=member)
    call = CallKaroCallLog.objects.create(lead=lead, to_number=str(lead.phone), status=status, **fields)
    CallKaroCallLog.objects.filter(pk=call.pk).update(created_at=at)
    return call


def _human(lead, status, at, *, duration=None, member=None, **fields):
    fields.update(duration_seconds=duration, team_member=member)
    call = AcefoneCallLog.objects.create(
        lead=lead, to_number=str(lead.phone), status=status, agent_number="0602000001", **fields
    )
    AcefoneCallLog.objects.filter(pk=call.pk).update(created_at=at)
    return call


def _ist(day: dt.date, h: int, m: int = 0, s: int = 0) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, h, m, s, tzinfo=IST)


@pytest.fixture
def world(db, rep, rep2):
    """Calls on both sides of several IST midnights (18:30 UTC), every outcome, both providers."""
    sales = CallKaroAgent.objects.create(agent_id="ag-sales", name="Sales bot")
    remind = CallKaroAgent.objects.create(agent_id="ag-remind", name="Reminder bot")
    camp = CallKaroCampaign.objects.create(name="Diwali", agent=sales, status="running", total_leads=10)
    lead = LeadFactory(assigned_to=rep, name="Asha")
    d3, d2 = TODAY - dt.timedelta(days=3), TODAY - dt.timedelta(days=2)
    calls = {
        # 23:59:59 IST on d3 and 00:00:00 IST on d2: one second apart, different local days.
        "late": _ai(
            lead,
            S.COMPLETED,
            _ist(d3, 23, 59, 59),
            duration=90,
            converted=True,
            agent=sales,
            member=rep,
            campaign=camp,
            hangup_reason="CLIENT_INITIATED",
        ),
        "midnight": _ai(
            lead,
            S.NO_ANSWER,
            _ist(d2, 0, 0, 0),
            agent=sales,
            member=rep,
            campaign=camp,
            hangup_reason="USER_UNAVAILABLE",
        ),
        # 18:29:59 UTC is 23:59:59 IST (yesterday's last second); 18:30 UTC is today's first.
        "y_last": _ai(
            lead,
            S.COMPLETED,
            dt.datetime(2026, 11, 26, 18, 29, 59, tzinfo=dt.UTC),
            duration=None,
            agent=remind,
            member=rep2,
            hangup_reason="SESSION_TIMEOUT",
        ),
        "t_first": _ai(lead, S.FAILED, dt.datetime(2026, 11, 26, 18, 30, tzinfo=dt.UTC), agent=remind, member=rep2),
        "voicemail": _ai(lead, S.FAILED, _ist(YESTERDAY, 10), duration=12, agent=sales, member=rep2),
        "busy": _ai(lead, S.BUSY, _ist(YESTERDAY, 11), agent=None, member=None, hangup_reason="USER_BUSY"),
        "cancelled": _ai(lead, S.CANCELLED, _ist(YESTERDAY, 12), agent=sales, member=rep, campaign=camp),
        "unknown": _ai(lead, S.UNKNOWN, _ist(d2, 9), agent=remind, member=rep),
        "queued": _ai(lead, S.QUEUED, _ist(d3, 9), agent=sales, member=rep, campaign=camp),
        "old": _ai(
            lead, S.COMPLETED, NOW - dt.timedelta(days=40), duration=10, converted=False, agent=sales, member=rep
        ),
        "today": _ai(lead, S.COMPLETED, NOW, duration=30, converted=True, agent=sales, member=rep),
        "h_late": _human(lead, S.COMPLETED, _ist(d3, 23, 59, 59), duration=30, member=rep),
        "h_midnight": _human(lead, S.BUSY, _ist(d2, 0, 0, 0), member=rep2),
        "h_failed_talk": _human(lead, S.FAILED, _ist(YESTERDAY, 15), duration=5, member=rep2),
        "h_live": _human(lead, S.IN_PROGRESS, _ist(YESTERDAY, 23, 59), member=None),
        "h_today": _human(lead, S.NO_ANSWER, NOW, member=rep),
    }
    return {"sales": sales, "remind": remind, "camp": camp, "lead": lead, "calls": calls, "rep": rep, "rep2": rep2}


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


def _build_all():
    first = (NOW - dt.timedelta(days=45)).date()
    rollup_days_rebuild(days=[first + dt.timedelta(days=n) for n in range((YESTERDAY - first).days + 1)])


def _filter_sets(w):
    return [
        DashboardFilters(),
        DashboardFilters(provider="callkaro"),
        DashboardFilters(provider="acefone"),
        DashboardFilters(agent_id=w["sales"].pk),
        DashboardFilters(campaign_id=w["camp"].pk),
        DashboardFilters(team_member_id=w["rep2"].pk),
        DashboardFilters(team_member_id=w["rep"].pk, provider="acefone"),
    ]


PERIODS = [("today", {}), ("7d", {}), ("30d", {}), ("all", {})]
PERIODS += [("custom", {"start": TODAY - dt.timedelta(days=3), "end": TODAY - dt.timedelta(days=2)})]
PERIODS += [("custom", {"start": TODAY - dt.timedelta(days=2), "end": TODAY})]


@pytest.mark.parametrize(("key", "kw"), PERIODS)
def test_rollup_backed_figures_equal_the_live_figures(world, key, kw):
    _build_all()
    assert CallDailyRollup.objects.exists()
    p = period_resolve(key, now=NOW, **kw)
    for filters in _filter_sets(world):
        live = selectors.dashboard_figures(p, filters)
        rolled = selectors.dashboard_figures_cached(p, filters, now=NOW)
        assert _comparable(rolled) == _comparable(live), filters


def test_the_rollup_is_what_answers_past_days(world):
    """A tampered roll-up row shows on the page: the past days really come from it, today does not."""
    _build_all()
    p = period_resolve("7d", now=NOW)
    assert selectors.live_ranges(p, rollup_clean_days(p.first_day, YESTERDAY)) == [(local_midnight(TODAY), p.end)]
    before = selectors.dashboard_figures_cached(p, DashboardFilters(), now=NOW).kpis.calls
    one = CallDailyRollup.objects.filter(day=YESTERDAY).first()
    CallDailyRollup.objects.filter(pk=one.pk).update(calls=F("calls") + 100)
    assert selectors.dashboard_figures_cached(p, DashboardFilters(), now=NOW).kpis.calls == before + 100
    assert selectors.dashboard_figures(p, DashboardFilters()).kpis.calls == before


def test_midnight_ist_splits_days_in_the_rollup(world):
    _build_all()
    d3, d2 = TODAY - dt.timedelta(days=3), TODAY - dt.timedelta(days=2)
    per_day = {
        (r.day, r.provider, r.outcome): r.calls for r in CallDailyRollup.objects.filter(day__in=[d3, d2, YESTERDAY])
    }
    assert per_day[(d3, "callkaro", "completed")] == 1 and per_day[(d2, "callkaro", "no_answer")] == 1
    assert per_day[(d3, "acefone", "completed")] == 1 and per_day[(d2, "acefone", "no_answer")] == 1
    assert per_day[(YESTERDAY, "callkaro", "completed")] == 1  # 18:29:59 UTC
    assert not CallDailyRollup.objects.filter(day=TODAY).exists()  # 18:30 UTC is today: never rolled up
    late = CallDailyRollup.objects.get(day=d3, provider="callkaro", outcome="completed")
    assert (late.connected, late.conversions, late.talk_seconds, late.hangup_reason) == (1, 1, 90, "CLIENT_INITIATED")


def test_rebuild_is_idempotent(world):
    _build_all()
    rows = sorted(CallDailyRollup.objects.values_list("day", "provider", "outcome", "calls", "talk_seconds"))
    _build_all()
    assert sorted(CallDailyRollup.objects.values_list("day", "provider", "outcome", "calls", "talk_seconds")) == rows


def test_a_late_webhook_on_an_old_call_is_reflected(
    world, client, settings, monkeypatch, django_capture_on_commit_callbacks
):
    """The final-call receiver marks the day dirty (counted live at once); the beat task rebuilds it."""
    settings.CALLKARO_WEBHOOK_SECRET = CK_SECRET
    final_receivers_only(monkeypatch, rollup_call_final)
    _build_all()
    old_day = TODAY - dt.timedelta(days=3)
    queued = world["calls"]["queued"]
    p, flt = period_resolve("7d", now=NOW), DashboardFilters()
    assert selectors.dashboard_figures_cached(p, flt, now=NOW).kpis.completed == 4
    with time_machine.travel(NOW, tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            body = call_ended(queued.pk, call_duration=45)
            assert post_json(client, "/callkaro-webhook/", body, token=CK_SECRET, commit=False).status_code == 200
    queued.refresh_from_db()
    assert queued.status == S.COMPLETED
    assert CallRollupDay.objects.get(day=old_day).dirty_at is not None
    assert old_day not in rollup_clean_days(None, YESTERDAY)
    cache.clear()  # campaign progress is cached for 15 s (not part of the roll-up)
    f = selectors.dashboard_figures_cached(p, flt, now=NOW)
    assert f.kpis.completed == 5 and _comparable(f) == _comparable(selectors.dashboard_figures(p, flt))
    result = rollup_refresh(now=NOW)
    assert result["days"] >= 2  # the dirty day and yesterday
    assert CallRollupDay.objects.get(day=old_day).dirty_at is None
    assert old_day in rollup_clean_days(None, YESTERDAY)
    rebuilt = CallDailyRollup.objects.filter(day=old_day, provider="callkaro", outcome="completed")
    assert sum(r.calls for r in rebuilt) == 2 and sum(r.talk_seconds for r in rebuilt) == 135
    assert _comparable(selectors.dashboard_figures_cached(p, flt, now=NOW)) == _comparable(
        selectors.dashboard_figures(p, flt)
    )


def test_a_change_during_a_rebuild_keeps_the_day_dirty(world):
    """``dirty_at`` is cleared only when it predates the build, so a concurrent late change is not lost."""
    _build_all()
    day = TODAY - dt.timedelta(days=2)
    future = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5)
    CallRollupDay.objects.filter(day=day).update(dirty_at=future)
    rollup_days_rebuild(days=[day])
    assert CallRollupDay.objects.get(day=day).dirty_at == future


def test_the_hook_ignores_today(world):
    calls = world["calls"]
    for log in calls.values():
        log.refresh_from_db()
    with time_machine.travel(NOW, tick=False):
        rollup_call_final(calls["today"], "callkaro")
        assert not CallRollupDay.objects.exists()
        rollup_call_final(calls["h_midnight"], "acefone")
    assert CallRollupDay.objects.get().day == TODAY - dt.timedelta(days=2)


def test_a_bulk_update_without_a_hook_is_caught_by_the_refresh(world):
    _build_all()
    p, flt = period_resolve("30d", now=NOW), DashboardFilters()
    CallKaroCallLog.objects.filter(pk=world["calls"]["queued"].pk).update(
        status=S.CANCELLED, updated_at=dt.datetime.now(dt.UTC)
    )
    assert _comparable(selectors.dashboard_figures_cached(p, flt, now=NOW)) != _comparable(
        selectors.dashboard_figures(p, flt)
    )
    rollup_refresh(now=NOW)
    cache.clear()  # campaign progress is cached for 15 s
    assert _comparable(selectors.dashboard_figures_cached(p, flt, now=NOW)) == _comparable(
        selectors.dashboard_figures(p, flt)
    )


def test_refresh_fills_days_the_beat_missed(world):
    rollup_days_rebuild(days=[TODAY - dt.timedelta(days=5)])
    rollup_refresh(now=NOW)
    built = set(CallRollupDay.objects.filter(built_at__isnull=False).values_list("day", flat=True))
    assert {TODAY - dt.timedelta(days=n) for n in range(1, 6)} <= built


def test_unbuilt_days_are_counted_live(world):
    """With no roll-up at all (before the first ``rollup_rebuild``) every figure is still right."""
    p, flt = period_resolve("all", now=NOW), DashboardFilters()
    rollup_days_rebuild(days=[TODAY - dt.timedelta(days=2)])  # a lone island in the middle
    assert _comparable(selectors.dashboard_figures_cached(p, flt, now=NOW)) == _comparable(
        selectors.dashboard_figures(p, flt)
    )


def test_rollup_rebuild_command(world):
    out = StringIO()
    with time_machine.travel(NOW, tick=False):
        call_command("rollup_rebuild", "--all", stdout=out)
    assert "Rebuilt 40 days" in out.getvalue()  # the 40-day-old call's day up to yesterday
    with time_machine.travel(NOW, tick=False):
        call_command("rollup_rebuild", "--days", "3", stdout=out)
    assert "Rebuilt 3 days" in out.getvalue()
    assert len(rollup_clean_days(None, YESTERDAY)) == 40


def test_day_runs():
    d = dt.date(2026, 11, 1)
    days = [d, d + dt.timedelta(days=1), d + dt.timedelta(days=2), d + dt.timedelta(days=5)]
    assert day_runs(days) == [(d, d + dt.timedelta(days=2)), (d + dt.timedelta(days=5), d + dt.timedelta(days=5))]
    assert day_runs([]) == []


def test_beat_schedule_and_hook_are_registered(settings):
    from callkaro.provider import CallKaroProvider
    from telephony.signals import call_became_final

    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "reporting.rollup_refresh" in tasks
    from crm.celery import app

    app.loader.import_default_modules()
    assert "reporting.rollup_refresh" in app.tasks
    sync_receivers, _ = call_became_final._live_receivers(CallKaroProvider)
    assert rollup_call_final in sync_receivers


@pytest.mark.parametrize("period", ["7d", "all"])
def test_page_query_count_is_bounded_with_the_rollup(world, manager_client, period, django_assert_max_num_queries):
    _build_all()
    with time_machine.travel(NOW, tick=False):
        with django_assert_max_num_queries(23):
            response = manager_client.get(reverse("reporting:dashboard"), {"period": period})
    assert response.status_code == 200


def test_a_hand_run_rebuild_does_not_hide_an_earlier_bulk_update(world):
    """The sweep starts from the last refresh, not from the last build of any day."""
    _build_all()
    real_now = dt.datetime.now(dt.UTC)
    cache.set(LAST_REFRESH_KEY, real_now - dt.timedelta(minutes=30), None)
    queued = world["calls"]["queued"]
    CallKaroCallLog.objects.filter(pk=queued.pk).update(
        status=S.CANCELLED, updated_at=real_now - dt.timedelta(minutes=20)
    )
    rollup_days_rebuild(days=[YESTERDAY])  # an operator's rebuild of another day
    rollup_refresh(now=NOW)
    day = TODAY - dt.timedelta(days=3)
    assert CallDailyRollup.objects.filter(day=day, outcome="closed").exists()
    assert not CallDailyRollup.objects.filter(day=day, outcome="open").exists()


@pytest.mark.parametrize(("key", "kw"), PERIODS)
def test_the_rollup_backed_leaderboard_equals_the_live_one(world, key, kw, django_assert_max_num_queries):
    from reporting.funnel import leaderboard

    p = period_resolve(key, now=NOW, **kw)
    live = leaderboard(p, now=NOW)  # nothing rolled up yet: every day counted from the call logs
    _build_all()
    with django_assert_max_num_queries(5):  # which days, their sums, each provider's live rest, overdue
        rolled = leaderboard(p, now=NOW)
    assert rolled == live
    if key == "all":
        assert sum(r["calls"] for r in rolled) == 14  # every call with a rep but the scheduled ones
        one = CallDailyRollup.objects.filter(day=YESTERDAY, team_member__isnull=False).first()
        CallDailyRollup.objects.filter(pk=one.pk).update(calls=F("calls") + 100)
        assert sum(r["calls"] for r in leaderboard(p, now=NOW)) == 114  # the past days come from the roll-up
