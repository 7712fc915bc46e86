"""Opt-outs that stick and do not misfire: phrase rules (English, Hindi), proposals, review, clearing."""

from __future__ import annotations

import pytest

from crm.dnc import dnc_add, is_do_not_call
from crm.models import DoNotCallEntry, LeadActivity, OptOutProposal
from crm.opt_out import OptOutRefused, do_not_call_clear, on_call_final, opt_out_proposals_decide
from crm.opt_out_phrases import opt_out_phrase
from telephony.tests.webhook_samples import make_ck_log

PROPOSE = [
    "please don't call me again",
    "Please stop calling me.",
    "Do not call this number ever again",
    "Remove my number from your list",
    "I don't want any more calls",
    "Customer: don't call me, I'm not interested",
    "mujhe dobara call mat karna",
    "kabhi phone mat karna",
    "call karna band karo",
    "mera number hata do",
    "मुझे दोबारा कॉल मत करना",
    "कृपया फोन मत कीजिए",
    "मेरा नंबर हटा दो",
    "कॉल करना बंद करो",
]
DO_NOT_PROPOSE = [
    "Don't call in the morning",
    "DND hours after 9 pm",
    "Please don't call me before 10 am",
    "Don't call me during office hours",
    "I never said don't call me",
    "You can call me tomorrow",
    "Please call me back after 6 pm",
    "agent: I will not call you again\nuser: okay thanks",
    "abhi call mat karo, main busy hoon",
    "subah call mat karna",
    "maine nahi kaha call mat karo",
    "Sunday ko call mat karna",
    "कल फोन करना",
    "अभी फोन मत करो",
    "रात को कॉल मत करना",
    "शाम 6 बजे के बाद कॉल करना",
    "मैंने नहीं कहा कि कॉल मत करो",
]


@pytest.mark.parametrize("text", PROPOSE)
def test_a_clear_request_is_proposed(text):
    assert opt_out_phrase(text)


@pytest.mark.parametrize("text", DO_NOT_PROPOSE)
def test_time_limits_negations_and_the_agents_words_are_not(text):
    assert opt_out_phrase(text) == ""


@pytest.mark.django_db
def test_a_transcript_only_proposes_and_a_manager_confirms(lead, manager):
    log = make_ck_log(lead, status="completed", transcript="agent: Hello\nuser: please don't call me again")
    on_call_final(log, "callkaro")
    on_call_final(log, "callkaro")  # a repeated event: one proposal
    proposal = OptOutProposal.objects.get()
    assert (proposal.phrase, proposal.call_ref) == ("please don't call me again", f"callkaro:{log.pk}")
    lead.refresh_from_db()
    assert not lead.do_not_call and not is_do_not_call(lead.phone)  # nothing listed yet
    assert opt_out_proposals_decide(lead=lead, confirm=True, actor=manager) == 1
    lead.refresh_from_db()
    assert lead.do_not_call and DoNotCallEntry.objects.get(phone=str(lead.phone)).source == "confirmed"
    assert OptOutProposal.objects.get().status == OptOutProposal.Status.CONFIRMED


@pytest.mark.django_db
def test_a_dismissed_proposal_lists_nothing_and_a_rep_may_not_review(lead, manager, rep):
    on_call_final(make_ck_log(lead, status="completed", transcript="stop calling me"), "callkaro")
    with pytest.raises(OptOutRefused):
        opt_out_proposals_decide(lead=lead, confirm=True, actor=rep)
    opt_out_proposals_decide(lead=lead, confirm=False, actor=manager)
    assert OptOutProposal.objects.get().status == OptOutProposal.Status.DISMISSED
    assert not is_do_not_call(lead.phone)


@pytest.mark.django_db
def test_the_dashboard_lists_proposals_for_managers_with_confirm_and_dismiss(lead, manager_client, rep_client):
    on_call_final(make_ck_log(lead, status="completed", transcript="mujhe dobara call mat karna"), "callkaro")
    assert "/opt-outs/review/" in manager_client.get("/callkaro-dashboard/").content.decode()
    html = manager_client.get("/opt-outs/review/").content.decode()
    assert "mujhe dobara call mat karna" in html and 'data-action="confirm-opt-out"' in html
    assert rep_client.get("/opt-outs/review/").status_code == 403
    resp = manager_client.post(
        f"/leads/{lead.pk}/opt-out-review/", {"decision": "confirm"}, headers={"HX-Request": "true"}
    )
    assert "added to the do-not-call list" in resp.content.decode()
    assert is_do_not_call(lead.phone)


@pytest.mark.django_db
def test_a_rep_cannot_clear_the_flag_from_the_lead_form(rep_client, lead):
    lead.do_not_call = True
    lead.save()
    dnc_add(number=lead.phone)
    form = {"name": lead.name, "phone": str(lead.phone), "source": lead.source, "stage": lead.stage}
    rep_client.post(f"/leads/{lead.pk}/edit/", form)  # do_not_call left unticked
    lead.refresh_from_db()
    assert lead.do_not_call and is_do_not_call(lead.phone)
    assert rep_client.post(f"/leads/{lead.pk}/do-not-call/clear/", {"reason": "asked"}).status_code == 403
    lead.refresh_from_db()
    assert lead.do_not_call


@pytest.mark.django_db
def test_a_manager_clears_it_with_a_reason_recorded_in_the_activity(manager_client, manager, lead):
    lead.do_not_call = True
    lead.save()
    dnc_add(number=lead.phone)
    page = manager_client.get(f"/leads/{lead.pk}/").content.decode()
    assert 'data-action="clear-do-not-call"' in page
    manager_client.post(f"/leads/{lead.pk}/do-not-call/clear/", {"reason": ""})
    lead.refresh_from_db()
    assert lead.do_not_call  # no reason, no change
    manager_client.post(f"/leads/{lead.pk}/do-not-call/clear/", {"reason": "Asked to be called about the offer"})
    lead.refresh_from_db()
    assert not lead.do_not_call and not is_do_not_call(lead.phone)
    activity = LeadActivity.objects.filter(lead=lead, kind="do_not_call").latest("id")
    assert activity.actor == manager and "Asked to be called about the offer" in activity.message


@pytest.mark.django_db
def test_the_service_refuses_a_rep(lead, rep):
    lead.do_not_call = True
    lead.save()
    with pytest.raises(OptOutRefused):
        do_not_call_clear(lead=lead, reason="because", actor=rep)
