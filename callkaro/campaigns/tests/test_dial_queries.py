"""A campaign's dial costs what a rep's does: the campaign and its checks' facts come with the one read
(a lead's first dial, so its call timeline is written too)."""

from __future__ import annotations

import pytest

from callkaro.campaigns.scheduler import claim_campaign_calls
from callkaro.models import CallKaroCallLog
from crm.tests.factories import LeadFactory
from telephony.services import call_dispatch
from telephony.status import CallStatus
from telephony.tests.test_dial_queries import FIRST_DIAL_QUERY_CEILING

from .fixtures import *  # noqa: F403  (fixtures: agent, callkaro_settings, http, office_hours)
from .fixtures import dialled, launch

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("office_hours")]


def test_a_campaign_dial_stays_under_the_ceiling(rep, agent, http, django_assert_max_num_queries):
    agent.team_members.add(rep)
    leads = [LeadFactory(assigned_to=rep) for _ in range(2)]
    campaign = launch(rep.user, agent)
    from django.utils import timezone

    claimed = claim_campaign_calls(now=timezone.now())
    assert len(claimed) == 2
    call_dispatch(provider="callkaro", call_log_id=claimed[0])  # reads the config once for the process
    with django_assert_max_num_queries(FIRST_DIAL_QUERY_CEILING):  # the lead's first dial
        assert call_dispatch(provider="callkaro", call_log_id=claimed[1]) == CallStatus.INITIATED
    assert {body["to_number"] for body in dialled(http)} == {str(lead.phone) for lead in leads}
    assert {body["batch_id"] for body in dialled(http)} == {campaign.batch_id}
    assert CallKaroCallLog.objects.filter(campaign=campaign, status=CallStatus.INITIATED).count() == 2
