"""Round-robin assignment per form, weighted, skipping reps who are away or inactive.

Fair under concurrency: the caller holds the form's row lock (``select_for_update``) while it takes
a turn, so two leads arriving together can never take the same turn.
"""

from __future__ import annotations

from crm.models import Role, TeamMember

from .models import MetaForm, MetaFormAssignee


def rota_for(form: MetaForm) -> list[TeamMember]:
    """The form's weighted rota (a rep of weight 2 appears twice); every active rep when none is set."""
    rows = list(MetaFormAssignee.objects.filter(form=form, weight__gt=0).select_related("team_member").order_by("pk"))
    if rows:
        return [row.team_member for row in rows for _ in range(row.weight)]
    return list(TeamMember.objects.filter(role=Role.REP, is_active=True).order_by("pk"))


def available(member: TeamMember) -> bool:
    return member.is_active and not member.is_away


def assignee_take_turn(*, locked_form: MetaForm) -> TeamMember | None:
    """The next available rep on the rota; advances and saves the form's turn.

    ``locked_form`` must have been read with ``select_for_update`` in the current transaction.
    Returns None (the lead stays unassigned) when every rep on the rota is away.
    """
    rota = rota_for(locked_form)
    for step in range(len(rota)):
        member = rota[(locked_form.rr_turn + step) % len(rota)]
        if available(member):
            locked_form.rr_turn = (locked_form.rr_turn + step + 1) % len(rota)
            locked_form.save(update_fields=["rr_turn"])
            return member
    return None
