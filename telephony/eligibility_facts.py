"""The facts the eligibility rule decides on, gathered for a chunk of leads in a few queries; or, for
the standing rules alone, read as annotations with each row of a lead query (a campaign's audience)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import phonenumbers
from django.db.models import CharField, Exists, ExpressionWrapper, F, OuterRef
from django.utils import timezone
from phonenumber_field.phonenumber import to_python

from crm.dnc import dnc_numbers_among
from crm.models import DoNotCallEntry, Lead, LeadStage
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


@lru_cache(maxsize=4096)
def parsed_number(text: str) -> phonenumbers.PhoneNumber | None:
    """``text`` parsed with no default region (so an international "+…" number), None if it does not parse.

    Cached, for more numbers than a launch's chunk holds: a launch reads each number twice, for
    its validity (``_e164``) and then for its country and type (``eligibility.number_refusal``).
    """
    try:
        return phonenumbers.parse(text)
    except phonenumbers.NumberParseException:
        return None


def _e164(phone: Any, invalid: bool) -> str:
    if invalid or not phone:
        return ""
    if isinstance(phone, str) and phone.startswith("+"):  # stored text: the default region plays no part
        parsed = parsed_number(phone)
        if parsed is None or not phonenumbers.is_valid_number(parsed):
            return ""
        return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    if isinstance(phone, str):  # as the model field reads it
        phone = to_python(phone)
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
    leads: Iterable[Any], *, user: Any, since: dt.datetime | None, exclude_call: tuple[str, int] | None = None
) -> dict[int, LeadFacts]:
    """Facts per lead id (a missing lead gets ``exists=False``). ``since=None``: the standing facts
    only (``decide`` with no ``at``), so the leads' calls are not read."""
    given = list(leads)
    ids = [getattr(lead, "pk", lead) for lead in given]
    fields = ("pk", "name", "phone", "phone_invalid", "stage", "time_zone", "do_not_call")
    # A Lead row passed in (locked by the caller, or not saved yet) is read as it is: no second query.
    rows = {lead.pk: {f: getattr(lead, f) for f in fields} for lead in given if isinstance(lead, Lead)}
    missing = [pk for pk in ids if pk not in rows and pk is not None]
    if missing:
        rows.update({row["pk"]: row for row in Lead.objects.filter(pk__in=missing).values(*fields)})
    numbers = {pk: _e164(row["phone"], row["phone_invalid"]) for pk, row in rows.items()}
    listed = dnc_numbers_among([n for n in numbers.values() if n])
    known = [i for i in ids if i]
    visible = set(rows)
    if user is not None:
        visible = set(lead_queryset_for(user).filter(pk__in=known).values_list("pk", flat=True))
    live, pending, last_ai = _calls_by_lead(known, since, exclude_call) if since else (set(), set(), {})
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


#: What ``standing_facts`` reads from a row annotated with ``standing_annotations``, after the lead's id:
#: first the stored number and whether the do-not-call list holds it.
STANDING_VALUES = ("facts_phone", "facts_dnc", "name", "phone_invalid", "stage", "time_zone", "do_not_call")


def standing_annotations() -> dict[str, Any]:
    """The standing facts (``decide`` with no ``at``) as annotations on a Lead queryset: an audience
    streamed from the database carries them with each row, so a chunk costs no query."""
    return {
        "facts_phone": ExpressionWrapper(F("phone"), output_field=CharField()),  # the stored text: no parse
        "facts_dnc": Exists(DoNotCallEntry.objects.filter(phone=OuterRef("phone"))),
    }


def standing_facts(
    pk: int, phone: str, listed: bool, name: str, invalid: bool, stage: str, time_zone: str, do_not_call: bool
) -> LeadFacts:
    """A lead's standing facts from the ``STANDING_VALUES`` of its row, as ``facts_for`` finds them.

    A valid number is stored as its E.164 text, so the list's match on the stored text is its match
    on the number."""
    e164 = _e164(phone, invalid)
    return LeadFacts(
        pk, name=name, e164=e164, stage=stage, time_zone=time_zone, do_not_call=bool(do_not_call or (listed and e164))
    )
