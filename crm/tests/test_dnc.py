"""The shared do-not-call list: normalisation, the pre-dial check, and the admin page."""

from __future__ import annotations

import pytest
import responses

from crm.dnc import dnc_add, dnc_remove, do_not_call_check, is_do_not_call, normalise_number
from crm.models import DoNotCallEntry
from crm.tests.factories import LeadFactory

pytestmark = pytest.mark.django_db


def test_numbers_are_stored_in_e164_whatever_the_input_form():
    entry = dnc_add(number="098765 43210", reason="asked on the phone")
    assert entry.phone == "+919876543210"
    assert is_do_not_call("+91 98765 43210")
    assert is_do_not_call("9876543210")
    assert not is_do_not_call("+919876543211")


def test_adding_twice_keeps_one_entry_and_the_first_reason():
    dnc_add(number="+919876543210", reason="first")
    again = dnc_add(number="9876543210", reason="second", source=DoNotCallEntry.Source.CALL_OPT_OUT)
    assert DoNotCallEntry.objects.count() == 1
    assert again.reason == "first"


def test_an_invalid_number_is_refused():
    with pytest.raises(ValueError):
        dnc_add(number="12")
    assert normalise_number("not a number") == ""


def test_remove():
    dnc_add(number="+919876543210")
    assert dnc_remove(number="9876543210")
    assert not is_do_not_call("+919876543210")


def test_pre_dial_check_reports_listed_numbers_and_flagged_leads(rep):
    lead = LeadFactory(assigned_to=rep, phone="+919876543210")

    class Log:
        to_number = "+919876543210"

    log = Log()
    log.lead = lead
    assert do_not_call_check(log) is None
    dnc_add(number=lead.phone)
    assert do_not_call_check(log) == "Number is on the do-not-call list"
    lead.do_not_call = True
    assert do_not_call_check(log) == "Lead is marked do-not-call"


def test_the_check_is_registered_for_every_provider():
    from telephony import dial_checks
    from telephony.eligibility import dial_check

    # The shared eligibility rule (which reads the list) runs before every dial, whatever the provider.
    assert dial_check in dial_checks.registered()


@responses.activate
def test_a_queued_acefone_call_to_a_listed_number_is_skipped_not_dialled(settings, rep):
    """Shared by both providers: the human click-to-call path is checked too."""
    from acefone.models import AcefoneCallLog
    from telephony.services import call_dispatch

    lead = LeadFactory(assigned_to=rep, phone="+919876543210")
    log = AcefoneCallLog.objects.create(lead=lead, team_member=rep, to_number="+919876543210", status="queued")
    dnc_add(number="+919876543210", reason="opted out")
    assert call_dispatch(provider="acefone", call_log_id=log.pk) == "cancelled"
    log.refresh_from_db()
    assert log.skip_reason.endswith("is on the do-not-call list.")
    assert len(responses.calls) == 0


def test_admins_edit_the_list_in_the_admin(admin_client_member, rep_client):
    url = "/admin/crm/donotcallentry/add/"
    response = admin_client_member.post(url, {"phone": "098765 43210", "reason": "complaint", "source": "manual"})
    assert response.status_code == 302
    assert DoNotCallEntry.objects.get().phone == "+919876543210"
    assert admin_client_member.get("/admin/crm/donotcallentry/").status_code == 200
    assert rep_client.get("/admin/crm/donotcallentry/").status_code == 302  # not staff: sent to log in
