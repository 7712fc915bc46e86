"""The cache (Redis) down at dial time: the circuit breaker fails open, so a claimed call is still
dialled once (or put back when the provider is down), never stranded ``dispatching`` and then
written off as ``unknown`` without having been sent.

Found by the Redis-restart chaos test: before the fix, the breaker's cache error escaped
``call_dispatch`` between the claim and the dial.
"""

from __future__ import annotations

import pytest
from django.core.cache import cache

from callkaro.campaigns.tests.fixtures import *  # noqa: F403  (fixtures: agent, callkaro_settings, http)
from callkaro.campaigns.tests.fixtures import BASE, dialled
from callkaro.models import CallKaroCallLog
from telephony.breaker import CLOSED, breaker_for
from telephony.errors import ProviderUnavailable
from telephony.services import call_dispatch
from telephony.status import CallStatus

pytestmark = pytest.mark.django_db


@pytest.fixture
def cache_down(monkeypatch):
    def unreachable(*args, **kwargs):
        raise ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    for name in ("get", "set", "add", "incr", "delete", "delete_many", "get_many"):
        monkeypatch.setattr(cache, name, unreachable)


def _queued(lead, agent) -> CallKaroCallLog:
    return CallKaroCallLog.objects.create(lead=lead, to_number=str(lead.phone), status=CallStatus.QUEUED, agent=agent)


def test_a_call_is_dialled_once_while_the_cache_is_down(lead, agent, http, cache_down):
    log = _queued(lead, agent)
    assert breaker_for("callkaro").state() == CLOSED
    assert call_dispatch(provider="callkaro", call_log_id=log.pk) == CallStatus.INITIATED
    assert call_dispatch(provider="callkaro", call_log_id=log.pk) == CallStatus.INITIATED  # a redelivery
    assert len(dialled(http)) == 1


def test_a_provider_outage_with_the_cache_down_puts_the_call_back(lead, agent, http, cache_down):
    http.replace("POST", f"{BASE}/call/outbound", status=503, json={"message": "down"})
    log = _queued(lead, agent)
    with pytest.raises(ProviderUnavailable):
        call_dispatch(provider="callkaro", call_log_id=log.pk)
    log.refresh_from_db()
    assert log.status == CallStatus.SCHEDULED  # waiting to be dialled again, not written off
