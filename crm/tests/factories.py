"""Test data. Team members are made through the service, so that role groups are right."""

from __future__ import annotations

import itertools

import factory

from crm import services
from crm.models import Lead, LeadSource, LeadStage, Role, TeamMember

_seq = itertools.count(1)


def make_member(role: str = Role.REP, *, username: str | None = None, **kwargs) -> TeamMember:
    n = next(_seq)
    return services.team_member_create(
        username=username or f"{role}{n}",
        password="pw",
        name=kwargs.pop("name", f"{role.title()} {n}"),
        role=role,
        acefone_agent_number=kwargs.pop("acefone_agent_number", f"06020{n:05d}"),
        **kwargs,
    )


class LeadFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Lead

    name = factory.Sequence(lambda n: f"Lead {n}")
    phone = factory.Sequence(lambda n: f"+9198{n:08d}")
    source = LeadSource.META_FACEBOOK
    stage = LeadStage.NEW
