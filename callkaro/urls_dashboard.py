"""Dashboard URLs (namespace ``callkaro``): the page, its live fragment and the CSV export."""

from django.urls import path

from . import views_dashboard

urlpatterns: list = [
    path("callkaro-dashboard/", views_dashboard.dashboard_page, name="dashboard"),
    path("callkaro-dashboard/live/", views_dashboard.dashboard_live, name="dashboard_live"),
    path("callkaro-dashboard/export.csv", views_dashboard.dashboard_export, name="dashboard_export"),
]
