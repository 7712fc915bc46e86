import pytest
from django.urls import reverse

from crm.models import Lead, LeadActivity, LeadStage
from crm.tests.factories import LeadFactory

pytestmark = pytest.mark.django_db


def test_rep_sees_only_own_leads(rep_client, lead, other_lead):
    body = rep_client.get(reverse("crm:lead_list")).content.decode()
    assert lead.name in body
    assert other_lead.name not in body


def test_manager_sees_every_lead(manager_client, lead, other_lead):
    body = manager_client.get(reverse("crm:lead_list")).content.decode()
    assert lead.name in body and other_lead.name in body


@pytest.mark.parametrize("name", ["crm:lead_detail", "crm:lead_edit"])
def test_rep_cannot_open_another_reps_lead(rep_client, other_lead, name):
    assert rep_client.get(reverse(name, args=[other_lead.pk])).status_code == 404


def test_rep_cannot_add_note_to_another_reps_lead(rep_client, other_lead):
    resp = rep_client.post(reverse("crm:lead_note_add", args=[other_lead.pk]), {"body": "hi"})
    assert resp.status_code == 404
    assert not other_lead.notes.exists()


def test_search_by_name_and_phone_digits(rep_client, rep):
    LeadFactory(assigned_to=rep, name="Priya Sharma", phone="+919812345678")
    LeadFactory(assigned_to=rep, name="Rahul Verma", phone="+919900011122")
    by_name = rep_client.get(reverse("crm:lead_list"), {"q": "priya"}).content.decode()
    assert "Priya Sharma" in by_name and "Rahul Verma" not in by_name
    by_phone = rep_client.get(reverse("crm:lead_list"), {"q": "98123 45678"}).content.decode()
    assert "Priya Sharma" in by_phone and "Rahul Verma" not in by_phone


def test_filter_by_stage(rep_client, rep):
    LeadFactory(assigned_to=rep, name="New One", stage=LeadStage.NEW)
    LeadFactory(assigned_to=rep, name="Hot One", stage=LeadStage.INTERESTED)
    body = rep_client.get(reverse("crm:lead_list"), {"stage": "interested"}).content.decode()
    assert "Hot One" in body and "New One" not in body


def test_lead_list_query_count_is_bounded(manager_client, rep, rep2, django_assert_max_num_queries):
    LeadFactory.create_batch(250, assigned_to=rep)
    LeadFactory.create_batch(250, assigned_to=rep2)
    with django_assert_max_num_queries(8):
        resp = manager_client.get(reverse("crm:lead_list"), {"page": 3})
    assert resp.status_code == 200
    assert "Page 3 of 20" in resp.content.decode()


def test_htmx_request_gets_only_the_table(rep_client, lead):
    resp = rep_client.get(reverse("crm:lead_list"), HTTP_HX_REQUEST="true")
    body = resp.content.decode()
    assert lead.name in body and "<html" not in body


@pytest.mark.parametrize(
    ("typed", "stored"),
    [("98123 45678", "+919812345678"), ("+91-98123-45678", "+919812345678"), ("+44 20 7946 0958", "+442079460958")],
)
def test_create_lead_normalises_phone_to_e164(rep_client, rep, typed, stored):
    resp = rep_client.post(
        reverse("crm:lead_create"), {"name": "Asha", "phone": typed, "source": "manual", "stage": "new"}
    )
    assert resp.status_code == 302, resp.content.decode()
    lead = Lead.objects.get(name="Asha")
    assert lead.phone.as_e164 == stored
    assert lead.assigned_to == rep  # a rep's new lead is theirs
    assert lead.activities.filter(kind=LeadActivity.Kind.CREATED).exists()


@pytest.mark.parametrize("typed", ["12345", "not a phone", "+91 12", ""])
def test_create_lead_rejects_bad_phone_with_message(rep_client, typed):
    resp = rep_client.post(
        reverse("crm:lead_create"), {"name": "Bad", "phone": typed, "source": "manual", "stage": "new"}
    )
    assert resp.status_code == 200
    body = resp.content.decode()
    assert "field-error" in body
    assert not Lead.objects.filter(name="Bad").exists()


def test_edit_records_stage_change_in_activity(rep_client, rep, lead):
    data = {"name": lead.name, "phone": str(lead.phone), "source": lead.source, "stage": "interested"}
    resp = rep_client.post(reverse("crm:lead_edit", args=[lead.pk]), data)
    assert resp.status_code == 302
    lead.refresh_from_db()
    assert lead.stage == "interested"
    activity = lead.activities.get(kind=LeadActivity.Kind.STAGE)
    assert (activity.old_value, activity.new_value, activity.actor) == ("new", "interested", rep)


def test_rep_cannot_reassign_lead_to_someone_else(rep_client, rep, rep2, lead):
    data = {"name": lead.name, "phone": str(lead.phone), "source": lead.source, "stage": "new", "assigned_to": rep2.pk}
    rep_client.post(reverse("crm:lead_edit", args=[lead.pk]), data)
    lead.refresh_from_db()
    assert lead.assigned_to == rep


def test_meta_lead_id_is_unique_when_present(rep):
    from django.db import IntegrityError, transaction

    LeadFactory(meta_lead_id="")
    LeadFactory(meta_lead_id="")  # blanks do not clash
    LeadFactory(meta_lead_id="m-1")
    with pytest.raises(IntegrityError), transaction.atomic():
        LeadFactory(meta_lead_id="m-1")


def test_add_note(rep_client, lead):
    resp = rep_client.post(reverse("crm:lead_note_add", args=[lead.pk]), {"body": "Call back Tuesday"})
    assert resp.status_code == 302
    assert lead.notes.get().body == "Call back Tuesday"
    assert "Call back Tuesday" in rep_client.get(reverse("crm:lead_detail", args=[lead.pk])).content.decode()
