from django.urls import path

from . import views

urlpatterns = [
    path("initiate-acefone-call/", views.initiate_call, name="initiate_call"),
    path("acefone-call-options/", views.call_options, name="call_options"),
]
