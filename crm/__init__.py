"""The lead CRM: Django project package and CRM core app."""

from .celery import app as celery_app

__all__ = ("celery_app",)
