"""Pre-dial checks, run by ``call_dispatch`` just before each dial.

A check takes the call log and returns a skip reason, or None to let the call go ahead. Apps
register their own in ``AppConfig.ready()`` with ``register(check)``; they run in registration order.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from crm.models import Lead

DialCheck = Callable[[Any], "str | None"]

_checks: list[DialCheck] = []


def register(check: DialCheck) -> DialCheck:
    """Add a check (once, however often ``ready()`` runs); returns it, so it also works as a decorator."""
    if check not in _checks:
        _checks.append(check)
    return check


def unregister(check: DialCheck) -> None:
    """Remove a check (tests)."""
    if check in _checks:
        _checks.remove(check)


def registered() -> tuple[DialCheck, ...]:
    return tuple(_checks)


def dial_skip_reason(call_log: Any) -> str | None:
    """The first registered check's reason not to dial, or None."""
    for check in _checks:
        reason = check(call_log)
        if reason:
            return str(reason)
    return None


def lead_still_callable(call_log: Any) -> str | None:
    """The lead may have been marked do-not-call or invalid since the call was queued."""
    lead = Lead.objects.filter(pk=call_log.lead_id).values("do_not_call", "phone_invalid").first()
    if lead is None:
        return "The lead no longer exists"
    if lead["do_not_call"]:
        return "The lead is on the do-not-call list"
    if lead["phone_invalid"]:
        return "The lead's phone number is flagged invalid"
    return None
