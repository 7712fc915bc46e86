"""Admin for the webhook inbox, the outcome rules and the sandbox's request log."""

from django.contrib import admin

from .models import CallOutcomeRule, CallWrapUp, Disposition, ProviderWebhookEvent, SandboxRequest


@admin.register(SandboxRequest)
class SandboxRequestAdmin(admin.ModelAdmin):
    """What the provider sandboxes received (secrets masked), for checking a flow by eye."""

    list_display = ("created_at", "provider", "method", "path", "response_status")
    list_filter = ("provider", "method", "response_status")
    search_fields = ("path",)
    readonly_fields = ("provider", "method", "path", "headers", "body", "response_status", "created_at")


class WebhookNeedsAttentionFilter(admin.SimpleListFilter):
    title = "needs attention"
    parameter_name = "attention"

    def lookups(self, request, model_admin):
        return [
            ("pending", "Pending (not applied yet)"),
            ("unmatched", "Unmatched"),
            ("failed", "Failed"),
            ("rejected", "Rejected (auth)"),
        ]

    def queryset(self, request, queryset):
        return queryset.filter(outcome=self.value()) if self.value() else queryset


@admin.register(ProviderWebhookEvent)
class ProviderWebhookEventAdmin(admin.ModelAdmin):
    """Read-only: the raw events as received (secrets were masked before storing)."""

    list_display = (
        "id",
        "provider",
        "outcome",
        "received_at",
        "call_log_id",
        "provider_call_id",
        "is_authenticated",
        "attempts",
    )
    list_filter = (WebhookNeedsAttentionFilter, "outcome", "provider", "is_authenticated")
    search_fields = ("provider_call_id", "dedup_key", "=call_log_id")
    date_hierarchy = "received_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(CallOutcomeRule)
class CallOutcomeRuleAdmin(admin.ModelAdmin):
    """The one table from call outcome to lead change. Loaded with the defaults when first opened empty."""

    list_display = (
        "name",
        "is_active",
        "provider",
        "call_status",
        "hangup_reason",
        "converted",
        "post_call_key",
        "post_call_values",
        "disposition",
        "set_stage",
        "set_flag",
        "follow_up",
        "schedule_ai_call",
        "order",
    )
    list_editable = ("is_active",)
    list_filter = ("is_active", "provider", "call_status", "set_stage", "set_flag")

    def changelist_view(self, request, extra_context=None):
        from .outcomes import outcome_rules_seed

        if request.method == "GET" and outcome_rules_seed():
            self.message_user(request, "The default outcome rules were loaded; edit them as you need.")
        return super().changelist_view(request, extra_context)


@admin.register(Disposition)
class DispositionAdmin(admin.ModelAdmin):
    """The codes a rep picks when wrapping up a human call."""

    list_display = ("label", "code", "is_conversion", "is_active", "order")
    list_editable = ("is_active", "order")


@admin.register(CallWrapUp)
class CallWrapUpAdmin(admin.ModelAdmin):
    list_display = ("created_at", "provider", "call_log_id", "lead", "disposition", "by")
    list_filter = ("provider", "disposition")
    raw_id_fields = ("lead",)
