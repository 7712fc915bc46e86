"""Secrets at rest: MultiFernet over FIELD_ENCRYPTION_KEYS, rotation, and loud failure."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured

from crm import crypto

OLD = Fernet.generate_key().decode()
NEW = Fernet.generate_key().decode()


def test_round_trip_and_ciphertext_hides_the_plaintext(settings):
    settings.FIELD_ENCRYPTION_KEYS = [OLD]
    token = crypto.encrypt("ck-live-secret-3f9a")
    assert "ck-live-secret-3f9a" not in token
    assert crypto.decrypt(token) == "ck-live-secret-3f9a"


def test_data_written_under_the_old_key_reads_after_a_new_key_is_put_first(settings):
    settings.FIELD_ENCRYPTION_KEYS = [OLD]
    token = crypto.encrypt("written-before-rotation")
    settings.FIELD_ENCRYPTION_KEYS = [NEW, OLD]
    assert crypto.decrypt(token) == "written-before-rotation"
    # New writes use the newest key: they do not read with the old key alone.
    fresh = crypto.encrypt("written-after-rotation")
    assert Fernet(NEW.encode()).decrypt(fresh.encode()).decode() == "written-after-rotation"
    settings.FIELD_ENCRYPTION_KEYS = [OLD]
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(fresh)


def test_rotate_re_encrypts_under_the_newest_key_so_the_old_key_can_go(settings):
    settings.FIELD_ENCRYPTION_KEYS = [OLD]
    token = crypto.encrypt("rotate-me")
    settings.FIELD_ENCRYPTION_KEYS = [NEW, OLD]
    rotated = crypto.rotate(token)
    settings.FIELD_ENCRYPTION_KEYS = [NEW]
    assert crypto.decrypt(rotated) == "rotate-me"
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(token)


def test_fernet_is_cached_by_the_key_tuple(settings):
    settings.FIELD_ENCRYPTION_KEYS = [OLD]
    first = crypto._current()
    assert crypto._current() is first
    settings.FIELD_ENCRYPTION_KEYS = [NEW, OLD]
    assert crypto._current() is not first  # a changed key list is seen at once, no restart
    settings.FIELD_ENCRYPTION_KEYS = [OLD]
    assert crypto._current() is first


def test_failed_decryption_raises_and_never_returns_the_ciphertext(settings):
    settings.FIELD_ENCRYPTION_KEYS = [OLD]
    token = crypto.encrypt("secret")
    settings.FIELD_ENCRYPTION_KEYS = [NEW]
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(token)
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt("not-a-fernet-token")


def test_no_keys_with_debug_off_is_a_configuration_error(settings):
    settings.FIELD_ENCRYPTION_KEYS = []
    settings.DEBUG = False
    with pytest.raises(ImproperlyConfigured, match="FIELD_ENCRYPTION_KEYS") as raised:
        crypto.encrypt("x")
    # A configuration error, not a provider's: nothing that catches telephony errors can hide it.
    from telephony.errors import ProviderConfigError, TelephonyError

    assert not isinstance(raised.value, (ProviderConfigError, TelephonyError))


def test_no_keys_with_debug_on_derives_a_local_key(settings):
    settings.FIELD_ENCRYPTION_KEYS = []
    settings.DEBUG = True
    assert crypto.decrypt(crypto.encrypt("local")) == "local"


@pytest.mark.parametrize(
    ("secret", "masked"), [("ck-live-3f9a", "••••3f9a"), ("abcd", "••••"), ("", ""), ("abcdefgh12", "••••gh12")]
)
def test_mask_shows_at_most_the_last_four(secret, masked):
    assert crypto.mask(secret) == masked
