"""The facts the eligibility rule decides on, gathered for a chunk of leads in a few queries."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from crm.dnc import dnc_numbers_among
from crm.models import Lead, LeadStage
from crm.selectors import lead_queryset_for

from .calls import calls
from .registry import get_provider, provider_names
from .status import LIVE_STATUSES, PENDING_STATUSES, CallStatus


@dataclass(frozen=True)
class LeadFacts:
    lead_id: int
    exists: bool = True
    name: str = ""
    e164: str = ""
    stage: str = ""
    time_zone: str = ""
    visible: bool = True
    do_not_call: bool = False
    live: bool = False  # a call being dialled or on the line
    pending: bool = False  # a call scheduled, or handed to the provider for later
    last_ai_call_at: dt.datetime | None = None

    @property
    def stage_label(self) -> str:
        return LeadStage(self.stage).label if self.stage in LeadStage.values else self.stage


def _e164(phone: Any, invalid: bool) -> str:
    if invalid or not phone:
        return ""
    if hasattr(phone, "is_valid") and not phone.is_valid():
        return ""
    number = phone.as_e164 if hasattr(phone, "as_e164") else str(phone)
    return number if number.startswith("+") else ""


def _calls_by_lead(
    ids: list[int], since: dt.datetime, exclude_call: tuple[str, int] | None
) -> tuple[set[int], set[int], dict[int, dt.datetime]]:
    """Leads with a live call, with a pending call, and each lead's latest AI call that reached the line."""
    live: set[int] = set()
    pending: set[int] = set()
    last_ai: dict[int, dt.datetime] = {}
    reached = [CallStatus.COMPLETED, *LIVE_STATUSES]
    for name in provider_names():
        qs = calls(name, lead_id__in=ids)
        if exclude_call and exclude_call[0] == name:
            qs = qs.exclude(pk=exclude_call[1])
        rows = qs.filter(status__in=[*PENDING_STATUSES, *LIVE_STATUSES]).values_list(
            "lead_id", "status", "scheduled_at"
        )
        now = timezone.now()
        for lead_id, status, scheduled_at in rows:
            # A call handed to the provider with a future schedule_at is pending, not on the line.
            handed_over_for_later = status == CallStatus.INITIATED and scheduled_at and scheduled_at > now
            if status == CallStatus.SCHEDULED or handed_over_for_later:
                pending.add(lead_id)
            else:
                live.add(lead_id)
        if getattr(get_provider(name), "places_ai_calls", False):
            recent = qs.filter(status__in=reached, initiated_at__gte=since).values_list("lead_id", "initiated_at")
            for lead_id, when in recent:
                if when and (lead_id not in last_ai or when > last_ai[lead_id]):
                    last_ai[lead_id] = when
    return live, pending, last_ai


def facts_for(
    leads: Iterable[Any], *, user: Any, since: dt.datetime, exclude_call: tuple[str, int] | None = None
) -> dict[int, LeadFacts]:
    """Facts per lead id (a missing lead gets ``exists=False``)."""
    given = list(leads)
    ids = [getattr(lead, "pk", lead) for lead in given]
    fields = ("pk", "name", "phone", "phone_invalid", "stage", "time_zone", "do_not_call")
    # A Lead row passed in (locked by the caller, or not saved yet) is read as it is: no second query.
    rows = {lead.pk: {f: getattr(lead, f) for f in fields} for lead in given if isinstance(lead, Lead)}
    missing = [pk for pk in ids if pk not in rows and pk is not None]
    if missing:
        rows.update({row["pk"]: row for row in Lead.objects.filter(pk__in=missing).values(*fields)})
    numbers = {pk: _e164(Lead(phone=row["phone"]).phone, row["phone_invalid"]) for pk, row in rows.items()}
    listed = dnc_numbers_among([n for n in numbers.values() if n])
    known = [i for i in ids if i]
    visible = set(rows)
    if user is not None:
        visible = set(lead_queryset_for(user).filter(pk__in=known).values_list("pk", flat=True))
    live, pending, last_ai = _calls_by_lead(known, since, exclude_call)
    facts: dict[int, LeadFacts] = {}
    for pk in ids:
        row = rows.get(pk)
        if row is None:
            facts[pk] = LeadFacts(pk, exists=False)
            continue
        facts[pk] = LeadFacts(
            pk,
            name=row["name"],
            e164=numbers[pk],
            stage=row["stage"],
            time_zone=row["time_zone"],
            visible=pk in visible,
            do_not_call=row["do_not_call"] or numbers[pk] in listed,
            live=pk in live,
            pending=pk in pending,
            last_ai_call_at=last_ai.get(pk),
        )
    return facts
