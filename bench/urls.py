"""Benchmark-only URLs, included by ``crm.urls`` when ``settings.BENCH_ENDPOINTS`` is on."""

from django.urls import path

from . import views

app_name = "bench"

urlpatterns = [
    path("bare/", views.bare, name="bare"),
    path("minimal-update/", views.minimal_update, name="minimal_update"),
]
