"""The lead import page: upload a CSV or Excel file, map its columns, see bad rows by line.

The parsed table waits in the session between the two steps (at most ``MAX_ROWS`` rows).
"""

from __future__ import annotations

from django.contrib.auth.decorators import permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from .forms import IMPORT_FIELDS, ImportMappingForm, ImportUploadForm
from .importer import ImportFileError, Table, leads_import, table_read

SESSION_KEY = "metaleads_import_table"
TEMPLATE = "metaleads/import.html"


def _table_from_session(request: HttpRequest) -> Table | None:
    stored = request.session.get(SESSION_KEY)
    return Table(headers=stored["headers"], rows=stored["rows"]) if stored else None


@permission_required(["crm.add_lead", "crm.view_all_leads"], raise_exception=True)
@require_http_methods(["GET", "POST"])
def lead_import(request: HttpRequest) -> HttpResponse:
    if request.method == "GET" or "file" in request.FILES:
        return _upload(request)
    table = _table_from_session(request)
    if table is None:
        return render(request, TEMPLATE, {"upload_form": ImportUploadForm(), "error": "Upload the file again."})
    form = ImportMappingForm(request.POST, headers=table.headers)
    if not form.is_valid():
        return render(request, TEMPLATE, {"mapping_form": form, "table": table}, status=400)
    columns = {
        name: int(form.cleaned_data[f"col_{name}"]) if form.cleaned_data[f"col_{name}"] else None
        for name, _label, _required in IMPORT_FIELDS
    }
    report = leads_import(
        table=table, columns=columns, source=form.cleaned_data["source"], form=form.cleaned_data["form"]
    )
    request.session.pop(SESSION_KEY, None)
    return render(request, TEMPLATE, {"report": report, "upload_form": ImportUploadForm()})


def _upload(request: HttpRequest) -> HttpResponse:
    form = ImportUploadForm(request.POST or None, request.FILES or None)
    if request.method == "GET" or not form.is_valid():
        return render(request, TEMPLATE, {"upload_form": form}, status=200 if request.method == "GET" else 400)
    upload = form.cleaned_data["file"]
    try:
        table = table_read(name=upload.name, data=upload.read())
    except ImportFileError as exc:
        return render(request, TEMPLATE, {"upload_form": ImportUploadForm(), "error": str(exc)}, status=400)
    request.session[SESSION_KEY] = {"headers": table.headers, "rows": table.rows}
    mapping = ImportMappingForm(headers=table.headers)
    return render(request, TEMPLATE, {"mapping_form": mapping, "table": table, "preview": table.rows[:5]})
