"""Writes for the CRM core. Every change to a lead's stage or flags leaves an activity row."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction

from .models import FollowUp, Lead, LeadActivity, LeadNote, Role, TeamMember

User = get_user_model()

_TRACKED_FIELDS = ("name", "phone", "email", "city", "source", "assigned_to")


#: The Django flags each role carries. An admin is "configuration, everything" (design 1), which
#: includes the Django admin for the provider apps' models, so it is staff and superuser; any other
#: role is neither. Nothing else sets these flags for a team member.
ROLE_USER_FLAGS: dict[str, dict[str, bool]] = {
    Role.ADMIN: {"is_staff": True, "is_superuser": True},
    Role.MANAGER: {"is_staff": False, "is_superuser": False},
    Role.REP: {"is_staff": False, "is_superuser": False},
}


@transaction.atomic
def team_member_set_role(*, member: TeamMember, role: str) -> TeamMember:
    """Set the role and derive everything from it: one role group, and the staff/superuser flags.

    A demoted admin loses both flags; a member promoted to admin gains both.
    """
    if role not in ROLE_USER_FLAGS:
        raise ValueError(f"Unknown role {role!r}")
    member.role = role
    member.save(update_fields=["role"])
    user = member.user
    for flag, value in ROLE_USER_FLAGS[role].items():
        setattr(user, flag, value)
    user.save(update_fields=list(ROLE_USER_FLAGS[role]))
    groups = Group.objects.filter(name__in=[r.value for r in Role])
    user.groups.remove(*groups)
    user.groups.add(Group.objects.get(name=role))
    return member


@transaction.atomic
def team_member_set_active(*, member: TeamMember, active: bool) -> TeamMember:
    """Switch a member on or off. Off also switches off their login and ends every session they have."""
    member.is_active = active
    member.save(update_fields=["is_active"])
    user = member.user
    if user.is_active != active:
        user.is_active = active
        user.save(update_fields=["is_active"])
    if not active:
        user_sessions_end(user_id=user.pk)
    return member


def user_sessions_end(*, user_id: int) -> int:
    """Delete every stored session of one user (database sessions keep the user id only inside the data)."""
    from django.contrib.auth import SESSION_KEY
    from django.contrib.sessions.models import Session
    from django.utils import timezone

    ended = [
        s.pk
        for s in Session.objects.filter(expire_date__gt=timezone.now()).iterator()
        if str(s.get_decoded().get(SESSION_KEY)) == str(user_id)
    ]
    Session.objects.filter(pk__in=ended).delete()
    return len(ended)


@transaction.atomic
def team_member_create(
    *,
    username: str,
    password: str,
    name: str,
    role: str,
    phone: str = "",
    acefone_agent_number: str = "",
    manager: TeamMember | None = None,
    email: str = "",
) -> TeamMember:
    """A user and their team member; the role's flags and group come from ``team_member_set_role``."""
    user = User.objects.create_user(username=username, password=password, email=email)
    member = TeamMember.objects.create(
        user=user, name=name, phone=phone, acefone_agent_number=acefone_agent_number, manager=manager, role=role
    )
    return team_member_set_role(member=member, role=role)


@transaction.atomic
def lead_create(*, actor: TeamMember | None, **fields: Any) -> Lead:
    lead = Lead(**fields)
    lead.full_clean()
    lead.save()
    LeadActivity.objects.create(lead=lead, kind=LeadActivity.Kind.CREATED, actor=actor, new_value=lead.stage)
    return lead


@transaction.atomic
def lead_update(*, lead: Lead, actor: TeamMember | None, **fields: Any) -> Lead:
    """Apply edits; a stage or do-not-call change is recorded as its own activity."""
    old_stage, old_dnc = lead.stage, lead.do_not_call
    if old_dnc and fields.get("do_not_call", True) is False:
        # Clearing goes through crm.opt_out.do_not_call_clear: a manager or admin, with a reason.
        fields["do_not_call"] = True
    changed = [f for f in _TRACKED_FIELDS if f in fields and getattr(lead, f) != fields[f]]
    for key, value in fields.items():
        setattr(lead, key, value)
    lead.full_clean()
    lead.save()
    if lead.stage != old_stage:
        LeadActivity.objects.create(
            lead=lead, kind=LeadActivity.Kind.STAGE, actor=actor, old_value=old_stage, new_value=lead.stage
        )
    if lead.do_not_call != old_dnc:
        LeadActivity.objects.create(
            lead=lead,
            kind=LeadActivity.Kind.DO_NOT_CALL,
            actor=actor,
            old_value=str(old_dnc),
            new_value=str(lead.do_not_call),
        )
    if changed:
        LeadActivity.objects.create(
            lead=lead, kind=LeadActivity.Kind.EDITED, actor=actor, message="Changed: " + ", ".join(changed)
        )
    return lead


def lead_stage_set(
    *, lead: Lead, stage: str, actor: TeamMember | None = None, actor_label: str = "", call_ref: str = ""
) -> bool:
    """Move a lead to ``stage``, recording who or which call did it. Returns whether it changed."""
    if lead.stage == stage:
        return False
    old = lead.stage
    Lead.objects.filter(pk=lead.pk).update(stage=stage)
    lead.stage = stage
    LeadActivity.objects.create(
        lead=lead,
        kind=LeadActivity.Kind.STAGE,
        actor=actor,
        actor_label=actor_label,
        old_value=old,
        new_value=stage,
        call_ref=call_ref,
    )
    return True


class LeadStageWrites:
    """``lead_stage_set`` for a batch of calls: the same checks and activity rows, written at once.

    ``stage_set`` changes the (locked) lead in memory and keeps its activity row; ``flush`` writes
    one UPDATE per target stage and every activity row with one ``bulk_create``, in order. A lead
    moved twice in a batch gets both rows and its last stage."""

    def __init__(self) -> None:
        self.activities: list[LeadActivity] = []
        self.stages: dict[int, str] = {}

    def stage_set(
        self, *, lead: Lead, stage: str, actor: TeamMember | None = None, actor_label: str = "", call_ref: str = ""
    ) -> bool:
        if lead.stage == stage:
            return False
        self.activities.append(
            LeadActivity(
                lead=lead,
                kind=LeadActivity.Kind.STAGE,
                actor=actor,
                actor_label=actor_label,
                old_value=lead.stage,
                new_value=stage,
                call_ref=call_ref,
            )
        )
        lead.stage = stage
        self.stages[lead.pk] = stage
        return True

    def flush(self) -> None:
        by_stage: dict[str, list[int]] = {}
        for pk, stage in self.stages.items():
            by_stage.setdefault(stage, []).append(pk)
        for stage, pks in by_stage.items():
            Lead.objects.filter(pk__in=pks).update(stage=stage)
        if self.activities:
            LeadActivity.objects.bulk_create(self.activities)
        self.activities, self.stages = [], {}


def lead_flag_set(
    *,
    lead: Lead,
    flag: str,
    value: bool,
    actor_label: str = "",
    call_ref: str = "",
    message: str = "",
    actor: TeamMember | None = None,
) -> bool:
    """Set ``do_not_call`` or ``phone_invalid`` on a lead, with an activity row."""
    kinds = {"do_not_call": LeadActivity.Kind.DO_NOT_CALL, "phone_invalid": LeadActivity.Kind.PHONE_INVALID}
    if getattr(lead, flag) == value:
        return False
    Lead.objects.filter(pk=lead.pk).update(**{flag: value})
    setattr(lead, flag, value)
    LeadActivity.objects.create(
        lead=lead,
        kind=kinds[flag],
        actor=actor,
        actor_label=actor_label,
        old_value=str(not value),
        new_value=str(value),
        call_ref=call_ref,
        message=message[:300],
    )
    return True


def lead_note_add(*, lead: Lead, author: TeamMember | None, body: str) -> LeadNote:
    return LeadNote.objects.create(lead=lead, author=author, body=body.strip())


@transaction.atomic
def follow_up_create(
    *,
    lead: Lead,
    due_at: Any,
    owner: TeamMember | None = None,
    note: str = "",
    source: str = FollowUp.Source.MANUAL,
    call_ref: str = "",
    actor: TeamMember | None = None,
    actor_label: str = "",
) -> FollowUp:
    """A follow-up for the lead's owner (unless one is named). One per call: a repeated webhook or a
    second wrap-up of the same call returns the follow-up already made, unchanged."""
    if call_ref:
        existing = FollowUp.objects.filter(lead=lead, call_ref=call_ref).first()
        if existing is not None:
            return existing
    follow_up = FollowUp.objects.create(
        lead=lead,
        owner=owner or lead.assigned_to,
        due_at=due_at,
        note=note[:300],
        source=source,
        call_ref=call_ref,
    )
    LeadActivity.objects.create(
        lead=lead,
        kind=LeadActivity.Kind.FOLLOW_UP,
        actor=actor,
        actor_label=actor_label[:80],
        new_value=f"{due_at:%Y-%m-%d %H:%M}"[:80],
        call_ref=call_ref,
        message=note[:300],
    )
    return follow_up


def follow_up_done(*, follow_up: FollowUp) -> FollowUp:
    """Mark it done (idempotent: the first time it was done is kept)."""
    from django.utils import timezone

    FollowUp.objects.filter(pk=follow_up.pk, done_at__isnull=True).update(done_at=timezone.now())
    follow_up.refresh_from_db(fields=["done_at"])
    return follow_up
