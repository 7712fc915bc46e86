"""The dial-time facts, loaded with the dialled row, decide exactly as the bulk facts do.

``dial_facts.eligibility_needs`` turns the eligibility facts into annotations on the one read a dial
makes; each case below is answered both ways (the row loaded by ``dial_row``, and a plain row, which
gathers the facts with ``call_eligibility``) and must give the same reason.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine

from acefone.models import AcefoneCallLog
from callkaro.models import CallKaroCallLog
from crm.dnc import dnc_add
from crm.models import LeadStage
from crm.tests.factories import LeadFactory
from telephony import dial_facts
from telephony.dial_checks import dial_row
from telephony.eligibility import dial_check
from telephony.models import CallingPolicy
from telephony.status import CallStatus

pytestmark = pytest.mark.django_db
IST = ZoneInfo("Asia/Kolkata")
NOON = dt.datetime(2026, 12, 1, 12, 0, tzinfo=IST)
HOUR = dt.timedelta(hours=1)


def _other(model, lead, status, **fields):
    extra = {"agent_number": "+919811111111"} if model is AcefoneCallLog else {}
    row = model.objects.create(lead=lead, to_number=str(lead.phone), status=status, **extra)
    if fields:
        model.objects.filter(pk=row.pk).update(**fields)


# (name, lead fields, the lead's other call (model, status, fields) or None, policy, expected words or "")
CASES = [
    ("callable", {}, None, {}, ""),
    ("flagged do-not-call", {"do_not_call": True}, None, {}, "do-not-call"),
    ("on the do-not-call list", {"dnc": True}, None, {}, "do-not-call"),
    ("no valid number", {"phone_invalid": True}, None, {}, "no valid phone"),
    ("closed stage", {"stage": LeadStage.DEAD}, None, {}, ""),  # a rep's scheduled call: by hand
    ("abroad", {"phone": "+14155550123"}, None, {}, "outside the countries"),
    ("another call queued", {}, (CallKaroCallLog, CallStatus.QUEUED, {}), {}, "already has a call queued"),
    ("a human call ringing", {}, (AcefoneCallLog, CallStatus.RINGING, {}), {}, "already has a call queued"),
    (
        "handed over for later",
        {},
        (CallKaroCallLog, CallStatus.INITIATED, {"scheduled_at": NOON + HOUR}),
        {},
        "scheduled or pending",
    ),
    (
        "handed over, now due",
        {},
        (CallKaroCallLog, CallStatus.INITIATED, {"scheduled_at": NOON - HOUR}),
        {},
        "already has a call queued",
    ),
    ("another scheduled", {}, (CallKaroCallLog, CallStatus.SCHEDULED, {}), {}, "scheduled or pending"),
    (
        "AI call an hour ago",
        {},
        (CallKaroCallLog, CallStatus.COMPLETED, {"initiated_at": NOON - HOUR}),
        {},
        "less than 24 h ago",
    ),
    (
        "AI call an hour ago, gap 1 h",
        {},
        (CallKaroCallLog, CallStatus.COMPLETED, {"initiated_at": NOON - 2 * HOUR}),
        {"min_gap_hours": 1},
        "",
    ),
    ("policy hours closed", {}, None, {"calling_hours": "09:00-11:00"}, "Outside calling hours"),
    ("a final human call", {}, (AcefoneCallLog, CallStatus.COMPLETED, {"initiated_at": NOON - HOUR}), {}, ""),
]


@pytest.mark.parametrize(("name", "lead_fields", "other", "policy", "words"), CASES, ids=[c[0] for c in CASES])
def test_dial_facts_decide_as_the_bulk_facts(name, lead_fields, other, policy, words, rep, settings):
    settings.CALL_MIN_GAP_HOURS = 24
    dnc = lead_fields.pop("dnc", False)
    lead = LeadFactory(assigned_to=rep, **lead_fields)
    if dnc:
        dnc_add(number=lead.phone)
    if policy:
        CallingPolicy.objects.create(**policy)
    if other:
        _other(other[0], lead, other[1], **other[2])
    # A rep's scheduled call, now due: a pending call of the lead's refuses it (a click would supersede).
    log = CallKaroCallLog.objects.create(
        lead=lead, to_number=str(lead.phone), status=CallStatus.DISPATCHING, scheduled_at=NOON - HOUR
    )
    with time_machine.travel(NOON, tick=False):
        loaded = dial_row(CallKaroCallLog, log.pk, related=("lead__assigned_to", "agent", "campaign"))
        assert hasattr(loaded, dial_facts.MARK)
        fast = dial_check(loaded)
        gathered = dial_check(CallKaroCallLog.objects.get(pk=log.pk))
    assert fast == gathered
    if words:
        assert words in fast
    else:
        assert fast is None
