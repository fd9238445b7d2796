"""Encryption of the Toegangscode at rest: round trip, rotation, a lost key."""

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command

from integration.digitalefactuur import crypto
from integration.digitalefactuur.models import DigitaleFactuurSettings


def test_round_trip_and_no_plaintext():
    """What goes in comes out; the token does not contain it."""
    token = crypto.encrypt("geheime-code-ä")
    assert "geheime" not in token
    assert crypto.decrypt(token) == "geheime-code-ä"
    assert crypto.encrypt("geheime-code-ä") != token  # Fernet is randomised


def test_rotation_keeps_old_tokens_readable_and_moves_them_to_the_new_key(settings):
    """Newest key first: old tokens still decrypt; rotate() re-encrypts with the newest."""
    # given a token made with the old key
    old_key, new_key = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [old_key]
    token = crypto.encrypt("code-1")

    # when a new key is put in front
    settings.FIELD_ENCRYPTION_KEYS = [new_key, old_key]

    # then the old token is still readable, and rotation moves it to the new key
    assert crypto.decrypt(token) == "code-1"
    rotated = crypto.rotate(token)
    settings.FIELD_ENCRYPTION_KEYS = [new_key]
    assert crypto.decrypt(rotated) == "code-1"
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(token)


@pytest.mark.django_db
def test_rotate_key_command_re_encrypts_the_stored_code(settings):
    """`manage.py digitalefactuur rotate-key` after putting a new key in front."""
    # given a stored code under the old key
    old_key, new_key = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [old_key]
    df = DigitaleFactuurSettings.load()
    df.account_id = "10001"
    df.set_access_code("code-2")
    df.save()

    # when
    settings.FIELD_ENCRYPTION_KEYS = [new_key, old_key]
    call_command("digitalefactuur", "rotate-key")

    # then the old key can go
    settings.FIELD_ENCRYPTION_KEYS = [new_key]
    assert DigitaleFactuurSettings.load().access_code == "code-2"


@pytest.mark.django_db
def test_lost_key_says_so_on_the_screen(settings, df_client):
    """A code encrypted with a key no longer configured: the screen asks for it again."""
    df = DigitaleFactuurSettings.load()
    df.set_access_code("code-3")
    df.save()
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]

    html = df_client.get("/admin/koppelingen/digitalefactuur/").content.decode()

    assert "kan niet meer worden gelezen" in html
    assert not DigitaleFactuurSettings.load().options_unlocked
