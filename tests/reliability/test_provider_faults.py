"""Provider faults over real HTTP: an ambiguous timeout is never re-dialled, a 5xx burst opens the
breaker and pauses the campaign until it closes, a 429's Retry-After is honoured.

The beat tick is run from the test (the same ``scheduler_tick``), with the dispatch messages it
enqueues on commit executed eagerly, so each step is observable.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest
from django.utils import timezone

from callkaro.campaigns import scheduler
from callkaro.campaigns.scheduler import scheduler_tick
from callkaro.campaigns.tests.fixtures import *  # noqa: F403  (fixtures: agent, callkaro_settings, office_hours)
from callkaro.campaigns.tests.fixtures import launch
from callkaro.models import CallKaroCampaign
from crm.tests.factories import LeadFactory
from telephony.base import CallEvent
from telephony.breaker import CLOSED, OPEN, breaker_for
from telephony.events import call_event_apply
from telephony.status import CallStatus
from tests.workers import wait_for

from .fakes import Fault, FaultyCallKaro

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("office_hours")]
Status = CallKaroCampaign.Status


@pytest.fixture
def fake(callkaro_settings):
    fake = FaultyCallKaro()
    callkaro_settings.CALLKARO_BASE_URL = fake.url
    callkaro_settings.TELEPHONY_READ_TIMEOUT = 0.4
    yield fake
    fake.close()


@pytest.fixture
def tick(django_capture_on_commit_callbacks):
    def run():
        with django_capture_on_commit_callbacks(execute=True):
            return scheduler_tick()

    return run


def test_a_timeout_after_sending_is_unknown_and_never_redialled(manager, rep, agent, fake, tick):
    LeadFactory.create_batch(3, assigned_to=rep)
    fake.script.extend([Fault(delay=1.0)] * 3)  # each dial reaches Call Karo, the answer comes too late
    campaign = launch(manager.user, agent)
    tick()
    assert len(fake.dials()) == 3
    assert Counter(campaign.calls.values_list("status", flat=True)) == {CallStatus.UNKNOWN: 3}
    # Later ticks, a redelivered dispatch message, and the stuck-call recovery: none dials again.
    for _ in range(3):
        tick()
    scheduler.enqueue_dispatch(list(campaign.calls.values_list("pk", flat=True)))
    scheduler.recover_stuck_dispatching(now=timezone.now() + dt.timedelta(hours=1))
    scheduler.requeue_stuck_queued(now=timezone.now() + dt.timedelta(hours=1))
    assert len(fake.dials()) == 3
    assert Counter(d["to_number"] for d in fake.dials()).most_common(1)[0][1] == 1
    # The webhook settles an unknown call.
    call = campaign.calls.first()
    call_event_apply(provider="callkaro", event=CallEvent(provider="callkaro", status="completed", call_log_id=call.pk))
    call.refresh_from_db()
    assert call.status == CallStatus.COMPLETED


def test_a_5xx_burst_opens_the_breaker_pauses_the_campaign_then_it_closes_and_resumes(
    settings, manager, rep, agent, fake, tick
):
    settings.TELEPHONY_BREAKER_THRESHOLD = 3
    settings.TELEPHONY_BREAKER_COOLDOWN = 0.5
    LeadFactory.create_batch(6, assigned_to=rep)
    fake.script.extend([Fault(status=500), Fault(status=503), Fault(status=502)])
    campaign = launch(manager.user, agent)
    breaker = breaker_for("callkaro")

    tick()  # three dials fail, the breaker opens, the rest are held back without reaching Call Karo
    assert breaker.state() == OPEN
    assert len(fake.dials()) == 3 and fake.accepted_numbers() == []
    assert campaign.calls.filter(status=CallStatus.SCHEDULED).count() == 6  # none lost, none failed
    tick()
    campaign.refresh_from_db()
    assert campaign.status == Status.PAUSED and campaign.status_reason

    def everyone_dialled() -> bool:
        tick()
        return campaign.calls.filter(status=CallStatus.INITIATED).count() == 6

    assert wait_for(everyone_dialled, timeout=15, interval=0.3)  # after the cool-down: half-open probe, closed
    campaign.refresh_from_db()
    assert campaign.status == Status.RUNNING and campaign.status_reason == ""
    assert breaker.state() == CLOSED
    accepted = Counter(fake.accepted_numbers())
    assert len(accepted) == 6 and max(accepted.values()) == 1  # each lead reached Call Karo once, successfully


def test_a_429_is_retried_only_after_its_retry_after(manager, rep, agent, fake, tick):
    LeadFactory(assigned_to=rep)
    fake.script.append(Fault(status=429, retry_after="2"))
    campaign = launch(manager.user, agent)
    tick()
    call = campaign.calls.get()
    assert call.status == CallStatus.SCHEDULED
    assert call.scheduled_at - timezone.now() > dt.timedelta(seconds=1.2)
    assert breaker_for("callkaro").state() == CLOSED  # one refusal is no outage
    tick()
    assert len(fake.dials()) == 1  # not before the Retry-After
    assert wait_for(lambda: (tick(), len(fake.dials()) == 2)[1], timeout=10, interval=0.3)
    call.refresh_from_db()
    assert call.status == CallStatus.INITIATED
    assert len(fake.dials()) == 2 and fake.accepted_numbers() == [str(call.to_number)]
    waited = call.dispatched_at - call.created_at
    assert waited >= dt.timedelta(seconds=1.5)
