from django.apps import AppConfig


class AcefoneConfig(AppConfig):
    name = "acefone"
    verbose_name = "Acefone"
