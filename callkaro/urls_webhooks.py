from django.urls import path

from .views_webhooks import CallKaroWebhookView

urlpatterns: list = [path("callkaro-webhook/", CallKaroWebhookView.as_view(), name="webhook")]
