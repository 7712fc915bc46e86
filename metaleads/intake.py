"""One new lead in, whatever its source: merge a duplicate by phone, else assign and create.

Shared by the Graph fetch, the backfill and the file import, so the rules cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from crm.models import Lead, LeadActivity, LeadStage

from .assignment import assignee_take_turn
from .mapping import MappedLead
from .models import MetaForm

#: A lead in these stages is closed: a new form from the same phone opens a new lead.
CLOSED_STAGES = (LeadStage.CONVERTED, LeadStage.DEAD)
SYSTEM_ACTOR = "Meta lead ads"
IMPORT_FORM_ID = "csv-import"


@dataclass(frozen=True)
class IntakeResult:
    lead: Lead
    created: bool


def open_lead_with_phone(phone: str) -> Lead | None:
    return Lead.objects.filter(phone=phone).exclude(stage__in=CLOSED_STAGES).order_by("created_at", "pk").first()


def import_form() -> MetaForm:
    """The pseudo-form whose rota assigns imported leads (Meta does not know it: no backfill)."""
    form, _ = MetaForm.objects.get_or_create(
        form_id=IMPORT_FORM_ID, defaults={"name": "Imported leads", "backfill": False}
    )
    return form


def form_for(form_id: str) -> MetaForm:
    form, _ = MetaForm.objects.get_or_create(form_id=form_id or "unknown")
    return form


def lead_intake(*, mapped: MappedLead, form: MetaForm, actor_label: str = SYSTEM_ACTOR) -> IntakeResult:
    """Merge into an open lead with the same phone (it keeps its owner), else create and assign.

    The form's row lock is taken first: it serialises this form's arrivals, so the duplicate
    check and the round-robin turn cannot race with a concurrent copy from the same form.
    """
    with transaction.atomic():
        locked = MetaForm.objects.select_for_update().get(pk=form.pk)
        existing = open_lead_with_phone(mapped.phone) if mapped.phone_valid else None
        if existing is not None:
            LeadActivity.objects.create(
                lead=existing,
                kind=LeadActivity.Kind.FORM_AGAIN,
                actor_label=actor_label,
                message=f"Submitted form {locked.name or locked.form_id} again"[:300],
            )
            return IntakeResult(lead=existing, created=False)
        owner = assignee_take_turn(locked_form=locked)
        lead = _lead_create(mapped=mapped, form=locked, owner=owner, actor_label=actor_label)
        return IntakeResult(lead=lead, created=True)


def _lead_create(*, mapped: MappedLead, form: MetaForm, owner, actor_label: str) -> Lead:
    # No full_clean(): a number that is not valid still makes a lead, flagged and never called.
    lead = Lead.objects.create(
        name=mapped.name,
        phone=mapped.phone,
        phone_invalid=not mapped.phone_valid,
        email=mapped.email,
        city=mapped.city,
        source=mapped.source,
        meta_lead_id=mapped.meta_lead_id,
        meta_form_name=(form.name or form.form_id)[:160] if mapped.meta_lead_id else "",
        meta_campaign_name=mapped.campaign_name,
        meta_adset_name=mapped.adset_name,
        meta_ad_name=mapped.ad_name,
        meta_created_at=mapped.created_at,
        form_answers=mapped.answers,
        assigned_to=owner,
    )
    LeadActivity.objects.create(
        lead=lead,
        kind=LeadActivity.Kind.CREATED,
        actor_label=actor_label,
        new_value=lead.stage,
        message=f"Assigned to {owner.name}" if owner else "No rep available: unassigned",
    )
    if not mapped.phone_valid:
        LeadActivity.objects.create(
            lead=lead,
            kind=LeadActivity.Kind.PHONE_INVALID,
            actor_label=actor_label,
            message="The form's phone number is not a valid number; the lead will not be called",
        )
    return lead
