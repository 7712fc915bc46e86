"""The app's URLs and the benchmark's baseline endpoints (bench.settings only)."""

from django.urls import include, path

from crm.urls import urlpatterns as app_urlpatterns

urlpatterns = [*app_urlpatterns, path("bench/", include("bench.urls"))]
