"""The manager's reports: the dashboard, its live fragment, the funnel and the CSV exports (``reporting:*``).
The path ``/callkaro-dashboard/`` is the product's public interface and stays as it was."""

from django.urls import path

from . import views, views_funnel

app_name = "reporting"

urlpatterns: list = [
    path("callkaro-dashboard/", views.dashboard_page, name="dashboard"),
    path("callkaro-dashboard/live/", views.dashboard_live, name="dashboard_live"),
    path("callkaro-dashboard/export.csv", views.dashboard_export, name="dashboard_export"),
    path("callkaro-dashboard/funnel/", views_funnel.funnel_page, name="dashboard_funnel"),
    path("callkaro-dashboard/funnel.csv", views_funnel.funnel_export, name="dashboard_funnel_export"),
    path("callkaro-dashboard/leaderboard.csv", views_funnel.leaderboard_export, name="dashboard_leaderboard_export"),
]
