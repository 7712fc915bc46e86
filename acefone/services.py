"""Writes for Acefone's settings. The rep's number is a field of ``crm.TeamMember``; Acefone owns editing it."""

from __future__ import annotations

from crm.models import TeamMember


def agent_number_set(*, member: TeamMember, number: str) -> TeamMember:
    """The number or extension Acefone rings first when this member starts a click-to-call."""
    member.acefone_agent_number = number.strip()
    member.save(update_fields=["acefone_agent_number"])
    return member
