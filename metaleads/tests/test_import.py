"""The import page: CSV or Excel, column mapping, bad rows by line, same duplicate and rota rules."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook

from crm.models import Lead, LeadActivity, Role
from crm.tests.factories import LeadFactory, make_member
from metaleads.importer import ImportFileError, table_read

pytestmark = pytest.mark.django_db
URL = "/lead-import/"
CSV = (
    "Full name,Mobile,E-mail,City,Budget\n"
    "Asha Rao,98123 45601,asha@example.com,Pune,1 crore\n"
    ",9812345602,,,\n"
    "Ravi Kumar,12345,,,\n"
    "Meena Iyer,+919812345604,,Chennai,\n"
    "Dup Person,9812345699,,,\n"
    "Bad Mail,9812345606,not-an-email,,\n"
)


def upload(client, content: bytes, name: str = "leads.csv"):
    return client.post(URL, {"file": SimpleUploadedFile(name, content)})


def confirm(client, **fields):
    data = {"source": "csv_import", "col_name": "0", "col_phone": "1", "col_email": "2", "col_city": "3", **fields}
    return client.post(URL, data)


def test_reps_cannot_import(rep_client):
    assert rep_client.get(URL).status_code == 403
    assert URL not in rep_client.get("/leads/").content.decode()


def test_managers_find_the_import_on_the_lead_list(manager_client):
    assert URL in manager_client.get("/leads/").content.decode()


def test_a_csv_is_mapped_imported_and_bad_rows_reported_by_line(manager_client, rep):
    existing = LeadFactory(phone="+919812345699", assigned_to=rep)
    other = make_member(Role.REP, name="Other rep")
    step = upload(manager_client, CSV.encode())
    assert step.status_code == 200
    page = step.content.decode()
    assert "Map the columns" in page and "Asha Rao" in page
    # The guesses pick the obvious columns.
    assert 'value="0" selected' in page
    resp = confirm(manager_client)
    body = resp.content.decode()
    assert "2 lead(s) created, 1 merged" in body
    assert "Line 3: name and phone are required" in body
    assert "Line 4: &#x27;12345&#x27; is not a valid phone number" in body
    assert "Line 7: &#x27;not-an-email&#x27; is not a valid email address" in body
    asha = Lead.objects.get(name="Asha Rao")
    assert str(asha.phone) == "+919812345601" and asha.city == "Pune" and asha.source == "csv_import"
    assert asha.form_answers["Budget"] == "1 crore"
    assignees = set(Lead.objects.filter(name__in=["Asha Rao", "Meena Iyer"]).values_list("assigned_to", flat=True))
    assert assignees == {rep.pk, other.pk}
    existing.refresh_from_db()
    assert existing.assigned_to == rep
    assert existing.activities.filter(kind=LeadActivity.Kind.FORM_AGAIN).exists()


def test_an_excel_file_is_read(manager_client):
    book = Workbook()
    sheet = book.active
    sheet.append(["Name", "Phone"])
    sheet.append(["Excel Person", 919812345611])
    buffer = io.BytesIO()
    book.save(buffer)
    assert upload(manager_client, buffer.getvalue(), "leads.xlsx").status_code == 200
    resp = manager_client.post(URL, {"source": "csv_import", "col_name": "0", "col_phone": "1"})
    assert "1 lead(s) created" in resp.content.decode()
    assert str(Lead.objects.get(name="Excel Person").phone) == "+919812345611"


def test_an_unreadable_file_is_refused_with_a_message(manager_client):
    resp = upload(manager_client, b"\x00\x01not excel", "leads.xlsx")
    assert resp.status_code == 400 and "not an Excel" in resp.content.decode()


def test_an_empty_file_is_refused():
    with pytest.raises(ImportFileError):
        table_read(name="x.csv", data=b"")


def test_the_mapping_step_needs_name_and_phone_columns(manager_client):
    upload(manager_client, CSV.encode())
    assert manager_client.post(URL, {"source": "csv_import", "col_name": "0"}).status_code == 400


def test_semicolon_csv_is_sniffed():
    table = table_read(name="x.csv", data=b"name;phone\nA;9812345601\n")
    assert table.headers == ["name", "phone"] and table.rows == [["A", "9812345601"]]
