from django.contrib import admin

from .models import MetaForm, MetaFormAssignee, MetaLeadDelivery, MetaWebhookRejection, SpeedToLeadCall


class MetaFormAssigneeInline(admin.TabularInline):
    model = MetaFormAssignee
    extra = 0


@admin.register(MetaForm)
class MetaFormAdmin(admin.ModelAdmin):
    list_display = ("form_id", "name", "is_active", "backfill", "watermark", "last_synced_at", "last_error")
    inlines = [MetaFormAssigneeInline]


@admin.register(MetaLeadDelivery)
class MetaLeadDeliveryAdmin(admin.ModelAdmin):
    list_display = ("leadgen_id", "form_id", "via", "status", "attempts", "lead", "received_at")
    list_filter = ("status", "via")
    search_fields = ("leadgen_id", "form_id")
    raw_id_fields = ("lead",)


@admin.register(MetaWebhookRejection)
class MetaWebhookRejectionAdmin(admin.ModelAdmin):
    list_display = ("received_at", "remote_addr", "reason", "body_length")


@admin.register(SpeedToLeadCall)
class SpeedToLeadCallAdmin(admin.ModelAdmin):
    list_display = ("lead", "call_log_id", "window_opening", "dial_at", "outcome", "created_at")
    raw_id_fields = ("lead",)
