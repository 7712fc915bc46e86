"""Benchmark-only URLs: in ``bench.root_urls``, or in ``crm.urls`` with BENCH_ENDPOINTS and DEBUG on."""

from django.urls import path

from . import views

app_name = "bench"

urlpatterns = [
    path("bare/", views.bare, name="bare"),
    path("minimal-update/", views.minimal_update, name="minimal_update"),
    path("minimal-store-apply/", views.minimal_store_apply, name="minimal_store_apply"),
]
