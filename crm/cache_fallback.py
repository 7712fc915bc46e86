"""The shared cache (Redis) as an optimisation, never a dependency: reads and writes that degrade.

A page or a limiter that uses the cache must keep working when Redis is unreachable: a read is a
miss, a write is skipped, and the outage is logged once per feature (not once per request) until
the cache answers again.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.cache import cache

logger = logging.getLogger("crm.cache")

#: Features that have logged the current outage already.
_degraded: set[str] = set()


def cache_degraded(feature: str, exc: BaseException) -> None:
    """Log a cache outage once per feature (until ``cache_recovered``), never per request."""
    if feature not in _degraded:
        _degraded.add(feature)
        logger.warning("The cache is unreachable (%s): %s degrades until it answers again", exc, feature)


def cache_recovered(feature: str) -> None:
    if feature in _degraded:
        _degraded.discard(feature)
        logger.info("The cache answers again: %s is back to normal", feature)


def cache_get_or_none(key: str, *, feature: str) -> Any:
    """The cached value, or None when it is missing or the cache is down (the caller computes live)."""
    try:
        value = cache.get(key)
    except Exception as exc:  # noqa: BLE001 - any client error: fail open
        cache_degraded(feature, exc)
        return None
    cache_recovered(feature)
    return value


def cache_set_quietly(key: str, value: Any, timeout: float | None, *, feature: str) -> None:
    """Store ``value`` when the cache answers; skipped (logged once) when it is down."""
    try:
        cache.set(key, value, timeout)
    except Exception as exc:  # noqa: BLE001
        cache_degraded(feature, exc)
