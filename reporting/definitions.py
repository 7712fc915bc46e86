"""The dashboard's figures, defined once (the tests check each one); roll-up and live reads share them.

* **calls**: call logs *created* in the period that have been placed or are being placed: a call still
  waiting for its scheduled time (status ``scheduled``) counts nowhere, so "today" never holds calls
  scheduled for later days (see ``HAPPENED``). Once dialled, a call counts on the day it was created.
* **settled**: calls in a terminal status (completed, no answer, busy, failed, cancelled, unknown).
* **connected**: ``duration_seconds > 0``, the providers' own definition, and not a voicemail
  (``connected_q``). **voicemail** is its own bucket (Call Karo's ``VOICEMAIL_DETECTED``), read from the
  hang-up breakdown.
* **campaign calls** are credited to their campaign and, in the team table, to the lead's owner (the
  campaign dialler records the owner as the call's team member).
* **no answer**: ``no_answer`` or ``busy`` (the customer was not reached).
* **connect rate** = connected / settled; **conversion rate** = conversions / connected.
* **talk time**: the sum of ``duration_seconds``; **average talk time** = talk time / connected.
* **conversions**: calls with ``converted = true``, for providers whose calls carry that flag (Call
  Karo's); ``None`` for the others (Acefone reports no conversion).
* **calls per day** = calls / days in the period (for "all time": days since the first call).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Count, Q, Sum

from telephony import calls
from telephony.calls import Ranges  # noqa: F401 - the dashboard's name for half-open time ranges
from telephony.status import TERMINAL_STATUSES, CallStatus

#: Hang-up reasons that mean an answering machine took the call: talk time, but nobody talked.
VOICEMAIL_REASONS = ("VOICEMAIL_DETECTED",)
#: A call that was placed (or is being placed): everything but a call waiting for its scheduled time.
HAPPENED = ~Q(status=CallStatus.SCHEDULED)


def connected_q(provider: str | None = None) -> Q:
    """The one definition of a connected call: talk time above zero, voicemail excluded where the
    provider reports it (module docstring)."""
    q = Q(duration_seconds__gt=0)
    if provider is not None and calls.call_log_has(provider, "hangup_reason"):
        q &= ~Q(hangup_reason__in=VOICEMAIL_REASONS)
    return q


NO_ANSWER_STATUSES = (CallStatus.NO_ANSWER, CallStatus.BUSY)
SETTLED_STATUSES = tuple(sorted(TERMINAL_STATUSES))


def has_conversions(provider: str) -> bool:
    """Whether this provider reports conversions (its calls carry ``converted``)."""
    return calls.call_log_has(provider, "converted")


def kpi_aggregates(*, with_conversions: bool, provider: str | None = None) -> dict[str, Any]:
    """Every KPI column as a conditional aggregate: one scan of a call-log table answers them all."""
    aggs: dict[str, Any] = {
        "calls": Count("id"),
        "settled": Count("id", filter=Q(status__in=SETTLED_STATUSES)),
        "connected": Count("id", filter=connected_q(provider)),
        "completed": Count("id", filter=Q(status=CallStatus.COMPLETED)),
        "no_answer": Count("id", filter=Q(status__in=NO_ANSWER_STATUSES)),
        "failed": Count("id", filter=Q(status=CallStatus.FAILED)),
        "talk_seconds": Sum("duration_seconds"),
    }
    if with_conversions:
        aggs["conversions"] = Count("id", filter=Q(converted=True))
    return aggs


def as_date(value: Any) -> dt.date:
    """A grouped day as a date (SQLite without a converter hands back a string)."""
    return dt.date.fromisoformat(value) if isinstance(value, str) else value
