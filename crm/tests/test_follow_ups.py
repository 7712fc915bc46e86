"""Follow-ups: one per call, owned by the lead's rep unless named, listed soonest first."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from crm.models import FollowUp, LeadActivity
from crm.selectors import follow_ups_open_for
from crm.services import follow_up_create, follow_up_done

pytestmark = pytest.mark.django_db


def test_a_follow_up_goes_to_the_leads_owner_and_is_recorded(lead, rep):
    due = timezone.now() + dt.timedelta(hours=2)
    follow_up = follow_up_create(lead=lead, due_at=due, note="Send the brochure")
    assert follow_up.owner == rep
    activity = LeadActivity.objects.get(lead=lead, kind=LeadActivity.Kind.FOLLOW_UP)
    assert activity.message == "Send the brochure"


def test_one_follow_up_per_call_however_often_it_is_reported(lead):
    due = timezone.now() + dt.timedelta(days=1)
    first = follow_up_create(lead=lead, due_at=due, call_ref="callkaro:7", source=FollowUp.Source.AI_CALLBACK)
    again = follow_up_create(lead=lead, due_at=due + dt.timedelta(hours=1), call_ref="callkaro:7")
    assert again.pk == first.pk and again.due_at == due
    assert FollowUp.objects.count() == 1


def test_open_follow_ups_are_soonest_first_and_done_ones_drop_out(lead, rep):
    now = timezone.now()
    later = follow_up_create(lead=lead, due_at=now + dt.timedelta(days=2))
    sooner = follow_up_create(lead=lead, due_at=now + dt.timedelta(hours=1))
    assert list(follow_ups_open_for(rep)) == [sooner, later]
    assert list(follow_ups_open_for(rep, due_before=now + dt.timedelta(hours=3))) == [sooner]
    follow_up_done(follow_up=sooner)
    assert list(follow_ups_open_for(rep)) == [later]
