"""Pre-dial checks, run by ``call_dispatch`` just before each dial.

A check takes the call log and returns a skip reason, or None to let the call go ahead. Apps
register their own in ``AppConfig.ready()`` with ``register(check, needs=...)``; they run in
registration order.

A check's ``needs`` names what it reads besides the row (related rows to join, annotations to
compute), so the dispatch loads one row with everything every check and the provider's request
read, in a single query, and the checks decide without querying (issue 18, "cheaper dials"). That
query is compiled once per worker thread (``telephony.prepared``): only the call's id and "now" change.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone

from crm.models import Lead

from .prepared import prepared_first
from .registry import provider_names

DialCheck = Callable[[Any], "str | None"]


@dataclass(frozen=True)
class DialNeeds:
    """What a check reads from the dialled row: ``related`` paths (``select_related``) and
    ``annotations`` (name -> expression; prefix names with ``dial_`` so they cannot clash)."""

    related: tuple[str, ...] = ()
    annotations: dict[str, Any] = field(default_factory=dict)


#: Given the call-log model and "now", what a check needs loaded with the row. "now" may only be
#: used as a value (compared with a column), so the compiled query can be re-run with a later one.
NeedsFor = Callable[[type, dt.datetime], DialNeeds]

_checks: list[DialCheck] = []
_needs: dict[DialCheck, NeedsFor] = {}


def register(check: DialCheck, *, needs: NeedsFor | None = None) -> DialCheck:
    """Add a check (once, however often ``ready()`` runs); returns it, so it also works as a decorator."""
    if check not in _checks:
        _checks.append(check)
    if needs is not None:
        _needs[check] = needs
    return check


def unregister(check: DialCheck) -> None:
    """Remove a check (tests)."""
    if check in _checks:
        _checks.remove(check)
    _needs.pop(check, None)


def registered() -> tuple[DialCheck, ...]:
    return tuple(_checks)


def dial_row(model: type, call_log_id: int, *, related: Iterable[str] = ()) -> Any | None:
    """The call log with what every registered check and ``related`` read, in one query (None if gone)."""
    related = tuple(sorted(set(related)))
    checks = tuple(_checks)

    def build(*, pk: int, now: dt.datetime) -> Any:
        paths = set(related)
        annotations: dict[str, Any] = {}
        for check in checks:
            needs_for = _needs.get(check)
            if needs_for is not None:
                needs = needs_for(model, now)
                paths.update(needs.related)
                annotations.update(needs.annotations)
        qs = model.objects.filter(pk=pk)
        if paths:
            qs = qs.select_related(*sorted(paths))
        return qs.annotate(**annotations) if annotations else qs

    key = ("dial_row", model, related, checks, tuple(_needs.get(c) for c in checks), tuple(provider_names()))
    return prepared_first(key, build, pk=call_log_id, now=timezone.now())


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
