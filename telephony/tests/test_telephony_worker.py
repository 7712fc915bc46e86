"""The whole loop with a real Celery worker and Redis: async dispatch and the sandbox's webhook task."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from callkaro.models import CallKaroCallLog
from telephony.models import ProviderWebhookEvent, SandboxRequest
from telephony.services import call_place
from telephony.status import CallStatus
from tests.workers import start_worker, stop, wait_for, worker_env

KEY, SECRET, AGENT = "worker-callkaro-key", "worker-callkaro-secret", "worker-agent"


@pytest.mark.services
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_async_call_through_a_real_worker_ends_with_the_webhook(live_server, settings, lead, rep):
    from crm.celery import app

    values = {
        "SITE_URL": live_server.url,
        "CALLKARO_BASE_URL": f"{live_server.url}/sandbox/callkaro",
        "CALLKARO_API_KEY": KEY,
        "CALLKARO_DEFAULT_AGENT_ID": AGENT,
        "CALLKARO_WEBHOOK_SECRET": SECRET,
    }
    for name, value in values.items():
        setattr(settings, name, value)
    settings.ROOT_URLCONF = "telephony.tests.test_telephony_e2e"
    settings.PROVIDER_SANDBOX = True
    settings.SANDBOX_WEBHOOK_DELAY = 0.5
    settings.SANDBOX_DUPLICATE_RATE = 0
    settings.SANDBOX_CALLKARO_AGENTS = [AGENT]  # the fake account knows our agent (else 404, no call)
    settings.SANDBOX_OUTCOME_WEIGHTS = {"callkaro": {"connected": 1}, "acefone": {"answered": 1}}
    settings.SANDBOX_FAULTS = {"callkaro": {}, "acefone": {}}
    settings.SANDBOX_CALLKARO_AGENTS = [AGENT]  # the fake account's own agent list
    settings.CELERY_TASK_ALWAYS_EAGER = False
    cache.clear()
    app.conf.task_always_eager = False
    proc = start_worker(concurrency=2, env=worker_env(**values))
    try:
        outcome = call_place(provider="callkaro", lead=lead, team_member=rep, dispatch="async")
        assert outcome.status == CallStatus.QUEUED
        pk = outcome.call_log.pk
        assert wait_for(lambda: CallKaroCallLog.objects.get(pk=pk).status == CallStatus.COMPLETED, timeout=60)
        assert SandboxRequest.objects.filter(provider="callkaro").count() == 1
        event = ProviderWebhookEvent.objects.get(provider="callkaro")
        assert event.call_log_id == pk and event.is_authenticated
    finally:
        app.conf.task_always_eager = True
        stop(proc)
        cache.clear()
