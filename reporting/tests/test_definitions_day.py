"""Issue 16's dashboard definitions on a hand-built data set: today holds only calls that happened,
voicemail is its own bucket and never connected, a cancelled campaign never shows 100 %."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from callkaro.models import CallKaroAgent, CallKaroCampaign
from crm.tests.factories import LeadFactory
from reporting.services import rollup_days_rebuild
from reporting.tests.test_dashboard import NOW, TODAY, ai_call, figures, human_call
from telephony.status import CallStatus as S

pytestmark = pytest.mark.django_db


@pytest.fixture
def day(rep):
    lead = LeadFactory(assigned_to=rep)
    talked = ai_call(lead, S.COMPLETED, duration=50, member=rep, hangup="CLIENT_INITIATED")
    voicemail = ai_call(lead, S.COMPLETED, duration=20, member=rep, hangup="VOICEMAIL_DETECTED")
    no_talk = ai_call(lead, S.COMPLETED, duration=0, member=rep, hangup="SESSION_TIMEOUT")
    later = ai_call(lead, S.SCHEDULED, member=rep)  # created today, for a later day
    later.scheduled_at = NOW + dt.timedelta(days=2)
    later.save(update_fields=["scheduled_at"])
    queued = human_call(lead, S.QUEUED, member=rep)
    return {"talked": talked, "voicemail": voicemail, "no_talk": no_talk, "later": later, "queued": queued}


def test_today_excludes_calls_scheduled_for_later_days(day):
    k = figures().kpis
    assert k.calls == 4  # talked, voicemail, no talk, queued: not the scheduled one
    assert all(r["id"] != day["later"].pk or r["provider"] != "callkaro" for r in figures().recent)


def test_voicemail_is_its_own_bucket_and_not_connected(day):
    f = figures()
    assert f.kpis.connected == 1  # only the call with talk time that was not a voicemail
    assert f.voicemail == 1
    assert {h["reason"]: h["connected"] for h in f.hangups}["VOICEMAIL_DETECTED"] == 0


def test_recent_calls_are_calls_that_happened(day):
    ids = {(r["provider"], r["id"]) for r in figures().recent}
    assert ("acefone", day["queued"].pk) not in ids and ("callkaro", day["later"].pk) not in ids
    assert ("callkaro", day["talked"].pk) in ids


def test_the_rollup_agrees_with_the_live_count(day):
    live = figures("7d").kpis
    rollup_days_rebuild(days=[TODAY - dt.timedelta(days=1), TODAY])
    from reporting import selectors
    from reporting.periods import DashboardFilters, period_resolve

    cached = selectors.dashboard_figures_cached(period_resolve("7d", now=NOW), DashboardFilters(), now=NOW).kpis
    assert (cached.calls, cached.connected) == (live.calls, live.connected)


def test_a_cancelled_campaign_does_not_show_done(rep):
    lead = LeadFactory(assigned_to=rep)
    agent = CallKaroAgent.objects.create(agent_id="ag-stop", name="Stopper")
    camp = CallKaroCampaign.objects.create(name="Stopped", agent=agent, status="cancelled", total_leads=4)
    ai_call(lead, S.COMPLETED, duration=30, campaign=camp, member=rep)
    for _ in range(3):
        ai_call(lead, S.CANCELLED, campaign=camp, member=rep)
    (c,) = figures().campaigns
    assert c["settled"] == 4 and c["progress"] == 25.0  # one call completed of four planned, not 100 %


def test_the_page_says_how_campaign_calls_are_credited(manager_client):
    body = manager_client.get(reverse("reporting:dashboard")).content.decode()
    assert "for the owner of each called lead" in body and "Voicemail" in body
