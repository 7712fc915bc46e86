"""The normalised call status and the one rule for moving it: forward only."""

from __future__ import annotations

from django.db import models


class CallStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    SCHEDULED = "scheduled", "Scheduled"
    DISPATCHING = "dispatching", "Dialling"
    INITIATED = "initiated", "Initiated"
    RINGING = "ringing", "Ringing"
    IN_PROGRESS = "in_progress", "In progress"
    COMPLETED = "completed", "Completed"
    NO_ANSWER = "no_answer", "No answer"
    BUSY = "busy", "Busy"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"
    UNKNOWN = "unknown", "Unknown (check)"


_RANK = {
    CallStatus.QUEUED: 0,
    CallStatus.SCHEDULED: 1,
    CallStatus.DISPATCHING: 2,
    CallStatus.INITIATED: 3,
    CallStatus.RINGING: 4,
    CallStatus.IN_PROGRESS: 5,
    CallStatus.UNKNOWN: 6,
    CallStatus.COMPLETED: 7,
    CallStatus.NO_ANSWER: 7,
    CallStatus.BUSY: 7,
    CallStatus.FAILED: 7,
    CallStatus.CANCELLED: 7,
}

#: Outcomes that settle a call for good.
FINAL_STATUSES = frozenset(
    {CallStatus.COMPLETED, CallStatus.NO_ANSWER, CallStatus.BUSY, CallStatus.FAILED, CallStatus.CANCELLED}
)
#: Statuses after which we never dial again on our own. ``unknown`` is among them: an
#: ambiguous call is settled by a webhook or by reconciliation, never by a re-dial.
TERMINAL_STATUSES = FINAL_STATUSES | {CallStatus.UNKNOWN}
#: Statuses in which the provider may be talking to the customer right now.
LIVE_STATUSES = frozenset({CallStatus.DISPATCHING, CallStatus.INITIATED, CallStatus.RINGING, CallStatus.IN_PROGRESS})
#: Waiting in our own database to be dialled.
PENDING_STATUSES = frozenset({CallStatus.QUEUED, CallStatus.SCHEDULED})


def can_transition(current: str, new: str) -> bool:
    """True when ``new`` is a step forward from ``current``.

    A final outcome never changes; ``unknown`` may still be settled by a final outcome;
    a duplicate (same status) is not a transition.
    """
    current, new = CallStatus(current), CallStatus(new)
    if current == new or current in FINAL_STATUSES:
        return False
    if current == CallStatus.UNKNOWN:
        return new in FINAL_STATUSES
    return _RANK[new] > _RANK[current]


def is_final(status: str) -> bool:
    return CallStatus(status) in FINAL_STATUSES
