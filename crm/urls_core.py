from django.urls import path

from . import urls_call_panel, views

app_name = "crm"

urlpatterns = [
    path("", views.home, name="home"),
    path("leads/", views.lead_list, name="lead_list"),
    path("leads/new/", views.lead_create, name="lead_create"),
    path("leads/<int:lead_id>/", views.lead_detail, name="lead_detail"),
    path("leads/<int:lead_id>/edit/", views.lead_edit, name="lead_edit"),
    path("leads/<int:lead_id>/notes/", views.lead_note_add, name="lead_note_add"),
    *urls_call_panel.urlpatterns,
]
