"""A launch's checks: every skip reason counted as before, the same figures whether the facts come
with the audience's rows (a filter) or are looked up per chunk (a CSV), and a number of queries that
does not grow with the audience."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from callkaro.campaigns import services
from callkaro.campaigns.audience import CampaignAudience, LeadFilter, audience_csv_parse
from callkaro.campaigns.inputs import CampaignSettings
from callkaro.models import CallKaroCallLog
from crm.dnc import dnc_add
from crm.models import Lead, LeadStage
from crm.tests.factories import LeadFactory
from telephony.status import CallStatus

from .fixtures import *  # noqa: F403  (fixtures: agent, callkaro_settings, http, office_hours)
from .fixtures import launch

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("office_hours")]


def _audience_of_every_kind(manager, rep, agent) -> list:
    """Two callable leads and one of each reason to leave a lead out; returns the callable ones."""
    good = LeadFactory.create_batch(2, assigned_to=rep)
    LeadFactory(assigned_to=rep, phone=good[0].phone)  # the same number twice
    dnc_add(number=LeadFactory(assigned_to=rep).phone)
    LeadFactory(assigned_to=rep, do_not_call=True)
    LeadFactory(assigned_to=rep, stage=LeadStage.CONVERTED)
    LeadFactory(assigned_to=rep, phone="+911123456789")  # an Indian landline
    LeadFactory(assigned_to=rep, phone="+14155550123")  # abroad
    busy = LeadFactory(assigned_to=rep)
    other = launch(manager.user, agent, name="Other")
    CallKaroCallLog.objects.filter(campaign=other).exclude(lead=busy).delete()
    # A call of the moment (a rep's call ringing) is asked again at dial time, not at launch.
    ringing = LeadFactory(assigned_to=rep)
    CallKaroCallLog.objects.create(lead=ringing, to_number=str(ringing.phone), status=CallStatus.RINGING)
    return [*good, ringing]


def test_every_skip_reason_is_counted_the_same_from_a_filter_and_from_a_csv(manager, rep, agent, http):
    callable_leads = _audience_of_every_kind(manager, rep, agent)
    s = CampaignSettings(name="x", agent=agent)
    by_filter = services.audience_preview(
        audience=CampaignAudience(user=manager.user, lead_filter=LeadFilter()), campaign_settings=s
    )
    numbers = "\n".join(str(p) for p in Lead.objects.order_by("pk").values_list("phone", flat=True))
    by_csv = services.audience_preview(
        audience=CampaignAudience(user=manager.user, csv=audience_csv_parse(f"phone\n{numbers}\n")),
        campaign_settings=s,
    )
    for preview in (by_filter, by_csv):
        assert (preview.eligible, preview.duplicates, preview.do_not_call, preview.in_other_campaigns) == (3, 1, 2, 1)
        assert preview.refused == {"closed_stage": 1, "landline": 1, "country_not_allowed": 1}

    campaign = launch(manager.user, agent)
    assert campaign.total_leads == 3
    assert set(campaign.calls.values_list("lead_id", flat=True)) == {lead.pk for lead in callable_leads}


#: SQLite's ``bulk_create`` splits a chunk by its limit on query parameters (PostgreSQL's COPY is not a query).
ROWS_INSERT = 'INSERT INTO "callkaro_callkarocalllog"'


def _launch_queries(manager, agent, new_leads: int) -> tuple[int, int]:
    LeadFactory.create_batch(new_leads)
    with CaptureQueriesContext(connection) as ctx:
        launched = launch(manager.user, agent, name=f"Plus {new_leads}")
    CallKaroCallLog.objects.all().delete()  # the next launch's leads are not busy in this one
    return launched.total_leads, sum(1 for q in ctx.captured_queries if not q["sql"].startswith(ROWS_INSERT))


def test_a_launchs_queries_do_not_grow_with_its_audience(manager, agent, http):
    """One audience query carries every check's facts; the rows are written per chunk (one chunk here)."""
    small = _launch_queries(manager, agent, 10)
    large = _launch_queries(manager, agent, 190)
    assert (small[0], large[0]) == (10, 200)
    assert large[1] <= small[1], (small, large)
