from django.urls import path  # noqa: F401

app_name = "acefone_sandbox"

urlpatterns: list = []
