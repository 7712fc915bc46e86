"""Django admin for Call Karo. Secrets are never shown in clear: the encrypted columns are excluded
from every form and list, and the key appears only as its mask."""

from __future__ import annotations

from django.contrib import admin
from django.db import models
from django.urls import reverse
from django.utils.html import format_html

from .models import CallKaroAgent, CallKaroCallLog, CallKaroCampaign, CallKaroConfig

SECRET_FIELDS = ("api_key_encrypted", "webhook_secrets_encrypted")


@admin.register(CallKaroConfig)
class CallKaroConfigAdmin(admin.ModelAdmin):
    """Read-mostly: secrets are set on the settings page, which encrypts them."""

    list_display = ("__str__", "api_key_mask", "default_agent_id", "time_zone", "is_enabled", "updated_at")
    exclude = SECRET_FIELDS + ("api_key_last4",)
    readonly_fields = ("api_key_mask", "webhook_secrets_note", "updated_at", "updated_by")

    @admin.display(description="API key")
    def api_key_mask(self, obj: CallKaroConfig) -> str:
        return "••••" + obj.api_key_last4 if obj.api_key_encrypted else "—"

    @admin.display(description="Webhook secrets")
    def webhook_secrets_note(self, obj: CallKaroConfig) -> str:
        return format_html(
            'Set on the <a href="{}">settings page</a>.{}',
            reverse("callkaro:config"),
            " (saved)" if obj.webhook_secrets_encrypted else "",
        )

    def has_add_permission(self, request) -> bool:
        return not CallKaroConfig.objects.exists() and super().has_add_permission(request)


@admin.register(CallKaroAgent)
class CallKaroAgentAdmin(admin.ModelAdmin):
    list_display = ("name", "agent_id", "language", "is_active", "created_at")
    list_filter = ("is_active", "language")
    search_fields = ("name", "agent_id")
    filter_horizontal = ("team_members",)


@admin.register(CallKaroCampaign)
class CallKaroCampaignAdmin(admin.ModelAdmin):
    list_display = ("name", "status", "agent", "batch_id", "start_at", "total_leads", "created_by", "created_at")
    list_filter = ("status", "retry_owner")
    search_fields = ("name", "batch_id")
    raw_id_fields = ("agent", "created_by")
    list_select_related = ("agent", "created_by")


@admin.register(CallKaroCallLog)
class CallKaroCallLogAdmin(admin.ModelAdmin):
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}  # Django 6 default, no warning
    list_display = ("pk", "lead", "team_member", "agent", "status", "raw_status", "duration_seconds", "created_at")
    list_filter = ("status", "agent", "converted")
    search_fields = ("provider_call_id", "to_number", "lead__name")
    raw_id_fields = ("lead", "team_member", "agent", "campaign", "retry_of")
    list_select_related = ("lead", "team_member", "agent")
    date_hierarchy = "created_at"
    readonly_fields = ("created_at", "updated_at")
