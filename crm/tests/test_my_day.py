"""My day: the rep's queue, its order, its scope and its bounded query count."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from acefone.models import AcefoneCallLog
from callkaro.models import CallKaroCallLog
from crm.models import FollowUp, Lead, LeadStage
from crm.my_day import my_day_for
from crm.services import follow_up_create
from crm.tests.factories import LeadFactory

pytestmark = pytest.mark.django_db


def _aged(lead, hours):
    Lead.objects.filter(pk=lead.pk).update(created_at=timezone.now() - dt.timedelta(hours=hours))
    return lead


@pytest.fixture
def queue(rep, rep2):
    now = timezone.now()
    old, young = (
        _aged(LeadFactory(assigned_to=rep, name="Old"), 30),
        _aged(LeadFactory(assigned_to=rep, name="Young"), 1),
    )
    called = LeadFactory(assigned_to=rep, name="Called")
    AcefoneCallLog.objects.create(lead=called, to_number=str(called.phone), agent_number="1", status="no_answer")
    LeadFactory(assigned_to=rep, name="Contacted", stage=LeadStage.CONTACTED)
    LeadFactory(assigned_to=rep2, name="Someone else's")
    due = follow_up_create(lead=called, due_at=now - dt.timedelta(hours=1), note="Send brochure")
    follow_up_create(lead=called, due_at=now + dt.timedelta(days=3), note="Next week")  # not due today
    callback = follow_up_create(
        lead=old, due_at=now + dt.timedelta(hours=2), source=FollowUp.Source.AI_CALLBACK, call_ref="callkaro:9"
    )
    scheduled = CallKaroCallLog.objects.create(
        lead=young, to_number=str(young.phone), status="scheduled", scheduled_at=now + dt.timedelta(hours=3)
    )
    return {"old": old, "young": young, "due": due, "callback": callback, "scheduled": scheduled}


def test_the_queue_holds_each_list_in_order(queue, rep):
    day = my_day_for(rep)
    assert [lead.name for lead in day.new_leads] == ["Old", "Young"]  # oldest first; the called one left out
    assert day.follow_ups == [queue["due"]]
    assert day.callbacks == [queue["callback"]]
    assert day.scheduled == [queue["scheduled"]]


def test_the_page_has_one_click_call_and_refreshes_itself(queue, rep_client):
    body = rep_client.get(reverse("crm:my_day")).content.decode()
    panel = reverse("crm:call_panel")
    assert f'href="{panel}?lead={queue["old"].pk}"' in body and 'aria-label="Call Old"' in body
    assert 'hx-trigger="every 30s"' in body and "waiting 1\xa0day" in body
    assert "Someone else" not in body
    fragment = rep_client.get(reverse("crm:my_day"), HTTP_HX_REQUEST="true").content.decode()
    assert fragment.lstrip().startswith('<div id="my-day"') or 'id="my-day"' in fragment[:300]
    assert "<html" not in fragment


def test_a_rep_starts_at_my_day_and_a_manager_at_the_lead_list(rep_client, manager_client):
    assert rep_client.get("/")["Location"] == reverse("crm:my_day")
    assert manager_client.get("/")["Location"] == reverse("crm:lead_list")


def test_query_count_is_bounded(queue, rep, rep_client, django_assert_max_num_queries):
    for i in range(20):
        lead = LeadFactory(assigned_to=rep)
        follow_up_create(lead=lead, due_at=timezone.now(), call_ref=f"acefone:{i}")
    with django_assert_max_num_queries(10):
        rep_client.get(reverse("crm:my_day"))
