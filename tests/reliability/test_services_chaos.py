"""Chaos against the real stack (the .ci/run PostgreSQL + Redis pass): a worker SIGKILLed five times
mid-campaign, Redis restarted mid-campaign, the worker's PostgreSQL connections cut mid-campaign.
Each touches only what it started: its own redis-server (tests/redis_server.py), and the connections
to its own test database.

Every time: no number is dialled twice, and nothing is lost. Once the calls' webhooks have come in,
each lead has exactly one call log, final or ``unknown``; only a call in flight at the fault may
be ``unknown``, and an ``unknown`` one was never dialled twice. Call Karo is the in-process fake of
``callkaro/campaigns/tests/test_reliability.py`` (it records every outbound request it receives).
"""

from __future__ import annotations

import contextlib
import signal
import time
from collections import Counter

import pytest
import redis
from django.db import connection

from callkaro.campaigns.scheduler import scheduler_tick
from callkaro.campaigns.tests import test_reliability as campaign_reliability
from callkaro.campaigns.tests.test_reliability import FakeCallKaro, _assert_exactly_once, _env, _launch, _tick_until
from callkaro.models import CallKaroCallLog, CallKaroCampaign
from telephony.base import CallEvent
from telephony.events import call_event_apply
from telephony.status import FINAL_STATUSES, PENDING_STATUSES, CallStatus
from tests.redis_server import own_redis, worker_redis_env
from tests.workers import start_worker, stop, wait_for

# The Call Karo fake and the real-broker switch, shared with the campaign reliability tests.
fake_callkaro = campaign_reliability.fake_callkaro
real_broker = campaign_reliability.real_broker

pytestmark = [pytest.mark.services, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

PENDING = [CallStatus.SCHEDULED, CallStatus.QUEUED, CallStatus.DISPATCHING]
CONCURRENCY = 4


def _settled(campaign: CallKaroCampaign) -> bool:
    return not campaign.calls.filter(status__in=PENDING).exists()


def _tick_quietly() -> None:
    """The beat keeps ticking through an outage; a failed tick is retried by the next one."""
    with contextlib.suppress(Exception):
        scheduler_tick()
    with contextlib.suppress(Exception):
        connection.close_if_unusable_or_obsolete()


def _webhooks_for_every_dial(fake: FakeCallKaro) -> None:
    """Call Karo reports each call it received; the calls it never received get no webhook."""
    for dial in fake.dials():
        event = CallEvent(provider="callkaro", status=CallStatus.COMPLETED, call_log_id=dial["metadata"]["call_log_id"])
        call_event_apply(provider="callkaro", event=event)


def _assert_nothing_lost(campaign: CallKaroCampaign, fake: FakeCallKaro, leads: int, max_unknown: int) -> Counter:
    statuses = _assert_exactly_once(campaign, fake, leads)  # one dial per number and per log, none pending
    _webhooks_for_every_dial(fake)
    per_lead = Counter(campaign.calls.values_list("lead_id", flat=True))
    assert len(per_lead) == leads and set(per_lead.values()) == {1}, "a lead has no call log or several"
    final = Counter(campaign.calls.values_list("status", flat=True))
    assert set(final) <= {*FINAL_STATUSES, CallStatus.UNKNOWN}, final
    dialled = {d["metadata"]["call_log_id"] for d in fake.dials()}
    unknown = set(campaign.calls.filter(status=CallStatus.UNKNOWN).values_list("pk", flat=True))
    assert not unknown & dialled, "a dialled call stayed unknown after its webhook"
    assert len(unknown) <= max_unknown, f"{len(unknown)} unknown: more than the calls in flight at the faults"
    assert final[CallStatus.COMPLETED] == len(dialled)
    assert not campaign.calls.filter(status__in=list(PENDING_STATUSES)).exists()
    return statuses


def test_five_sigkills_mid_campaign_no_double_dial_and_no_lost_call(manager, fake_callkaro, real_broker):
    leads, kills = 300, 5
    fake_callkaro.latency = 0.05  # calls in flight at each kill
    env = _env(fake_callkaro, CELERY_VISIBILITY_TIMEOUT="5")
    campaign = _launch(manager, leads)
    killed_at = []
    for _ in range(kills):
        worker = start_worker(concurrency=CONCURRENCY, env=env)
        try:
            target = len(fake_callkaro.dials()) + 30
            _tick_until(lambda t=target: len(fake_callkaro.dials()) >= t, timeout=30)
        finally:
            stop(worker, signal.SIGKILL)
        killed_at.append(len(fake_callkaro.dials()))
    assert killed_at[-1] < leads, "the campaign finished before the last kill; the test proved nothing"
    assert len(set(killed_at)) == kills, f"a worker dialled nothing before its kill: {killed_at}"
    last = start_worker(concurrency=CONCURRENCY, env=env)
    try:
        assert _tick_until(lambda: _settled(campaign), timeout=60)
        time.sleep(6)  # past the visibility timeout: a redelivered message must find nothing to claim
        scheduler_tick()
    finally:
        stop(last)
    statuses = _assert_nothing_lost(campaign, fake_callkaro, leads, max_unknown=CONCURRENCY * kills)
    print(f"killed after {killed_at} dials; before the webhooks {dict(statuses)}")


@pytest.fixture
def redis_of_our_own(tmp_path, fake_callkaro, real_broker):
    """A redis-server this test starts and may kill: never the one at REDIS_URL, which others may share."""
    from django.conf import settings

    shared = redis.Redis.from_url(settings.REDIS_URL)
    run_id = shared.info("server")["run_id"]  # a new one after any restart
    with own_redis(tmp_path) as server:
        yield server
    assert shared.info("server")["run_id"] == run_id, "the Redis at REDIS_URL was restarted during the test"


def test_a_redis_restart_mid_campaign_loses_nothing(manager, fake_callkaro, redis_of_our_own):
    leads = 200
    fake_callkaro.latency = 0.05
    campaign = _launch(manager, leads)
    env = _env(fake_callkaro, CELERY_VISIBILITY_TIMEOUT="5", **worker_redis_env(redis_of_our_own))
    worker = start_worker(concurrency=CONCURRENCY, env=env)
    try:
        assert _tick_until(lambda: len(fake_callkaro.dials()) >= 50, timeout=40)
        try:
            # Redis keeps nothing on disk: queued messages, the breaker and the scheduler lock all go.
            redis_of_our_own.kill()
            at_outage = len(fake_callkaro.dials())
            deadline = time.monotonic() + 3
            while time.monotonic() < deadline:  # the beat keeps trying while Redis is down
                _tick_quietly()
                time.sleep(0.5)
        finally:
            redis_of_our_own.start()
        assert at_outage < leads, "the campaign finished before the outage; the test proved nothing"

        def settled() -> bool:
            _tick_quietly()
            return _settled(campaign)

        assert wait_for(settled, timeout=90, interval=0.5)
        time.sleep(6)
        scheduler_tick()
    finally:
        stop(worker)
    _assert_nothing_lost(campaign, fake_callkaro, leads, max_unknown=CONCURRENCY)


def _terminate_other_backends() -> int:
    """Cut every other connection to this test database (the worker's); the server stays up."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return cursor.fetchone()[0]


def test_postgresql_connections_dropped_mid_campaign_lose_nothing(manager, fake_callkaro, real_broker):
    leads, drops = 200, 3
    fake_callkaro.latency = 0.05
    campaign = _launch(manager, leads)
    worker = start_worker(concurrency=CONCURRENCY, env=_env(fake_callkaro, CELERY_VISIBILITY_TIMEOUT="5"))
    terminated = 0
    try:
        for n in range(drops):
            assert _tick_until(lambda n=n: len(fake_callkaro.dials()) >= 30 * (n + 1), timeout=40)
            terminated += _terminate_other_backends()
        assert len(fake_callkaro.dials()) < leads, "the campaign finished before the drops; the test proved nothing"
        assert _tick_until(lambda: _settled(campaign), timeout=90)
        time.sleep(6)
        scheduler_tick()
    finally:
        stop(worker)
    assert terminated >= 1, "no worker connection was cut: the test proved nothing"
    _assert_nothing_lost(campaign, fake_callkaro, leads, max_unknown=CONCURRENCY * drops)
    # Once the service is back the campaign completes.
    scheduler_tick()
    campaign.refresh_from_db()
    assert campaign.status == CallKaroCampaign.Status.COMPLETED
    assert CallKaroCallLog.objects.filter(campaign=campaign).count() == leads
