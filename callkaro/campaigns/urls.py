"""Campaign URLs (included by ``callkaro.urls``): the pages, and the two JSON endpoints the design fixes."""

from django.urls import path

from . import api, views

urlpatterns = [
    path("campaigns/", views.campaign_list, name="campaign_list"),
    path("campaigns/new/", views.campaign_new, name="campaign_new"),
    path("campaigns/paused/", views.campaigns_paused, name="campaigns_paused"),
    # Before the generic "<pk>/<action>/" pattern, which would take these words for actions.
    path("campaigns/<int:pk>/edit/", views.campaign_edit, name="campaign_edit"),
    path("campaigns/<int:pk>/preview/", views.campaign_preview, name="campaign_preview"),
    path("campaigns/<int:pk>/delete/", views.campaign_delete, name="campaign_delete"),
    path("campaigns/<int:pk>/", views.campaign_detail, name="campaign_detail"),
    path("campaigns/<int:pk>/<str:action>/", views.campaign_action, name="campaign_action"),
    path("create-callkaro-campaign/", api.create_campaign, name="create_campaign"),
    path("schedule-campaign-call/", api.schedule_campaign_call, name="schedule_campaign_call"),
]
