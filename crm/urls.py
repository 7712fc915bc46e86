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
]

if settings.PROVIDER_SANDBOX:
    urlpatterns += [
        path("sandbox/callkaro/", include("callkaro.sandbox_urls")),
        path("sandbox/acefone/", include("acefone.sandbox_urls")),
    ]

# Baseline endpoints for poking at the bench views under runserver: DEBUG only (system check crm.E001).
# The benchmarks themselves run with DEBUG off under bench.settings, which mounts them in bench.root_urls.
if getattr(settings, "BENCH_ENDPOINTS", False) and settings.DEBUG:
    urlpatterns += [path("bench/", include("bench.urls"))]
