"""Encryption at rest for the Toegangscode (cryptography's Fernet, rotation with MultiFernet).

`settings.FIELD_ENCRYPTION_KEYS` lists Fernet keys newest first: the first encrypts, every key
decrypts. Rotating a key is therefore three steps: put the new key in front, run
`manage.py digitalefactuur rotate-key` (which calls `rotate`), then drop the old key.

The keys are read from settings on every call instead of once at import, so a changed setting
(tests, a reloaded environment) is never outlived by a stale cipher; building a MultiFernet costs
microseconds next to the HTTP call the code is decrypted for.
"""

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _


class DecryptionError(ValueError):
    """The stored ciphertext cannot be read with any of the configured keys."""

    message = _(
        "De opgeslagen toegangscode kan niet worden gelezen: de sleutel waarmee de server hem "
        "heeft versleuteld, is gewijzigd. Vul de toegangscode opnieuw in en test de koppeling."
    )

    def __str__(self) -> str:
        return str(self.message)


def _cipher() -> MultiFernet:
    keys = list(getattr(settings, "FIELD_ENCRYPTION_KEYS", []) or [])
    if not keys:
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEYS is empty: the access code cannot be "
                                   "encrypted")
    try:
        return MultiFernet([Fernet(key) for key in keys])
    except (ValueError, TypeError) as exc:
        # The message of cryptography names no key material; `check` says which key is wrong.
        raise ImproperlyConfigured(f"FIELD_ENCRYPTION_KEYS: {exc}") from None


def encrypt(plaintext: str) -> str:
    """The Fernet token (URL-safe text) of `plaintext`, made with the newest key."""
    return _cipher().encrypt(plaintext.encode("utf-8")).decode("ascii")


def decrypt(token: str) -> str:
    """The plaintext of a token made by `encrypt` with any configured key."""
    try:
        return _cipher().decrypt(token.encode("ascii")).decode("utf-8")
    except (InvalidToken, UnicodeError):
        # `from None`: the token is not secret, but nothing useful is in the chain either.
        raise DecryptionError from None


def rotate(token: str) -> str:
    """The same plaintext, encrypted again with the newest key (MultiFernet.rotate)."""
    try:
        return _cipher().rotate(token.encode("ascii")).decode("ascii")
    except (InvalidToken, UnicodeError):
        raise DecryptionError from None
