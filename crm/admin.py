from django.contrib import admin

from . import services
from .models import Lead, LeadActivity, LeadNote, TeamMember


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
