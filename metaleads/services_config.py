"""Writes from the Meta lead-ads page: the settings (secrets encrypted), forms and their rotas."""

from __future__ import annotations

from django.db import transaction

from crm import crypto
from crm.models import TeamMember

from .config import SECRETS, config_row_for_update
from .models import MetaForm, MetaFormAssignee, MetaLeadsConfig


@transaction.atomic
def config_save(*, actor: TeamMember | None, **values) -> MetaLeadsConfig:
    """Save the page's values. A blank secret keeps the one in force; ``clear_*`` removes the saved one."""
    row = config_row_for_update()
    for prefix, _setting in SECRETS:
        secret = (values.get(prefix) or "").strip()
        if values.get(f"clear_{prefix}"):
            setattr(row, f"{prefix}_encrypted", "")
            setattr(row, f"{prefix}_last4", "")
        elif secret:
            setattr(row, f"{prefix}_encrypted", crypto.encrypt(secret))
            setattr(row, f"{prefix}_last4", secret[-4:])
    row.graph_base_url = values["graph_base_url"].rstrip("/")
    row.backfill_interval = values["backfill_interval"]
    row.speed_to_lead_agent_id = values["speed_to_lead_agent_id"]
    row.metadata_answer_keys = values["metadata_answer_keys"]
    row.updated_by = actor
    row.save()
    return row


def form_add(*, form_id: str, name: str = "") -> MetaForm:
    """Watch a form (its backfill starts with the next run), or rename one already known."""
    form, created = MetaForm.objects.get_or_create(form_id=form_id, defaults={"name": name})
    if not created and name:
        MetaForm.objects.filter(pk=form.pk).update(name=name, is_active=True)
        form.refresh_from_db()
    return form


@transaction.atomic
def form_rota_set(*, form: MetaForm, weights: dict[int, int]) -> None:
    """Replace the form's rota: team member id -> weight (0 or missing takes no turn)."""
    locked = MetaForm.objects.select_for_update().get(pk=form.pk)
    MetaFormAssignee.objects.filter(form=locked).delete()
    MetaFormAssignee.objects.bulk_create(
        MetaFormAssignee(form=locked, team_member_id=member_id, weight=weight)
        for member_id, weight in sorted(weights.items())
        if weight > 0
    )
    locked.rr_turn = 0
    locked.save(update_fields=["rr_turn"])


def form_set_active(*, form: MetaForm, is_active: bool) -> None:
    MetaForm.objects.filter(pk=form.pk).update(is_active=is_active)


def team_member_set_away(*, member: TeamMember, is_away: bool) -> None:
    """Away reps keep their leads but take no new turn."""
    TeamMember.objects.filter(pk=member.pk).update(is_away=is_away)
