"""Exactly once, never lost: a real Celery worker, real Redis and PostgreSQL (the .ci/run second pass).

Call Karo's HTTP API is a small in-process stand-in that records every request it receives,
so the dials it saw can be compared with our call logs. The beat tick is run from the test
(the same ``scheduler_tick`` the beat task calls) so that the test controls its pace.
"""

from __future__ import annotations

import datetime as dt
import json
import signal
import threading
import time
import uuid
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from zoneinfo import ZoneInfo

import pytest
from django.core.cache import cache
from django.utils import timezone

from callkaro.campaigns.audience import LeadFilter
from callkaro.campaigns.inputs import CampaignSettings
from callkaro.campaigns.scheduler import scheduler_tick
from callkaro.campaigns.services import campaign_draft_save, campaign_launch
from callkaro.models import CallKaroAgent, CallKaroCallLog
from crm.dnc import dnc_add
from crm.models import Lead
from telephony.status import CallStatus
from tests.workers import start_worker, stop, wait_for, worker_env

pytestmark = [pytest.mark.services, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


class FakeCallKaro:
    """Speaks the two endpoints a campaign uses and keeps every outbound body, thread-safely."""

    def __init__(self, latency: float = 0.01) -> None:
        self.latency = latency
        self.outbound: list[dict] = []
        self.lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def do_POST(self):  # noqa: N802
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
                if self.path.startswith("/call/outbound"):
                    time.sleep(fake.latency)
                    with fake.lock:
                        fake.outbound.append(body)
                    answer = {"status": "done", "message": "Call queued successfully", "call_sid": uuid.uuid4().hex}
                else:
                    answer = {"batch_id": uuid.uuid4().hex, "message": "created", "status": "success"}
                data = json.dumps(answer).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def dials(self) -> list[dict]:
        with self.lock:
            return list(self.outbound)

    def close(self) -> None:
        self.server.shutdown()


@pytest.fixture
def fake_callkaro(settings):
    fake = FakeCallKaro()
    settings.CALLKARO_BASE_URL = fake.url
    settings.CALLKARO_API_KEY = "ck-services-key"
    settings.TELEPHONY_HTTP_RETRIES = 0
    settings.CAMPAIGN_GLOBAL_MAX_LIVE = 100_000
    settings.CAMPAIGN_RESERVED_FOR_REPS = 0
    settings.CAMPAIGN_SCHEDULER_BATCH = 200
    settings.CAMPAIGN_QUEUED_STUCK_SECONDS = 8
    settings.CAMPAIGN_MAX_QUEUED = 40
    settings.CAMPAIGN_DISPATCHING_STUCK_SECONDS = 4
    cache.clear()
    yield fake
    fake.close()
    cache.clear()


@pytest.fixture
def real_broker():
    from crm.celery import app

    app.conf.task_always_eager = False
    yield
    app.conf.task_always_eager = True


def _env(fake: FakeCallKaro, **extra: str) -> dict[str, str]:
    return worker_env(
        CALLKARO_BASE_URL=fake.url,
        CALLKARO_API_KEY="ck-services-key",
        TELEPHONY_HTTP_RETRIES="0",
        **extra,
    )


def _window_around_now() -> tuple[dt.time, dt.time]:
    local = timezone.now().astimezone(ZoneInfo("Asia/Kolkata"))
    return (local - dt.timedelta(hours=1)).time().replace(second=0, microsecond=0), (
        local + dt.timedelta(hours=2)
    ).time().replace(second=0, microsecond=0)


def _tick_until(condition, *, timeout: float) -> bool:
    return wait_for(lambda: (scheduler_tick(), condition())[1], timeout=timeout, interval=0.5)


def _launch(manager, count: int, dnc: int = 0):
    agent = CallKaroAgent.objects.create(agent_id="agent-svc", name="Services")
    Lead.objects.bulk_create(
        Lead(name=f"Lead {i}", phone=f"+9197{i:08d}", assigned_to=manager) for i in range(count + dnc)
    )
    for i in range(count, count + dnc):
        dnc_add(number=f"+9197{i:08d}", reason="test")
    start, end = _window_around_now()
    campaign_settings = CampaignSettings(
        name="Reliability",
        agent=agent,
        calling_hours_start=start,
        calling_hours_end=end,
        pace_per_minute=30000,
        max_concurrent=5000,
    )
    audience = {"kind": "filter", "filter": LeadFilter().as_json()}
    draft = campaign_draft_save(user=manager.user, campaign_settings=campaign_settings, audience=audience)
    return campaign_launch(user=manager.user, campaign=draft)


def _assert_exactly_once(campaign, fake: FakeCallKaro, eligible: int) -> Counter:
    dials = fake.dials()
    by_log = Counter(d["metadata"]["call_log_id"] for d in dials)
    by_number = Counter(d["to_number"] for d in dials)
    assert max(by_log.values()) == 1, "a call log was dialled twice"
    assert max(by_number.values()) == 1, "a number was dialled twice"
    statuses = Counter(campaign.calls.values_list("status", flat=True))
    assert campaign.calls.count() == eligible
    assert set(statuses) <= {CallStatus.INITIATED, CallStatus.UNKNOWN}, statuses  # nothing pending: none lost
    initiated = set(campaign.calls.filter(status=CallStatus.INITIATED).values_list("pk", flat=True))
    assert initiated <= set(by_log), "a call marked initiated never reached Call Karo"
    assert set(by_log) <= set(campaign.calls.values_list("pk", flat=True))
    return statuses


def test_a_500_lead_campaign_dials_every_eligible_lead_exactly_once(manager, fake_callkaro, real_broker):
    worker = start_worker(concurrency=4, env=_env(fake_callkaro))
    try:
        campaign = _launch(manager, 500, dnc=20)
        assert campaign.total_leads == 500
        assert _tick_until(lambda: len(fake_callkaro.dials()) >= 500, timeout=60)
        assert _tick_until(lambda: not campaign.calls.exclude(status=CallStatus.INITIATED).exists(), timeout=20)
    finally:
        stop(worker)
    statuses = _assert_exactly_once(campaign, fake_callkaro, 500)
    assert statuses == {CallStatus.INITIATED: 500}
    listed = {f"+9197{i:08d}" for i in range(500, 520)}
    assert not listed & {d["to_number"] for d in fake_callkaro.dials()}


def test_sigkill_of_the_worker_mid_campaign_then_a_new_worker_no_double_no_lost_calls(
    manager, fake_callkaro, real_broker
):
    fake_callkaro.latency = 0.05  # calls in flight when the worker dies
    env = _env(fake_callkaro, CELERY_VISIBILITY_TIMEOUT="5")
    first = start_worker(concurrency=4, env=env)
    try:
        campaign = _launch(manager, 500)
        assert _tick_until(lambda: len(fake_callkaro.dials()) >= 120, timeout=60)
    finally:
        stop(first, signal.SIGKILL)
    killed_at = len(fake_callkaro.dials())
    assert killed_at < 500, "the campaign finished before the kill; the test proved nothing"
    second = start_worker(concurrency=4, env=env)
    try:

        def settled() -> bool:
            pending = [CallStatus.SCHEDULED, CallStatus.QUEUED, CallStatus.DISPATCHING]
            return not campaign.calls.filter(status__in=pending).exists()

        assert _tick_until(settled, timeout=90)
        time.sleep(6)  # past the visibility timeout: any redelivered message must find nothing to claim
        scheduler_tick()
    finally:
        stop(second)
    statuses = _assert_exactly_once(campaign, fake_callkaro, 500)
    print(f"killed after {killed_at} dials; outcome {dict(statuses)}")
    # Only calls in flight at the kill may be unknown (left for the webhook or reconciliation, never re-dialled).
    assert statuses.get(CallStatus.UNKNOWN, 0) <= 4
    assert statuses[CallStatus.INITIATED] + statuses.get(CallStatus.UNKNOWN, 0) == 500


def test_a_call_scheduled_beyond_the_visibility_timeout_runs_exactly_once(manager, fake_callkaro, real_broker):
    worker = start_worker(concurrency=2, env=_env(fake_callkaro, CELERY_VISIBILITY_TIMEOUT="2"))
    try:
        lead = Lead.objects.create(name="Later", phone="+919700000001", assigned_to=manager)
        agent = CallKaroAgent.objects.create(agent_id="agent-later", name="Later")
        due = timezone.now() + dt.timedelta(seconds=5)
        row = CallKaroCallLog.objects.create(
            lead=lead, to_number="+919700000001", agent=agent, status=CallStatus.SCHEDULED, scheduled_at=due
        )
        assert _tick_until(lambda: len(fake_callkaro.dials()) >= 1, timeout=30)
        assert timezone.now() >= due
        time.sleep(5)  # two visibility timeouts more: nothing is redelivered and dialled again
        scheduler_tick()
    finally:
        stop(worker)
    assert len(fake_callkaro.dials()) == 1
    row.refresh_from_db()
    assert row.status == CallStatus.INITIATED
