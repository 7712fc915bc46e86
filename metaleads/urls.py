"""Meta lead-ads URLs: the webhook (public, signed), the admin page and the import page."""

from django.urls import path

from . import views, views_import
from .views_webhook import MetaLeadsWebhookView

app_name = "metaleads"

urlpatterns = [
    path("meta-leads-webhook/", MetaLeadsWebhookView.as_view(), name="webhook"),
    path("meta-leads-config/", views.config, name="config"),
    path("meta-leads-config/save/", views.save_config, name="save_config"),
    path("meta-leads-config/forms/add/", views.add_form, name="add_form"),
    path("meta-leads-config/forms/<int:pk>/rota/", views.set_rota, name="set_rota"),
    path("meta-leads-config/forms/<int:pk>/active/", views.set_form_active, name="set_form_active"),
    path("meta-leads-config/reps/<int:member_id>/away/", views.set_away, name="set_away"),
    path("meta-leads-config/sync/", views.sync_now, name="sync_now"),
    path("meta-leads-config/simulate/", views.simulate, name="simulate"),
    path("lead-import/", views_import.lead_import, name="lead_import"),
]
