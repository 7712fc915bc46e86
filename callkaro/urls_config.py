from django.urls import path

from . import views_config

urlpatterns = [
    path("callkaro-config/", views_config.config, name="config"),
    path("save-callkaro-config/", views_config.save_config, name="save_config"),
    path("callkaro-config/webhook-secret/", views_config.generate_webhook_secret, name="generate_webhook_secret"),
    path("callkaro-config/webhook-secret/retire/", views_config.retire_webhook_secrets, name="retire_webhook_secrets"),
    path("callkaro-config/test-connection/", views_config.test_connection, name="test_connection"),
    path("add-callkaro-agent/", views_config.add_agent, name="add_agent"),
    path("callkaro-agents/<int:pk>/edit/", views_config.edit_agent, name="edit_agent"),
    path("callkaro-agents/<int:pk>/active/", views_config.set_agent_active, name="set_agent_active"),
    path("callkaro-agents/<int:pk>/assign/", views_config.assign_agent, name="assign_agent"),
    path("callkaro-agents-api/", views_config.agents_api, name="agents_api"),
]
