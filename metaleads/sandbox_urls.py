"""The Graph API sandbox, mounted at /sandbox/meta/ when PROVIDER_SANDBOX is on."""

from django.urls import path

from . import sandbox

app_name = "metaleads_sandbox"

urlpatterns = [
    path("<str:form_id>/leads", sandbox.form_leads, name="form_leads"),
    path("<str:object_id>", sandbox.graph_object, name="object"),
]
