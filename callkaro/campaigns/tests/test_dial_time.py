"""Re-checked at dial time: leads changed after launch are skipped with their reason, and none is dialled."""

from __future__ import annotations

import pytest

from callkaro.campaigns.scheduler import scheduler_tick
from crm.dnc import dnc_add
from crm.models import Lead, LeadStage
from crm.tests.factories import LeadFactory
from telephony.status import CallStatus

from .fixtures import *  # noqa: F403  (fixtures: agent, callkaro_settings, http, office_hours)
from .fixtures import dialled, launch

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("office_hours")]


def test_leads_changed_after_launch_are_skipped_with_reasons(
    rep, rep2, agent, http, django_capture_on_commit_callbacks
):
    agent.team_members.add(rep)
    leads = {
        name: LeadFactory(assigned_to=rep) for name in ("converted", "not_interested", "dead", "dnc", "moved", "ok")
    }
    campaign = launch(rep.user, agent)  # a rep's campaign: their own leads only
    Lead.objects.filter(pk=leads["converted"].pk).update(stage=LeadStage.CONVERTED)
    Lead.objects.filter(pk=leads["not_interested"].pk).update(stage=LeadStage.NOT_INTERESTED)
    Lead.objects.filter(pk=leads["dead"].pk).update(stage=LeadStage.DEAD)
    dnc_add(number=leads["dnc"].phone)
    Lead.objects.filter(pk=leads["moved"].pk).update(assigned_to=rep2)
    with django_capture_on_commit_callbacks(execute=True):
        scheduler_tick()
    reasons = {row.lead_id: (row.status, row.skip_reason) for row in campaign.calls.all()}
    expected = {
        "converted": "is converted",
        "not_interested": "is not interested",
        "dead": "is dead",
        "dnc": "do-not-call list",
        "moved": "reassigned",
    }
    for name, words in expected.items():
        status, reason = reasons[leads[name].pk]
        assert status == CallStatus.CANCELLED and words in reason, (name, reason)
    assert [body["to_number"] for body in dialled(http)] == [str(leads["ok"].phone)]
