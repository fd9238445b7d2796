"""Settings come from environment variables, with the embedded default when none are set.

Each scenario starts a fresh interpreter, because settings are read once at start.
"""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import json, django
from django.conf import settings
django.setup()
db = settings.DATABASES["default"]
print(json.dumps({
    "engine": db["ENGINE"], "name": str(db["NAME"]), "debug": settings.DEBUG,
    "hosts": settings.ALLOWED_HOSTS, "base_url": settings.DIGITALEFACTUUR_BASE_URL,
    "broker": "redis" if "redis" in settings.Q_CLUSTER else "orm",
    "q_timeout": settings.Q_CLUSTER["timeout"], "q_retry": settings.Q_CLUSTER["retry"],
    "derived_key": settings.FIELD_ENCRYPTION_KEY_DERIVED, "tz": settings.TIME_ZONE,
    "lang": settings.LANGUAGE_CODE, "secure_cookie": settings.SESSION_COOKIE_SECURE,
}))
"""


def _settings_with(**environment) -> dict:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("DATABASE_URL", "REDIS_URL", "DIGITALEFACTUUR", "DEBUG",
                                "FIELD_ENCRYPTION", "HTTPS", "ALLOWED_HOSTS", "SANDBOX_PORT",
                                "EMAIL_URL"))}
    # No .env either: `make run` may have written one in this checkout.
    env.update({"ENV_FILE": "", **environment}, DJANGO_SETTINGS_MODULE="settings.settings")
    out = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env=env, check=True,
                         capture_output=True, text=True, timeout=60)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_without_environment_the_embedded_default_is_sqlite_and_the_orm_broker():
    found = _settings_with()
    # Django's SQLite backend with the library's own parameter limit (integration/db/sqlite3).
    assert found["engine"] == "integration.db.sqlite3"
    assert found["broker"] == "orm"
    assert found["base_url"] == "https://administratie.digitalefactuur.nl/api"
    assert found["derived_key"] is True
    assert (found["tz"], found["lang"]) == ("Europe/Amsterdam", "nl")
    assert found["debug"] is False


def test_environment_variables_switch_database_broker_and_digitalefactuur():
    found = _settings_with(
        DATABASE_URL="postgres://crm:pw@db.example:5432/crm",
        REDIS_URL="redis://cache.example:6379/0",
        DIGITALEFACTUUR_BASE_URL="http://127.0.0.1:9999/api/",
        FIELD_ENCRYPTION_KEY="x" * 43 + "=",
        ALLOWED_HOSTS="crm.example.nl",
        HTTPS="true",
    )
    assert found["engine"] == "django.db.backends.postgresql"
    assert found["name"] == "crm"
    assert found["broker"] == "redis"
    assert found["base_url"] == "http://127.0.0.1:9999/api"
    assert found["derived_key"] is False
    assert found["hosts"] == ["crm.example.nl"]
    assert found["secure_cookie"] is True


def test_django_q_retries_a_task_only_after_its_timeout_has_passed():
    """django-q2 hands a task to a second worker after `retry`; it must outlast `timeout`."""
    found = _settings_with()
    assert found["q_retry"] > found["q_timeout"]


def test_every_setting_read_from_the_environment_is_listed_in_env_example():
    listed = set(re.findall(r"^([A-Z_]+)=", (ROOT / ".env.example").read_text(), re.M))
    read = set(re.findall(r'env\.\w+\(\s*"([A-Z_]+)"', (ROOT / "settings/settings.py")
                          .read_text()))
    read |= set(re.findall(r'env\.\w+\(\s*\n?\s*"([A-Z_]+)"',
                           (ROOT / "settings/settings.py").read_text()))
    assert read, "no settings found: the pattern above no longer matches settings.py"
    assert read <= listed, f"missing in .env.example: {sorted(read - listed)}"


def test_with_https_on_the_deploy_check_has_only_the_preload_remark():
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "DEBUG"))}
    env.update(HTTPS="true", DEBUG="false", SECRET_KEY="k" * 60 + "-production-like-key",
               FIELD_ENCRYPTION_KEY=Fernet.generate_key().decode())
    out = subprocess.run([sys.executable, "manage.py", "check", "--deploy"], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=60)
    warnings = set(re.findall(r"\((security\.\w+)\)", out.stdout + out.stderr))
    assert warnings <= {"security.W021"}, out.stdout + out.stderr



def test_without_an_encryption_key_the_deploy_check_says_the_key_is_derived():
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("DATABASE_URL", "DEBUG", "FIELD_ENCRYPTION"))}
    env.update(HTTPS="true", SECRET_KEY="k" * 60 + "-production-like-key")
    out = subprocess.run([sys.executable, "manage.py", "check", "--deploy"], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=60)
    assert "digitalefactuur.W001" in out.stdout + out.stderr


def test_a_malformed_encryption_key_stops_every_command():
    env = {k: v for k, v in os.environ.items() if not k.startswith("DATABASE_URL")}
    env.update(FIELD_ENCRYPTION_KEY="not-a-key")
    out = subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode != 0
    assert "digitalefactuur.E001" in out.stderr


def test_without_a_secret_key_the_deploy_check_says_it_is_this_machines_only():
    """Workers on other machines need the same key: a generated one must not pass unnoticed."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("DATABASE_URL", "DEBUG", "SECRET_KEY"))}
    env.update(HTTPS="true", FIELD_ENCRYPTION_KEY=Fernet.generate_key().decode())
    out = subprocess.run([sys.executable, "manage.py", "check", "--deploy"], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=60)
    assert "digitalefactuur.W002" in out.stdout + out.stderr
