"""Reads for "My day", a rep's work queue: new leads not yet called, follow-ups due, callbacks the AI
agreed and scheduled calls. A fixed number of queries whatever the queue's size (one per list)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from telephony import calls
from telephony.registry import provider_names
from telephony.status import CallStatus

from .models import FollowUp, Lead, LeadStage, TeamMember
from .selectors import follow_ups_open_for

LIST_LIMIT = 25


@dataclass
class MyDay:
    new_leads: list[Lead] = field(default_factory=list)
    follow_ups: list[FollowUp] = field(default_factory=list)
    callbacks: list[FollowUp] = field(default_factory=list)
    scheduled: list[Any] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        return not (self.new_leads or self.follow_ups or self.callbacks or self.scheduled)


def leads_not_called(member: TeamMember, *, limit: int = LIST_LIMIT) -> QuerySet[Lead]:
    """The member's new leads no provider has called yet, oldest first (they have waited longest).
    A call only scheduled for later, or cancelled, has not reached the customer: such leads stay."""
    return (
        Lead.objects.filter(assigned_to=member, stage=LeadStage.NEW, do_not_call=False)
        .exclude(calls.lead_call_exists(exclude_statuses=(CallStatus.SCHEDULED, CallStatus.CANCELLED)))
        .order_by("created_at", "id")[:limit]
    )


def end_of_today(now: dt.datetime | None = None) -> dt.datetime:
    now = timezone.localtime(now or timezone.now())
    return now.replace(hour=23, minute=59, second=59, microsecond=0)


def scheduled_calls_for(member: TeamMember, *, limit: int = LIST_LIMIT) -> list[Any]:
    """Calls waiting for their time on the member's leads, soonest first (one query per provider)."""
    rows = []
    for name in provider_names():
        qs = calls.calls(name, lead__assigned_to=member, status=CallStatus.SCHEDULED).select_related("lead")
        rows.extend(qs.order_by("scheduled_at")[:limit])
    rows.sort(key=lambda log: (log.scheduled_at or log.created_at, log.pk))
    return rows[:limit]


def my_day_for(member: TeamMember, *, now: dt.datetime | None = None) -> MyDay:
    due = follow_ups_open_for(member, due_before=end_of_today(now))
    return MyDay(
        new_leads=list(leads_not_called(member)),
        follow_ups=list(due.exclude(source=FollowUp.Source.AI_CALLBACK)[:LIST_LIMIT]),
        callbacks=list(follow_ups_open_for(member).filter(source=FollowUp.Source.AI_CALLBACK)[:LIST_LIMIT]),
        scheduled=scheduled_calls_for(member),
    )
