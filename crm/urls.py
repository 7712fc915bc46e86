"""Root URLs, and the CRM's own pages (namespace ``crm``): crm is both the project and an app, so this
is its one ``urls.py``. Provider apps mount their own; sandboxes only when PROVIDER_SANDBOX is on."""

from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from . import views, views_call_panel, views_my_day, views_opt_out, views_wrap_up

crm_patterns = [
    path("", views.home, name="home"),
    path("leads/", views.lead_list, name="lead_list"),
    path("leads/new/", views.lead_create, name="lead_create"),
    path("leads/<int:lead_id>/", views.lead_detail, name="lead_detail"),
    path("leads/<int:lead_id>/edit/", views.lead_edit, name="lead_edit"),
    path("leads/<int:lead_id>/notes/", views.lead_note_add, name="lead_note_add"),
    path("call-panel/", views_call_panel.call_panel, name="call_panel"),
    path("call-panel/history/<int:lead_id>/", views_call_panel.call_history, name="call_history"),
    path("call-panel/wrap-up/<str:provider>/<int:call_log_id>/", views_wrap_up.call_wrap_up_view, name="call_wrap_up"),
    path("call-panel/call-status/<str:provider>/<int:call_log_id>/", views_call_panel.call_status, name="call_status"),
    path("my-day/", views_my_day.my_day, name="my_day"),
    path("leads/<int:lead_id>/do-not-call/clear/", views_opt_out.lead_dnc_clear, name="lead_dnc_clear"),
    path("leads/<int:lead_id>/opt-out-review/", views_opt_out.opt_out_review, name="opt_out_review"),
    path("opt-outs/review/", views_opt_out.opt_out_reviews, name="opt_out_reviews"),
]

urlpatterns = [
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("", include((crm_patterns, "crm"))),
    path("", include("callkaro.urls")),
    path("", include("reporting.urls")),
    path("", include("acefone.urls")),
    path("", include("metaleads.urls")),
    path("", include("telephony.urls")),
]

if settings.PROVIDER_SANDBOX:
    urlpatterns += [
        path("sandbox/callkaro/", include("callkaro.sandbox_urls")),
        path("sandbox/acefone/", include("acefone.sandbox_urls")),
        path("sandbox/meta/", include("metaleads.sandbox_urls")),
    ]

# Baseline endpoints for poking at the bench views under runserver: DEBUG only (system check crm.E001).
# The benchmarks themselves run with DEBUG off under bench.settings, which mounts them in bench.root_urls.
if getattr(settings, "BENCH_ENDPOINTS", False) and settings.DEBUG:
    urlpatterns += [path("bench/", include("bench.urls"))]
