from django.urls import path

from . import views_campaigns as views
from . import views_campaigns_api as api

urlpatterns = [
    path("campaigns/", views.campaign_list, name="campaign_list"),
    path("campaigns/new/", views.campaign_new, name="campaign_new"),
    path("campaigns/preview/", views.campaign_preview, name="campaign_preview"),
    path("campaigns/<int:pk>/", views.campaign_detail, name="campaign_detail"),
    path("campaigns/<int:pk>/<str:action>/", views.campaign_action, name="campaign_action"),
    path("create-callkaro-campaign/", api.create_campaign, name="create_campaign"),
    path("schedule-campaign-call/", api.schedule_campaign_call, name="schedule_campaign_call"),
]
