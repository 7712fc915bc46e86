from django.urls import path  # noqa: F401

app_name = "callkaro_sandbox"

urlpatterns: list = []
