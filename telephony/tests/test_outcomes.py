"""The outcome → lead mapping table: defaults, admin-edited rules, never backwards, history written."""

from __future__ import annotations

import pytest

from crm.models import LeadActivity, LeadStage
from telephony.models import CallOutcomeRule
from telephony.outcomes import DEFAULT_RULES, call_outcome_apply, outcome_rules, outcome_rules_seed
from telephony.tests.webhook_samples import make_af_log, make_ck_log

pytestmark = pytest.mark.django_db


def _apply(log, provider="callkaro"):
    log.refresh_from_db()
    return call_outcome_apply(call_log=log, provider=provider)


def test_completed_call_makes_the_lead_contacted_with_history(lead):
    log = make_ck_log(lead, status="completed", converted=False)
    assert _apply(log) == ["stage=contacted"]
    lead.refresh_from_db()
    assert lead.stage == LeadStage.CONTACTED
    activity = LeadActivity.objects.get(lead=lead)
    assert (activity.kind, activity.old_value, activity.new_value) == ("stage", "new", "contacted")
    assert (activity.actor_label, activity.call_ref) == ("Call Karo webhook", f"callkaro:{log.pk}")


def test_a_conversion_converts_and_post_call_interest_makes_the_lead_interested(lead, other_lead):
    log = make_ck_log(lead, status="completed", converted=True)
    assert _apply(log) == ["stage=converted"]
    log2 = make_ck_log(other_lead, status="completed", post_call_detail={"lead_status": {"value": "Interested"}})
    assert _apply(log2) == ["stage=interested"]


def test_do_not_call_request_sets_the_flag(lead):
    log = make_ck_log(lead, status="completed", post_call={"do_not_call": "yes"})
    assert "do_not_call=True" in _apply(log)
    lead.refresh_from_db()
    assert lead.do_not_call
    activity = LeadActivity.objects.get(lead=lead, kind="do_not_call")
    assert activity.call_ref == f"callkaro:{log.pk}" and "Rule:" in activity.message


def test_invalid_number_flags_the_phone_for_either_provider(lead, other_lead):
    assert _apply(make_ck_log(lead, status="failed", hangup_reason="INVALID_PHONE_NUMBER")) == ["phone_invalid=True"]
    af = make_af_log(other_lead, status="failed", hangup_cause="UNALLOCATED_NUMBER")
    assert _apply(af, "acefone") == ["phone_invalid=True"]
    other_lead.refresh_from_db()
    assert other_lead.phone_invalid
    assert LeadActivity.objects.get(lead=other_lead).actor_label == "Acefone webhook"


def test_repeated_no_answer_leaves_the_stage(lead):
    for _ in range(3):
        assert _apply(make_ck_log(lead, status="no_answer", hangup_reason="USER_UNAVAILABLE")) == []
    lead.refresh_from_db()
    assert lead.stage == LeadStage.NEW and not LeadActivity.objects.exists()


@pytest.mark.parametrize(
    "stage", [LeadStage.INTERESTED, LeadStage.SITE_VISIT, LeadStage.CONVERTED, LeadStage.NOT_INTERESTED, LeadStage.DEAD]
)
def test_never_moves_a_lead_backwards_or_out_of_a_closed_stage(lead, stage):
    lead.stage = stage
    lead.save()
    assert _apply(make_ck_log(lead, status="completed")) == []
    lead.refresh_from_db()
    assert lead.stage == stage


def test_converted_call_moves_a_contacted_lead_forward_and_twice_is_a_no_op(lead):
    lead.stage = LeadStage.CONTACTED
    lead.save()
    log = make_ck_log(lead, status="completed", converted=True)
    assert _apply(log) == ["stage=converted"]
    assert _apply(log) == []
    assert LeadActivity.objects.filter(lead=lead).count() == 1


def test_defaults_apply_while_the_table_is_empty_and_seed_writes_them():
    assert [r.name for r in outcome_rules()] == [r["name"] for r in DEFAULT_RULES]
    assert outcome_rules_seed() == len(DEFAULT_RULES)
    assert outcome_rules_seed() == 0
    assert CallOutcomeRule.objects.count() == len(DEFAULT_RULES)


def test_admin_edited_rules_win_over_the_defaults(lead):
    CallOutcomeRule.objects.create(name="Completed → follow-up", call_status="completed", set_stage="follow_up")
    CallOutcomeRule.objects.create(name="disabled", call_status="completed", set_stage="negotiation", is_active=False)
    assert _apply(make_ck_log(lead, status="completed", converted=True)) == ["stage=follow_up"]


def test_provider_specific_rule(lead):
    CallOutcomeRule.objects.create(
        name="Acefone only", provider="acefone", call_status="completed", set_stage="contacted"
    )
    assert _apply(make_ck_log(lead, status="completed")) == []
    assert _apply(make_af_log(lead, status="completed"), "acefone") == ["stage=contacted"]


def test_admin_changelist_loads_the_defaults(admin_client_member):
    response = admin_client_member.get("/admin/telephony/calloutcomerule/")
    assert response.status_code == 200
    assert CallOutcomeRule.objects.count() == len(DEFAULT_RULES)


def test_webhook_event_admin_is_read_only_with_an_unmatched_filter(admin_client_member):
    from telephony.models import ProviderWebhookEvent

    ProviderWebhookEvent.objects.create(provider="callkaro", is_authenticated=True, outcome="unmatched", body="{}")
    ProviderWebhookEvent.objects.create(provider="callkaro", is_authenticated=True, outcome="applied", body="{}")
    response = admin_client_member.get("/admin/telephony/providerwebhookevent/?attention=unmatched")
    assert response.status_code == 200
    assert response.context["cl"].result_count == 1
    assert admin_client_member.get("/admin/telephony/providerwebhookevent/add/").status_code == 403
