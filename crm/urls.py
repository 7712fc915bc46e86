"""Root URLs. Provider apps mount their own; sandboxes only when PROVIDER_SANDBOX is on."""

from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

urlpatterns = [
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("", include("crm.urls_core")),
    path("", include("callkaro.urls")),
    path("", include("acefone.urls")),
    path("", include("metaleads.urls")),
]

if settings.PROVIDER_SANDBOX:
    urlpatterns += [
        path("sandbox/callkaro/", include("callkaro.sandbox_urls")),
        path("sandbox/acefone/", include("acefone.sandbox_urls")),
        path("sandbox/meta/", include("metaleads.sandbox_urls")),
    ]

# Baseline endpoints for `make bench` only (bench/views.py); never on in production.
if getattr(settings, "BENCH_ENDPOINTS", False):
    urlpatterns += [path("bench/", include("bench.urls"))]
