"""The system checks (``telephony.checks``): what a production start-up must not miss."""

from __future__ import annotations

import pytest
from django.core import checks as django_checks
from django.core.checks import Error, Warning

from telephony.checks import encryption_keys_check, provider_credentials_check, webhook_secrets_check


@pytest.fixture
def production(settings):
    settings.DEBUG = False
    settings.FIELD_ENCRYPTION_KEYS = ["k"]
    settings.CALLKARO_API_KEY = "ck-key"
    settings.CALLKARO_WEBHOOK_SECRET = "ck-secret"
    settings.ACEFONE_API_TOKEN = "af-token"
    settings.ACEFONE_WEBHOOK_SECRET = "af-secret"
    return settings


def _ids(messages) -> list[str]:
    return [m.id for m in messages]


@pytest.mark.django_db
def test_a_complete_production_configuration_passes(production):
    assert encryption_keys_check() == []
    assert webhook_secrets_check() == []
    assert provider_credentials_check() == []


def test_missing_encryption_keys_in_production_is_an_error(production):
    production.FIELD_ENCRYPTION_KEYS = []
    [message] = encryption_keys_check()
    assert isinstance(message, Error) and message.id == "telephony.E001"
    assert "FIELD_ENCRYPTION_KEYS" in message.msg


@pytest.mark.django_db
def test_a_missing_webhook_secret_in_production_is_an_error_naming_the_provider(production):
    production.ACEFONE_WEBHOOK_SECRET = ""
    [message] = webhook_secrets_check()
    assert isinstance(message, Error) and message.id == "telephony.E002" and "Acefone" in message.msg
    production.CALLKARO_WEBHOOK_SECRET = ""
    assert _ids(webhook_secrets_check()) == ["telephony.E002", "telephony.E002"]


@pytest.mark.django_db
def test_a_provider_without_credentials_is_a_warning(production):
    production.ACEFONE_API_TOKEN = ""
    [message] = provider_credentials_check()
    assert isinstance(message, Warning) and message.id == "telephony.W001" and "ACEFONE_API_TOKEN" in message.msg
    production.CALLKARO_API_KEY = ""
    assert _ids(provider_credentials_check()) == ["telephony.W001", "telephony.W001"]


@pytest.mark.django_db
def test_local_development_is_not_nagged(production):
    production.DEBUG = True
    production.FIELD_ENCRYPTION_KEYS = []
    production.ACEFONE_WEBHOOK_SECRET = production.CALLKARO_WEBHOOK_SECRET = ""
    production.ACEFONE_API_TOKEN = production.CALLKARO_API_KEY = ""
    assert encryption_keys_check() + webhook_secrets_check() + provider_credentials_check() == []


@pytest.mark.django_db
def test_the_checks_are_registered_with_django(production):
    production.FIELD_ENCRYPTION_KEYS = []
    assert "telephony.E001" in _ids(django_checks.run_checks(tags=["telephony"]))
