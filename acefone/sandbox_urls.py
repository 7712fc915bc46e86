"""The Acefone sandbox, mounted at /sandbox/acefone/ when PROVIDER_SANDBOX is on."""

from django.urls import path

from . import sandbox

app_name = "acefone_sandbox"

urlpatterns = [
    path("v1/click_to_call", sandbox.click_to_call, name="click_to_call"),
    path("v1/call/records", sandbox.call_records, name="call_records"),
]
