"""Dashboard URLs: the page, its live fragment and the CSV export.

Included by ``callkaro/urls.py`` so that the names stay ``callkaro:dashboard`` and friends (the URL
names are public: links, tests and the navigation use them); the views are this app's."""

from django.urls import path

from . import views, views_funnel

urlpatterns: list = [
    path("callkaro-dashboard/", views.dashboard_page, name="dashboard"),
    path("callkaro-dashboard/live/", views.dashboard_live, name="dashboard_live"),
    path("callkaro-dashboard/export.csv", views.dashboard_export, name="dashboard_export"),
    path("callkaro-dashboard/funnel/", views_funnel.funnel_page, name="dashboard_funnel"),
    path("callkaro-dashboard/funnel.csv", views_funnel.funnel_export, name="dashboard_funnel_export"),
    path("callkaro-dashboard/leaderboard.csv", views_funnel.leaderboard_export, name="dashboard_leaderboard_export"),
]
