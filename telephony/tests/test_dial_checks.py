"""The pre-dial check register (``telephony.dial_checks``): apps add checks in ``ready()``, dispatch runs them."""

from __future__ import annotations

import pytest
import responses

from callkaro.campaigns.hooks import campaign_lead_eligible
from telephony import dial_checks
from telephony.eligibility import dial_check
from telephony.services import call_dispatch, call_place
from telephony.status import CallStatus

CK = "https://ck.test"


@pytest.fixture(autouse=True)
def _callkaro(settings):
    settings.CALLKARO_BASE_URL = CK
    settings.CALLKARO_API_KEY = "key"
    settings.CALLKARO_DEFAULT_AGENT_ID = "agent-1"


def test_each_owner_registered_its_check_at_start_up():
    registered = dial_checks.registered()
    assert {dial_check, campaign_lead_eligible} <= set(registered)
    assert registered.index(dial_check) < registered.index(campaign_lead_eligible)
    assert len(registered) == len(set(registered))  # ready() may run twice; a check is kept once


def test_register_is_idempotent_and_works_as_a_decorator():
    def check(call_log):
        return None

    try:
        assert dial_checks.register(check) is check
        dial_checks.register(check)
        assert dial_checks.registered().count(check) == 1
    finally:
        dial_checks.unregister(check)
    assert check not in dial_checks.registered()


@pytest.mark.django_db
@responses.activate
def test_a_registered_check_cancels_the_dial_with_its_reason(lead, rep, django_capture_on_commit_callbacks):
    def office_closed(call_log):
        return "The office is closed"

    with django_capture_on_commit_callbacks():
        log = call_place(provider="callkaro", lead=lead, team_member=rep, dispatch="async").call_log
    dial_checks.register(office_closed)
    try:
        assert call_dispatch(provider="callkaro", call_log_id=log.pk) == CallStatus.CANCELLED
    finally:
        dial_checks.unregister(office_closed)
    log.refresh_from_db()
    assert log.skip_reason == "The office is closed"
    assert not responses.calls
