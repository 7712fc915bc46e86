from django.urls import path

from . import views_calls

urlpatterns = [
    path("initiate-callkaro-call/", views_calls.initiate_call, name="initiate_call"),
    path("callkaro-call-options/", views_calls.call_options, name="call_options"),
]
