"""The one eligibility rule, as a table: every reason, and the calling-hours edges in two zones."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import timezone

from acefone.models import AcefoneCallLog
from callkaro.models import CallKaroCallLog
from crm.dnc import dnc_add
from crm.models import LeadStage
from crm.tests.factories import LeadFactory
from telephony import eligibility as el
from telephony.calling_hours import calling_window, window_parse
from telephony.eligibility import call_eligibility
from telephony.models import CallingPolicy
from telephony.status import CallStatus

pytestmark = pytest.mark.django_db
IST = ZoneInfo("Asia/Kolkata")
DUBAI = ZoneInfo("Asia/Dubai")
NOON = dt.datetime(2026, 12, 1, 12, 0, tzinfo=IST)


def _ask(lead, *, provider="callkaro", purpose=el.CAMPAIGN, at=NOON, user=None, **kw):
    return call_eligibility(lead=lead, provider=provider, purpose=purpose, at=at, user=user, **kw)


def _ai_call(lead, status, *, at, **fields):
    row = CallKaroCallLog.objects.create(lead=lead, to_number=str(lead.phone), status=status, **fields)
    CallKaroCallLog.objects.filter(pk=row.pk).update(initiated_at=at)
    return row


# (name, how the lead is set up, purpose, provider, expected reason code)
CASES = [
    ("a callable lead", {}, el.CAMPAIGN, "callkaro", ""),
    ("lead flagged do-not-call", {"do_not_call": True}, el.REP_CLICK, "callkaro", "do_not_call"),
    ("phone flagged invalid", {"phone_invalid": True}, el.REP_CLICK, "acefone", "no_number"),
    ("converted lead, campaign", {"stage": LeadStage.CONVERTED}, el.CAMPAIGN, "callkaro", "closed_stage"),
    ("not interested, auto-call", {"stage": LeadStage.NOT_INTERESTED}, el.AUTO_CALL, "callkaro", "closed_stage"),
    ("dead lead, campaign", {"stage": LeadStage.DEAD}, el.CAMPAIGN, "callkaro", "closed_stage"),
    ("converted lead, rep by hand", {"stage": LeadStage.CONVERTED}, el.REP_CLICK, "callkaro", ""),
    ("number abroad, AI", {"phone": "+14155550123"}, el.REP_CLICK, "callkaro", "country_not_allowed"),
    ("number abroad, human", {"phone": "+14155550123"}, el.REP_CLICK, "acefone", ""),
    ("Indian landline, AI", {"phone": "+911123456789"}, el.CAMPAIGN, "callkaro", "landline"),
    ("Indian landline, human", {"phone": "+911123456789"}, el.REP_CLICK, "acefone", ""),
]


@pytest.mark.parametrize(("name", "fields", "purpose", "provider", "code"), CASES, ids=[c[0] for c in CASES])
def test_each_reason(name, fields, purpose, provider, code, rep):
    lead = LeadFactory(assigned_to=rep, **fields)
    answer = _ask(lead, provider=provider, purpose=purpose)
    assert (answer.allowed, answer.reason_code) == (code == "", code)
    if code:
        assert answer.message and lead.name in answer.message or code == "no_lead"


def test_a_listed_number_is_do_not_call_even_when_the_lead_is_not_flagged(rep):
    lead = LeadFactory(assigned_to=rep)
    dnc_add(number=lead.phone)
    assert _ask(lead).reason_code == "do_not_call"


def test_a_missing_lead(db):
    assert _ask(999999).reason_code == "no_lead"


def test_another_reps_lead_is_not_theirs_to_call(rep, rep2):
    lead = LeadFactory(assigned_to=rep2)
    assert _ask(lead, user=rep.user, purpose=el.REP_CLICK).reason_code == "not_owner"
    assert _ask(lead, user=rep2.user, purpose=el.REP_CLICK).allowed


@pytest.mark.parametrize("status", [CallStatus.QUEUED, CallStatus.DISPATCHING, CallStatus.RINGING])
def test_a_call_on_the_line_refuses_every_purpose(rep, status):
    lead = LeadFactory(assigned_to=rep)
    AcefoneCallLog.objects.create(lead=lead, to_number=str(lead.phone), status=status, agent_number="1")
    for purpose in el.PURPOSES:
        assert _ask(lead, purpose=purpose).reason_code == "in_flight"


def test_a_pending_scheduled_call_blocks_campaigns_but_not_a_rep(rep):
    lead = LeadFactory(assigned_to=rep)
    CallKaroCallLog.objects.create(lead=lead, to_number=str(lead.phone), status=CallStatus.SCHEDULED)
    assert _ask(lead, purpose=el.CAMPAIGN).reason_code == "pending_call"
    assert _ask(lead, purpose=el.AUTO_CALL).reason_code == "pending_call"
    assert _ask(lead, purpose=el.REP_CLICK).allowed  # the rep's call supersedes it (test_call_place)


def test_the_minimum_gap_between_ai_calls_whatever_their_source(rep, settings):
    lead = LeadFactory(assigned_to=rep)
    _ai_call(lead, CallStatus.COMPLETED, at=NOON - dt.timedelta(hours=23))
    answer = _ask(lead, purpose=el.REP_CLICK)
    assert answer.reason_code == "min_gap"
    assert answer.next_allowed_at == NOON + dt.timedelta(hours=1)
    assert _ask(lead, provider="acefone", purpose=el.REP_CLICK).allowed  # a human call is not an AI call
    settings.CALL_MIN_GAP_HOURS = 12
    assert _ask(lead).allowed
    CallingPolicy.objects.create(min_gap_hours=48)
    assert _ask(lead).reason_code == "min_gap"


def test_an_unanswered_ai_call_does_not_start_the_gap(rep):
    lead = LeadFactory(assigned_to=rep)
    _ai_call(lead, CallStatus.NO_ANSWER, at=NOON - dt.timedelta(hours=1))
    assert _ask(lead).allowed


def test_the_gap_moves_the_next_time_into_calling_hours(rep, settings):
    settings.CALL_MIN_GAP_HOURS = 36  # 20:30 + 36 h is 08:30, before the window opens
    lead = LeadFactory(assigned_to=rep)
    _ai_call(lead, CallStatus.COMPLETED, at=dt.datetime(2026, 11, 30, 20, 30, tzinfo=IST))
    answer = _ask(lead)
    assert answer.next_allowed_at == dt.datetime(2026, 12, 2, 9, 0, tzinfo=IST)


EDGES = [((8, 59), False), ((9, 0), True), ((20, 59), True), ((21, 0), False)]


@pytest.mark.parametrize(("hm", "inside"), EDGES)
@pytest.mark.parametrize("zone", [IST, DUBAI], ids=["IST", "Dubai"])
def test_calling_hours_edges_in_the_leads_own_zone(rep, hm, inside, zone):
    lead = LeadFactory(assigned_to=rep, time_zone="" if zone is IST else "Asia/Dubai")
    local = dt.datetime(2026, 12, 1, *hm, tzinfo=zone)
    with time_machine.travel(local, tick=False):
        answer = _ask(lead, at=None, purpose=el.REP_CLICK)
        human = _ask(lead, at=None, purpose=el.REP_CLICK, provider="acefone")
    assert answer.allowed is inside
    if not inside:
        assert answer.reason_code == "outside_hours" and not answer.needs_confirmation
        opening = answer.next_allowed_at.astimezone(zone)
        assert opening.time() == dt.time(9, 0)
        assert opening.date() == (local.date() if hm < (9, 0) else local.date() + dt.timedelta(days=1))
        # A human call outside hours is the rep's to confirm, and goes ahead once confirmed.
        assert human.needs_confirmation and human.reason_code == "outside_hours"
        with time_machine.travel(local, tick=False):
            assert _ask(lead, at=None, purpose=el.REP_CLICK, provider="acefone", confirmed=True).allowed
    else:
        assert human.allowed


def test_an_admin_narrows_the_window_but_never_widens_it(rep, settings):
    lead = LeadFactory(assigned_to=rep)
    settings.CALLING_HOURS = "10:00-18:00"
    assert str(calling_window()) == "10:00-18:00"
    assert _ask(lead, at=NOON.replace(hour=9, minute=30)).reason_code == "outside_hours"
    settings.CALLING_HOURS = "07:00-23:00"  # wider than the law: clamped
    assert str(calling_window()) == "09:00-21:00"
    settings.CALLING_HOURS = "20:00-08:00"  # overnight: ignored
    assert str(calling_window()) == "09:00-21:00"
    CallingPolicy.objects.create(calling_hours="11:00-17:00")
    assert str(calling_window()) == "11:00-17:00"


@pytest.mark.parametrize("text", ["08:00-21:00", "09:00-22:00", "20:00-09:00", "9-5", "12:00-12:00"])
def test_a_window_outside_the_law_or_overnight_is_refused(text):
    with pytest.raises(ValueError):
        window_parse(text)


def test_the_decision_is_timezone_aware_at_the_default_time(rep):
    lead = LeadFactory(assigned_to=rep)
    with time_machine.travel(dt.datetime(2026, 12, 1, 21, 30, tzinfo=IST), tick=False):
        answer = _ask(lead, at=None)
        assert answer.next_allowed_at == dt.datetime(2026, 12, 2, 9, 0, tzinfo=IST)
        assert timezone.now() < answer.next_allowed_at


def test_the_standing_facts_read_with_a_row_are_the_facts_read_per_chunk(rep):
    """A campaign audience carries its facts as annotations (``standing_annotations``): the same facts."""
    from crm.models import Lead
    from telephony.eligibility_facts import STANDING_VALUES, facts_for, standing_annotations, standing_facts

    leads = [
        LeadFactory(assigned_to=rep),
        LeadFactory(assigned_to=rep, do_not_call=True),
        LeadFactory(assigned_to=rep, phone_invalid=True),
        LeadFactory(assigned_to=rep, stage=LeadStage.DEAD, time_zone="Asia/Dubai"),
        LeadFactory(assigned_to=rep, phone="+14155550123"),
        LeadFactory(assigned_to=rep, phone="+911123456789"),
        LeadFactory(assigned_to=rep, phone="12345"),  # stored as typed: not a valid number
    ]
    dnc_add(number=leads[0].phone)
    ids = [lead.pk for lead in leads]
    rows = Lead.objects.filter(pk__in=ids).annotate(**standing_annotations()).values_list("pk", *STANDING_VALUES)
    carried = {row[0]: standing_facts(*row) for row in rows}
    assert carried == facts_for(ids, user=None, since=None)
    assert carried[leads[0].pk].do_not_call and not carried[leads[2].pk].e164 and not carried[leads[6].pk].e164


def test_with_no_moment_only_the_standing_rules_are_asked(rep):
    """A campaign launch settles the standing rules; a live call or the hours wait for the dial-time check."""
    busy = LeadFactory(assigned_to=rep)
    _ai_call(busy, CallStatus.RINGING, at=NOON)
    closed = LeadFactory(assigned_to=rep, stage=LeadStage.CONVERTED)
    night = NOON.replace(hour=23)
    answers = el.eligibility_many([busy.pk, closed.pk], provider="callkaro", purpose=el.CAMPAIGN, moment=False)
    assert (answers[busy.pk].allowed, answers[closed.pk].reason_code) == (True, "closed_stage")
    assert _ask(busy, at=night).reason_code == "in_flight"
