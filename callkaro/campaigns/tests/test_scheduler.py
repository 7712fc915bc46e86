"""The dispatcher: calling hours across time zones, pace, concurrency, fairness, recovery, breaker."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core.cache import cache
from django.utils import timezone

from callkaro.campaigns import calls, lifecycle, scheduler
from callkaro.campaigns.scheduler import scheduler_tick
from callkaro.models import CallKaroCallLog, CallKaroCampaign
from crm.tests.factories import LeadFactory
from telephony.breaker import breaker_for
from telephony.status import CallStatus

from .fixtures import *  # noqa: F403  (fixtures: agent, callkaro_settings, http, office_hours)
from .fixtures import dialled, ist, launch

pytestmark = pytest.mark.django_db


@pytest.fixture
def tick(django_capture_on_commit_callbacks):
    """One beat tick, with the dispatch messages it enqueues on commit run (eagerly) at once."""

    def run(now=None):
        with django_capture_on_commit_callbacks(execute=True):
            return scheduler_tick(now=now)

    return run


def _numbers(rsps) -> list[str]:
    return [b["to_number"] for b in dialled(rsps)]


def test_the_beat_task_is_registered_every_few_seconds(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["callkaro-scheduler-tick"]
    assert entry["task"] == "callkaro.scheduler_tick"
    assert 5 <= entry["schedule"] <= 15


def test_calling_hours_follow_each_leads_time_zone(manager, rep, agent, http, tick, settings):
    settings.CALLING_ALLOWED_COUNTRIES = ["IN", "US"]
    india = LeadFactory(assigned_to=rep, phone="+919800000001")
    new_york = LeadFactory(assigned_to=rep, phone="+12125550101", time_zone="America/New_York")
    with time_machine.travel(ist(2026, 11, 23, 11, 0), tick=False):  # 11:00 in India, 00:30 in New York
        launch(manager.user, agent)
        tick()
        assert _numbers(http) == [str(india.phone)]
    with time_machine.travel(ist(2026, 11, 23, 22, 0), tick=False):  # 22:00 in India, 11:30 in New York
        tick()
        assert _numbers(http) == [str(india.phone), str(new_york.phone)]


def test_no_dial_outside_the_window_or_on_an_excluded_day(manager, rep, agent, http, tick):
    LeadFactory(assigned_to=rep)
    with time_machine.travel(ist(2026, 11, 23, 8, 59), tick=False):  # a Monday, a minute early
        campaign = launch(manager.user, agent, days_of_week=[0, 1, 2, 3, 4])
        tick()
        assert dialled(http) == []
    with time_machine.travel(ist(2026, 11, 28, 11, 0), tick=False):  # Saturday: not a calling day
        tick()
        assert dialled(http) == []
    with time_machine.travel(ist(2026, 11, 30, 21, 0), tick=False):  # Monday 21:00: the window has closed
        tick()
        assert dialled(http) == []
    with time_machine.travel(ist(2026, 11, 30, 9, 0), tick=False):
        tick()
        assert len(dialled(http)) == 1
    assert campaign.calls.get().status == CallStatus.INITIATED


def test_the_campaign_time_zone_applies_when_the_lead_has_none(manager, rep, agent, http, tick):
    LeadFactory(assigned_to=rep)
    with time_machine.travel(ist(2026, 11, 23, 11, 0), tick=False):  # 05:30 in London
        launch(manager.user, agent, time_zone="Europe/London")
        tick()
        assert dialled(http) == []
    with time_machine.travel(ist(2026, 11, 23, 15, 0), tick=False):  # 09:30 in London
        tick()
        assert len(dialled(http)) == 1


@pytest.mark.usefixtures("office_hours")
def test_max_concurrent_bounds_live_calls(manager, rep, agent, http, tick):
    LeadFactory.create_batch(5, assigned_to=rep)
    campaign = launch(manager.user, agent, max_concurrent=2, pace_per_minute=100)
    tick()
    assert len(dialled(http)) == 2
    tick()
    assert len(dialled(http)) == 2  # both still on the line
    live = campaign.calls.filter(status=CallStatus.INITIATED).first()
    CallKaroCallLog.objects.filter(pk=live.pk).update(status=CallStatus.COMPLETED)
    tick()
    assert len(dialled(http)) == 3


@pytest.mark.usefixtures("office_hours")
def test_pace_is_calls_per_minute(manager, rep, agent, http, tick):
    LeadFactory.create_batch(5, assigned_to=rep)
    launch(manager.user, agent, max_concurrent=100, pace_per_minute=3)
    tick()
    tick()
    assert len(dialled(http)) == 3
    tick(now=timezone.now() + dt.timedelta(seconds=61))
    assert len(dialled(http)) == 5


@pytest.mark.usefixtures("office_hours")
def test_campaigns_share_capacity_round_robin_and_reps_keep_their_reserve(
    settings,
    manager,
    rep,
    agent,
    http,
    tick,
):
    settings.CAMPAIGN_GLOBAL_MAX_LIVE = 7
    settings.CAMPAIGN_RESERVED_FOR_REPS = 2
    LeadFactory.create_batch(10, assigned_to=rep)
    big = launch(manager.user, agent, name="Big", priority=50)
    CallKaroCallLog.objects.filter(campaign=big).delete()
    leads_a = LeadFactory.create_batch(10, assigned_to=rep)
    leads_b = LeadFactory.create_batch(10, assigned_to=rep)
    from crm.models import Lead

    Lead.objects.filter(pk__in=[x.pk for x in leads_b]).update(stage="follow_up")
    from callkaro.campaigns.audience import LeadFilter

    a = launch(manager.user, agent, name="A", priority=50, lead_filter=LeadFilter(stage="new"))
    b = launch(manager.user, agent, name="B", priority=-50, lead_filter=LeadFilter(stage="follow_up"))
    big.status = CallKaroCampaign.Status.COMPLETED
    big.save()
    # A rep's own click is live: 7 - 2 reserved - 1 live leaves 4 for campaigns.
    CallKaroCallLog.objects.create(
        lead=leads_a[0], to_number="+919811111111", status=CallStatus.INITIATED, dispatched_at=timezone.now()
    )
    tick()
    assert a.calls.exclude(status=CallStatus.SCHEDULED).count() == 2
    assert b.calls.exclude(status=CallStatus.SCHEDULED).count() == 2  # low priority, still not starved


@pytest.mark.usefixtures("office_hours")
def test_higher_priority_first_then_oldest(manager, rep, agent, http, tick):
    leads = LeadFactory.create_batch(3, assigned_to=rep)
    campaign = launch(manager.user, agent, max_concurrent=1)
    rows = {r.lead_id: r for r in campaign.calls.all()}
    CallKaroCallLog.objects.filter(pk=rows[leads[2].pk].pk).update(priority=90)
    tick()
    assert _numbers(http) == [str(leads[2].phone)]


@pytest.mark.usefixtures("office_hours")
def test_a_single_scheduled_call_runs_when_due_not_before(rep, lead, agent, http, tick):
    due = timezone.now() + dt.timedelta(minutes=5)
    row = CallKaroCallLog.objects.create(
        lead=lead,
        team_member=rep,
        to_number=str(lead.phone),
        agent=agent,
        status=CallStatus.SCHEDULED,
        scheduled_at=due,
    )
    tick()
    assert dialled(http) == []
    tick(now=due + dt.timedelta(seconds=1))
    row.refresh_from_db()
    assert row.status == CallStatus.INITIATED
    assert dialled(http)[0]["metadata"]["call_log_id"] == row.pk


@pytest.mark.usefixtures("office_hours")
def test_a_row_stuck_in_queued_is_sent_again_and_a_duplicate_message_dials_once(rep, lead, agent, http, tick):
    old = timezone.now() - dt.timedelta(minutes=10)
    row = CallKaroCallLog.objects.create(
        lead=lead, to_number=str(lead.phone), agent=agent, status=CallStatus.QUEUED, dispatched_at=old
    )
    CallKaroCallLog.objects.filter(pk=row.pk).update(updated_at=old)  # the message was lost long ago
    result = tick()
    assert result.requeued == [row.pk]
    scheduler.enqueue_dispatch([row.pk])  # the lost message turns up after all
    assert len(dialled(http)) == 1
    row.refresh_from_db()
    assert row.status == CallStatus.INITIATED


@pytest.mark.usefixtures("office_hours")
def test_a_row_stuck_in_dispatching_becomes_unknown_and_is_never_redialled(rep, lead, agent, http, tick):
    row = CallKaroCallLog.objects.create(
        lead=lead,
        to_number=str(lead.phone),
        agent=agent,
        status=CallStatus.DISPATCHING,
        dispatched_at=timezone.now() - dt.timedelta(minutes=10),
    )
    CallKaroCallLog.objects.filter(pk=row.pk).update(updated_at=timezone.now() - dt.timedelta(minutes=10))
    recent = CallKaroCallLog.objects.create(
        lead=LeadFactory(), to_number="+919822222222", status=CallStatus.DISPATCHING, dispatched_at=timezone.now()
    )
    assert tick().marked_unknown == 1
    row.refresh_from_db()
    recent.refresh_from_db()
    assert row.status == CallStatus.UNKNOWN and recent.status == CallStatus.DISPATCHING
    tick()
    scheduler.enqueue_dispatch([row.pk])
    assert dialled(http) == []


@pytest.mark.usefixtures("office_hours")
def test_an_open_circuit_pauses_running_campaigns_and_closing_it_resumes_them(
    settings,
    manager,
    rep,
    agent,
    http,
    tick,
):
    settings.TELEPHONY_BREAKER_THRESHOLD = 2
    LeadFactory.create_batch(4, assigned_to=rep)
    campaign = launch(manager.user, agent, max_concurrent=2)
    hand_paused = launch(manager.user, agent, name="Paused by hand")
    lifecycle.campaign_pause(campaign=hand_paused)
    http.replace("POST", "https://callkaro.test/call/outbound", status=503, json={"message": "down"})
    tick()  # two dials fail: the breaker opens, the calls go back to scheduled (never lost)
    assert breaker_for("callkaro").is_open()
    assert campaign.calls.filter(status=CallStatus.SCHEDULED).count() == 4
    tick()
    campaign.refresh_from_db()
    assert campaign.status == CallKaroCampaign.Status.PAUSED
    assert campaign.status_reason == calls.AUTO_PAUSE_REASON
    breaker_for("callkaro").reset()
    tick()
    campaign.refresh_from_db()
    hand_paused.refresh_from_db()
    assert campaign.status == CallKaroCampaign.Status.RUNNING and campaign.status_reason == ""
    assert hand_paused.status == CallKaroCampaign.Status.PAUSED


def test_an_overlapping_tick_is_skipped(callkaro_settings):
    cache.add(scheduler.LOCK_KEY, "1", timeout=30)
    assert scheduler_tick().skipped_locked


@pytest.mark.usefixtures("office_hours")
def test_a_campaign_whose_calls_are_all_done_completes(manager, rep, agent, http, tick):
    LeadFactory(assigned_to=rep, stage="converted")
    campaign = launch(manager.user, agent)
    tick()  # the only call is skipped at dial time
    tick()
    campaign.refresh_from_db()
    assert campaign.status == CallKaroCampaign.Status.COMPLETED


@pytest.mark.usefixtures("office_hours")
def test_the_beat_task_runs_one_tick(rep, lead, agent, http, django_capture_on_commit_callbacks):
    from callkaro.tasks import scheduler_tick_task

    CallKaroCallLog.objects.create(lead=lead, to_number=str(lead.phone), agent=agent, status=CallStatus.SCHEDULED)
    with django_capture_on_commit_callbacks(execute=True):
        assert scheduler_tick_task.delay().get() == {"claimed": 1, "requeued": 0, "unknown": 0}
    assert len(dialled(http)) == 1
