"""The Call Karo sandbox, mounted at /sandbox/callkaro/ when PROVIDER_SANDBOX is on."""

from django.urls import path

from . import sandbox

app_name = "callkaro_sandbox"

urlpatterns = [
    path("call/outbound", sandbox.outbound, name="outbound"),
    path("call/campaign", sandbox.campaign_v1, name="campaign_v1"),
    path("v2/call/campaign", sandbox.campaign_v2, name="campaign_v2"),
    path("call/delete-schedule-call", sandbox.delete_schedule_call, name="delete_schedule_call"),
]
