import pytest


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    """Draft uploads go to a scratch MEDIA_ROOT, never the developer's var/."""
    settings.MEDIA_ROOT = tmp_path / "media"
