"""System checks for the connector's own settings and the keys it depends on.

The Toegangscode is encrypted with FIELD_ENCRYPTION_KEY. A key derived from SECRET_KEY is fine for
the embedded default, but in production it ties the stored code to SECRET_KEY, so
`check --deploy` says so; a malformed key is an error everywhere, because nothing could be
decrypted with it.
"""

import base64
import binascii

from django.conf import settings
from django.core import checks


def _is_fernet_key(key: str) -> bool:
    try:
        return len(base64.urlsafe_b64decode(key.encode())) == 32
    except (binascii.Error, ValueError):
        return False


@checks.register(checks.Tags.security)
def check_encryption_keys(app_configs, **kwargs):
    bad = [i for i, key in enumerate(settings.FIELD_ENCRYPTION_KEYS, 1) if not _is_fernet_key(key)]
    if bad:
        return [checks.Error(
            f"FIELD_ENCRYPTION_KEY: key number(s) {bad} are not Fernet keys.",
            hint="Make one with: python -c \"from cryptography.fernet import Fernet; "
                 "print(Fernet.generate_key().decode())\"",
            id="digitalefactuur.E001",
        )]
    return []


@checks.register(checks.Tags.security, deploy=True)
def check_encryption_key_is_set(app_configs, **kwargs):
    if settings.FIELD_ENCRYPTION_KEY_DERIVED:
        return [checks.Warning(
            "FIELD_ENCRYPTION_KEY is not set: the key that encrypts the Toegangscode is derived "
            "from SECRET_KEY, so changing SECRET_KEY makes the stored code unreadable.",
            hint="Set FIELD_ENCRYPTION_KEY to a Fernet key and keep it with your backups.",
            id="digitalefactuur.W001",
        )]
    return []


@checks.register(checks.Tags.security, deploy=True)
def check_secret_key_is_shared(app_configs, **kwargs):
    # A generated key lives on one machine: a worker elsewhere could not read task payloads
    # (django-q2 signs them with it) nor decrypt a Toegangscode whose key is derived from it.
    if getattr(settings, "SECRET_KEY_GENERATED", False):
        return [checks.Warning(
            "SECRET_KEY is not set: a key was generated for this machine only (var/secret_key).",
            hint="Set SECRET_KEY, the same on every machine of the installation (web and "
                 "workers), and keep it with your backups.",
            id="digitalefactuur.W002",
        )]
    return []
