from django.contrib import admin

from . import services
from .models import DoNotCallEntry, Lead, LeadActivity, LeadNote, TeamMember
from .telephony.models import CallOutcomeRule, ProviderWebhookEvent


@admin.register(TeamMember)
class TeamMemberAdmin(admin.ModelAdmin):
    list_display = ("name", "user", "role", "phone", "acefone_agent_number", "manager", "is_active")
    list_filter = ("role", "is_active")
    search_fields = ("name", "user__username", "phone", "acefone_agent_number")
    autocomplete_fields = ("manager",)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        services.team_member_set_role(member=obj, role=obj.role)


class LeadNoteInline(admin.TabularInline):
    model = LeadNote
    extra = 0


@admin.register(Lead)
class LeadAdmin(admin.ModelAdmin):
    list_display = ("name", "phone", "stage", "source", "assigned_to", "do_not_call", "created_at")
    list_filter = ("stage", "source", "do_not_call", "phone_invalid", "assigned_to")
    search_fields = ("name", "phone", "email", "meta_lead_id")
    list_select_related = ("assigned_to",)
    date_hierarchy = "created_at"
    inlines = [LeadNoteInline]
    raw_id_fields = ("assigned_to",)


@admin.register(LeadActivity)
class LeadActivityAdmin(admin.ModelAdmin):
    list_display = ("lead", "kind", "old_value", "new_value", "actor", "actor_label", "call_ref", "created_at")
    list_filter = ("kind",)
    search_fields = ("lead__name", "call_ref")
    raw_id_fields = ("lead", "actor")
    list_select_related = ("lead", "actor")


@admin.register(DoNotCallEntry)
class DoNotCallEntryAdmin(admin.ModelAdmin):
    """Admins edit the shared do-not-call list here; numbers are normalised to E.164 on save."""

    list_display = ("phone", "reason", "source", "created_by", "created_at")
    list_filter = ("source",)
    search_fields = ("phone", "reason")
    raw_id_fields = ("created_by",)

    def save_model(self, request, obj, form, change):
        from .dnc import normalise_number

        obj.phone = normalise_number(obj.phone) or obj.phone
        super().save_model(request, obj, form, change)


from .telephony.models import SandboxRequest  # noqa: E402


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
        return [("unmatched", "Unmatched"), ("failed", "Failed"), ("rejected", "Rejected (auth)")]

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
        "set_stage",
        "set_flag",
        "order",
    )
    list_editable = ("is_active",)
    list_filter = ("is_active", "provider", "call_status", "set_stage", "set_flag")

    def changelist_view(self, request, extra_context=None):
        from .telephony.outcomes import outcome_rules_seed

        if request.method == "GET" and outcome_rules_seed():
            self.message_user(request, "The default outcome rules were loaded; edit them as you need.")
        return super().changelist_view(request, extra_context)
