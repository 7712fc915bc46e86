"""The wrap-up after a human call: the rep's disposition, note and next step (a follow-up or a stage).

The disposition goes through the same outcome rules as an AI call's report
(``outcomes.wrap_up_outcome_apply``), and sets the call's ``converted`` flag where the provider's calls
carry one, so a human conversion counts on the dashboard like an AI one.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.db import transaction

from crm.forms import RefusesLongInput
from crm.models import FollowUp, Lead, LeadStage, TeamMember
from crm.services import follow_up_create, lead_note_add, lead_stage_set

from . import calls, registry
from .models import CallWrapUp, Disposition
from .outcomes import wrap_up_outcome_apply

NOTE_MAX = 300
#: How long after a human call the panel keeps asking for its wrap-up; older calls are left alone.
WRAP_UP_WINDOW = dt.timedelta(hours=12)


def wrap_up_providers() -> list[str]:
    """Providers whose calls a rep wraps up (the human ones)."""
    return [name for name in registry.provider_names() if registry._provider_class(name).asks_wrap_up]


def wrapped_call_refs(lead_id: int) -> set[str]:
    """``provider:id`` of this lead's calls already wrapped up (one query)."""
    rows = CallWrapUp.objects.filter(lead_id=lead_id).values_list("provider", "call_log_id")
    return {f"{provider}:{pk}" for provider, pk in rows}


class WrapUpForm(RefusesLongInput, forms.Form):
    """What the panel asks after a human call, in the rep's words."""

    disposition = forms.ModelChoiceField(
        queryset=Disposition.objects.filter(is_active=True), label="How did the call go?", empty_label=None
    )
    note = forms.CharField(label="Note", max_length=NOTE_MAX, required=False, widget=forms.Textarea(attrs={"rows": 2}))
    follow_up_at = forms.DateTimeField(
        label="Follow up at",
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text="Leave empty for no follow-up.",
    )
    stage = forms.ChoiceField(
        label="Or move the lead to", required=False, choices=[("", "Keep the stage"), *LeadStage.choices]
    )


@transaction.atomic
def call_wrap_up(
    *,
    provider: str,
    call_log: Any,
    member: TeamMember | None,
    disposition: Disposition,
    note: str = "",
    follow_up_at: dt.datetime | None = None,
    stage: str = "",
) -> CallWrapUp:
    """Record the wrap-up once per call, then apply it: note, follow-up, conversion flag, outcome rules
    and (when the rep chose one) the stage. A second wrap-up of the same call returns the first."""
    ref = f"{provider}:{call_log.pk}"
    wrap, created = CallWrapUp.objects.get_or_create(
        provider=provider,
        call_log_id=call_log.pk,
        defaults={
            "lead_id": call_log.lead_id,
            "disposition": disposition,
            "note": note,
            "follow_up_at": follow_up_at,
            "stage": stage,
            "by": member,
        },
    )
    if not created:
        return wrap
    lead = Lead.objects.get(pk=call_log.lead_id)
    label = member.name if member else "Wrap-up"
    if note:
        lead_note_add(lead=lead, author=member, body=f"{disposition.label}: {note}")
    if follow_up_at is not None:
        follow_up_create(
            lead=lead,
            due_at=follow_up_at,
            owner=member or lead.assigned_to,
            note=note or disposition.label,
            source=FollowUp.Source.WRAP_UP,
            call_ref=ref,
            actor=member,
        )
    if calls.call_log_has(provider, "converted"):
        type(call_log).objects.filter(pk=call_log.pk).update(converted=disposition.is_conversion)
    wrap_up_outcome_apply(
        call_log=call_log,
        provider=provider,
        disposition_code=disposition.code,
        converted=disposition.is_conversion,
        actor_label=label,
    )
    if stage:
        lead.refresh_from_db(fields=["stage"])
        lead_stage_set(lead=lead, stage=stage, actor=member, call_ref=ref)
    return wrap
