from django.contrib import admin

from . import services
from .models import DoNotCallEntry, FollowUp, Lead, LeadActivity, LeadNote, OptOutProposal, TeamMember


@admin.register(TeamMember)
class TeamMemberAdmin(admin.ModelAdmin):
    list_display = ("name", "user", "role", "phone", "acefone_agent_number", "manager", "is_active")
    list_filter = ("role", "is_active")
    search_fields = ("name", "user__username", "phone", "acefone_agent_number")
    autocomplete_fields = ("manager",)

    def save_model(self, request, obj, form, change):
        """Role and active flag go through the services, which derive the user's flags and groups."""
        super().save_model(request, obj, form, change)
        services.team_member_set_role(member=obj, role=obj.role)
        services.team_member_set_active(member=obj, active=obj.is_active)


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


@admin.register(FollowUp)
class FollowUpAdmin(admin.ModelAdmin):
    list_display = ("lead", "owner", "due_at", "source", "done_at")
    list_filter = ("source", "owner")
    raw_id_fields = ("lead",)


@admin.register(OptOutProposal)
class OptOutProposalAdmin(admin.ModelAdmin):
    """Opt-outs heard in transcripts; managers confirm or dismiss them on the dashboard."""

    list_display = ("lead", "phone", "phrase", "status", "decided_by", "created_at")
    list_filter = ("status",)
    raw_id_fields = ("lead", "decided_by")
