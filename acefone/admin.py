from django.contrib import admin
from django.db import models

from .models import AcefoneCallLog


@admin.register(AcefoneCallLog)
class AcefoneCallLogAdmin(admin.ModelAdmin):
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}  # Django 6 default, no warning
    list_display = (
        "pk",
        "lead",
        "team_member",
        "agent_number",
        "status",
        "raw_status",
        "duration_seconds",
        "created_at",
    )
    list_filter = ("status",)
    search_fields = ("to_number", "agent_number", "call_uuid", "lead__name")
    raw_id_fields = ("lead", "team_member")
    list_select_related = ("lead", "team_member")
    date_hierarchy = "created_at"
    readonly_fields = ("created_at", "updated_at")
