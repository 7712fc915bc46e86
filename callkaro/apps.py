from django.apps import AppConfig


class CallKaroConfig(AppConfig):
    name = "callkaro"
    verbose_name = "Call Karo AI"
