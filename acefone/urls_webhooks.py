from django.urls import path

from .views_webhooks import AcefoneWebhookView

urlpatterns: list = [path("acefone-webhook/", AcefoneWebhookView.as_view(), name="webhook")]
