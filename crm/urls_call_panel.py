from django.urls import path

from . import views_call_panel

urlpatterns = [
    path("call-panel/", views_call_panel.call_panel, name="call_panel"),
    path("call-panel/history/<int:lead_id>/", views_call_panel.call_history, name="call_history"),
]
