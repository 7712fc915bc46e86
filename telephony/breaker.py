"""A circuit breaker per provider, kept in the Django cache so every worker shares it.

closed -> open after N consecutive ProviderUnavailable -> half-open (one probe) after the
cool-down -> closed on the probe's success, open again on its failure.

If the cache itself is unreachable (a Redis restart), the breaker fails open and forgets: it is
an optimisation, and an error from it must not strand a claimed call before or after its dial.
"""

from __future__ import annotations

import functools
import logging
import time

from django.conf import settings
from django.core.cache import cache

logger = logging.getLogger(__name__)

CLOSED, OPEN, HALF_OPEN = "closed", "open", "half_open"


def _fail_open(default):
    """Answer ``default`` (closed, allowed, nothing recorded) when the cache cannot be reached."""

    def decorator(method):
        @functools.wraps(method)
        def wrapper(self, *args, **kwargs):
            try:
                return method(self, *args, **kwargs)
            except Exception:  # noqa: BLE001 - any cache backend error: Redis down, timeouts
                logger.warning("Circuit breaker for %s: cache unreachable, failing open", self.provider)
                return default

        return wrapper

    return decorator


class CircuitBreaker:
    def __init__(self, provider: str) -> None:
        self.provider = provider
        self._prefix = f"telephony:breaker:{provider}"

    @property
    def threshold(self) -> int:
        return int(getattr(settings, "TELEPHONY_BREAKER_THRESHOLD", 5))

    @property
    def cooldown(self) -> float:
        return float(getattr(settings, "TELEPHONY_BREAKER_COOLDOWN", 30))

    def _key(self, name: str) -> str:
        return f"{self._prefix}:{name}"

    @_fail_open(CLOSED)
    def state(self) -> str:
        opened_at = cache.get(self._key("opened_at"))
        if opened_at is None:
            return CLOSED
        if time.time() - float(opened_at) < self.cooldown:
            return OPEN
        return HALF_OPEN

    def is_open(self) -> bool:
        return self.state() == OPEN

    @_fail_open(0)
    def failures(self) -> int:
        return int(cache.get(self._key("failures")) or 0)

    @_fail_open(True)
    def allow_request(self) -> bool:
        """Closed: yes. Open: no. Half-open: yes for exactly one caller, the probe."""
        state = self.state()
        if state == CLOSED:
            return True
        if state == OPEN:
            return False
        # cache.add is atomic on every backend we use, so only one worker wins the probe.
        return cache.add(self._key("probe"), 1, timeout=max(1, int(self.cooldown)))

    @_fail_open(None)
    def record_success(self) -> None:
        cache.delete_many([self._key("failures"), self._key("opened_at"), self._key("probe")])

    @_fail_open(None)
    def record_failure(self) -> None:
        key = self._key("failures")
        cache.add(key, 0, timeout=None)
        try:
            failures = cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, timeout=None)
            failures = 1
        if self.state() == HALF_OPEN or failures >= self.threshold:
            self._open()

    def _open(self) -> None:
        cache.set(self._key("opened_at"), time.time(), timeout=None)
        cache.delete(self._key("probe"))

    def reset(self) -> None:
        self.record_success()


def breaker_for(provider: str) -> CircuitBreaker:
    return CircuitBreaker(provider)
