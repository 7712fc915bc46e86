"""Reads for the CRM core. Every lead query for a person goes through ``lead_queryset_for``."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404

from .models import FollowUp, Lead, LeadActivity, LeadNote, TeamMember


def team_member_for(user: AbstractBaseUser | AnonymousUser) -> TeamMember | None:
    """The signed-in user's team member, or None for a bare superuser."""
    if not user.is_authenticated:
        return None
    try:
        return user.team_member  # type: ignore[union-attr]
    except TeamMember.DoesNotExist:
        return None


def lead_queryset_for(user: AbstractBaseUser) -> QuerySet[Lead]:
    """Leads the user may see: all for managers and admins, their own for reps."""
    qs = Lead.objects.select_related("assigned_to")
    if user.has_perm("crm.view_all_leads"):
        return qs
    member = team_member_for(user)
    if member is None:
        return qs.none()
    return qs.filter(assigned_to=member)


def lead_get_for_user(user: AbstractBaseUser, lead_id: int) -> Lead:
    """A lead the user may see, else 404 (so that others' leads are not even confirmed)."""
    return get_object_or_404(lead_queryset_for(user), pk=lead_id)


@dataclass(frozen=True)
class LeadFilters:
    q: str = ""
    stage: str = ""
    source: str = ""
    assignee: int | None = None


def lead_search(user: AbstractBaseUser, filters: LeadFilters) -> QuerySet[Lead]:
    """The lead list's query: search by name or phone digits, filter by stage, source, assignee."""
    qs = lead_queryset_for(user)
    q = filters.q.strip()
    if q:
        digits = "".join(ch for ch in q if ch.isdigit())
        cond = Q(name__icontains=q) | Q(email__icontains=q)
        if len(digits) >= 3:
            cond |= Q(phone__contains=digits)
        qs = qs.filter(cond)
    if filters.stage:
        qs = qs.filter(stage=filters.stage)
    if filters.source:
        qs = qs.filter(source=filters.source)
    if filters.assignee:
        qs = qs.filter(assigned_to_id=filters.assignee)
    return qs.order_by("-created_at", "-id")


def lead_notes(lead: Lead) -> QuerySet[LeadNote]:
    return lead.notes.select_related("author")


def lead_activities(lead: Lead, limit: int = 50) -> QuerySet[LeadActivity]:
    return lead.activities.select_related("actor")[:limit]


#: Call statuses that mean the call was never dialled, so they do not count as a first call.
_NOT_DIALLED = frozenset({"queued", "scheduled", "cancelled"})


def lead_first_call_age(lead: Lead, calls: list) -> str:
    """How long the lead waited for its first dialled call ("42 s", "3 min 5 s"), or "" if none yet.

    Measured from the form's submission when Meta gave it, else from the lead's arrival here.
    """
    dialled = [c.scheduled_at or c.created_at for c in calls if c.status not in _NOT_DIALLED]
    if not dialled:
        return ""
    seconds = max(0, int((min(dialled) - (lead.meta_created_at or lead.created_at)).total_seconds()))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [(days, "d"), (hours, "h"), (minutes, "min"), (secs, "s")]
    shown = [f"{n} {unit}" for n, unit in parts if n][:2]
    return " ".join(shown) or "0 s"


def team_members_assignable() -> QuerySet[TeamMember]:
    return TeamMember.objects.filter(is_active=True).order_by("name")


def follow_ups_open_for(member: TeamMember, *, due_before=None) -> QuerySet[FollowUp]:
    """The member's follow-ups not yet done, soonest first (``due_before`` limits to those due by then)."""
    qs = FollowUp.objects.filter(owner=member, done_at__isnull=True).select_related("lead")
    if due_before is not None:
        qs = qs.filter(due_at__lte=due_before)
    return qs.order_by("due_at", "id")
