"""The admin page, the lead page's Meta facts and the call panel's polling list."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client

from callkaro.models import CallKaroCallLog
from crm.tests.factories import LeadFactory
from metaleads.config import get_effective_config
from metaleads.models import MetaForm, MetaFormAssignee, MetaLeadsConfig

pytestmark = pytest.mark.django_db
PAGE = "/meta-leads-config/"


def save(client: Client, **overrides):
    data = {
        "graph_base_url": "https://graph.facebook.com/v25.0",
        "backfill_interval": "600",
        "speed_to_lead_agent_id": "ag-1",
        "metadata_answer_keys": "budget, city, budget",
        **overrides,
    }
    return client.post(f"{PAGE}save/", data)


def test_only_admins_open_the_page(rep_client, manager_client, admin_client_member):
    assert rep_client.get(PAGE).status_code == 403
    assert manager_client.get(PAGE).status_code == 403
    assert admin_client_member.get(PAGE).status_code == 200
    assert Client().get(PAGE).status_code == 302


def test_secrets_are_saved_encrypted_and_shown_masked(admin_client_member):
    resp = save(admin_client_member, page_access_token="EAAB-very-secret-token-9f3a", app_secret="new-app-secret-77")
    assert resp.status_code == 302
    row = MetaLeadsConfig.objects.get()
    assert "EAAB" not in row.page_access_token_encrypted and row.page_access_token_last4 == "9f3a"
    config = get_effective_config()
    assert config.page_access_token == "EAAB-very-secret-token-9f3a" and config.app_secret == "new-app-secret-77"
    assert (config.backfill_interval, config.speed_to_lead_agent_id) == (600, "ag-1")
    assert config.metadata_answer_keys == ["budget", "city"]
    page = admin_client_member.get(PAGE).content.decode()
    assert "••••9f3a" in page and "EAAB-very-secret-token" not in page and "new-app-secret-77" not in page


def test_a_blank_secret_keeps_the_saved_one_and_clear_falls_back_to_the_environment(admin_client_member):
    save(admin_client_member, verify_token="saved-verify-1")
    save(admin_client_member)
    assert get_effective_config().verify_token == "saved-verify-1"
    save(admin_client_member, clear_verify_token="on")
    assert get_effective_config().verify_token == "meta-verify-token-0001"


def test_invalid_values_are_refused(admin_client_member):
    assert save(admin_client_member, backfill_interval="5").status_code == 400
    assert save(admin_client_member, speed_to_lead_agent_id="bad id!").status_code == 400


def test_forms_rotas_and_away_are_edited_on_the_page(admin_client_member, rep, rep2):
    admin_client_member.post(f"{PAGE}forms/add/", {"form_id": "777", "name": "Villa form"})
    form = MetaForm.objects.get(form_id="777")
    resp = admin_client_member.post(f"{PAGE}forms/{form.pk}/rota/", {f"weight_{rep.pk}": "3", f"weight_{rep2.pk}": "0"})
    assert resp.status_code == 302
    assert list(MetaFormAssignee.objects.values_list("team_member", "weight")) == [(rep.pk, 3)]
    admin_client_member.post(f"{PAGE}reps/{rep2.pk}/away/", {"is_away": "1"})
    rep2.refresh_from_db()
    assert rep2.is_away
    page = admin_client_member.get(PAGE).content.decode()
    assert "Villa form" in page and "away" in page
    admin_client_member.post(f"{PAGE}forms/{form.pk}/active/", {"is_active": "0"})
    form.refresh_from_db()
    assert not form.is_active


def test_the_simulate_button_exists_only_with_the_sandbox(admin_client_member, settings):
    settings.PROVIDER_SANDBOX = False
    assert "Send simulated leads" not in admin_client_member.get(PAGE).content.decode()
    assert admin_client_member.post(f"{PAGE}simulate/", {"count": "2"}).status_code == 404


def test_the_nav_links_the_page_for_admins_only(admin_client_member, rep_client):
    assert PAGE in admin_client_member.get("/leads/").content.decode()
    assert PAGE not in rep_client.get("/leads/").content.decode()


def test_the_lead_page_shows_answers_submission_and_age_at_first_call(rep_client, rep):
    lead = LeadFactory(
        assigned_to=rep, meta_lead_id="L1", form_answers={"budget": "1 crore"}, meta_form_name="2BHK enquiry"
    )
    page = rep_client.get(f"/leads/{lead.pk}/").content.decode()
    assert "budget" in page and "1 crore" in page and "not called yet" in page
    log = CallKaroCallLog.objects.create(lead=lead, to_number="+919800000001", status="initiated")
    CallKaroCallLog.objects.filter(pk=log.pk).update(created_at=lead.created_at + timedelta(seconds=42))
    page = rep_client.get(f"/leads/{lead.pk}/").content.decode()
    assert '<dd id="first-call-age">42 s</dd>' in page


def test_age_at_first_call_counts_from_the_meta_submission_and_ignores_undialled_calls(rep):
    from crm.selectors import lead_first_call_age
    from telephony.selectors import call_history_for_lead

    lead = LeadFactory(assigned_to=rep)
    lead.meta_created_at = lead.created_at - timedelta(minutes=3)
    lead.save()
    CallKaroCallLog.objects.create(lead=lead, to_number="+919800000001", status="cancelled")
    assert lead_first_call_age(lead, call_history_for_lead(lead)) == ""
    log = CallKaroCallLog.objects.create(lead=lead, to_number="+919800000001", status="completed")
    CallKaroCallLog.objects.filter(pk=log.pk).update(created_at=lead.created_at + timedelta(seconds=5))
    assert lead_first_call_age(lead, call_history_for_lead(lead)) == "3 min 5 s"


def test_the_call_panel_list_polls_itself_and_returns_new_leads(rep_client, rep):
    page = rep_client.get("/call-panel/").content.decode()
    assert 'hx-trigger="every 10s"' in page and 'hx-target="#panel-leads"' in page
    LeadFactory(assigned_to=rep, name="Fresh Meta lead")
    fragment = rep_client.get("/call-panel/", headers={"HX-Request": "true", "HX-Target": "panel-leads"})
    body = fragment.content.decode()
    assert "Fresh Meta lead" in body and "<h1>" not in body
