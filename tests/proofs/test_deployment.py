"""Proof 7, deployment: production settings pass `check --deploy`, and error pages show no
traceback.

`manage.py check --deploy` with the production environment (DEBUG=false, HTTPS=true, a long
SECRET_KEY, FIELD_ENCRYPTION_KEY, ALLOWED_HOSTS) is proved clean except the documented W021
(HSTS preload, the domain owner's commitment) in tests/settings/test_environment.py; it is not
repeated here.
"""

from __future__ import annotations

import pytest
from django.test import Client, override_settings
from django.urls import path

SECRET_DETAIL = "geheime-interne-details-4711"


def exploding_view(request):
    raise RuntimeError(SECRET_DETAIL)


urlpatterns = [path("ontploft/", exploding_view)]


@pytest.mark.django_db
@override_settings(DEBUG=False, ROOT_URLCONF=__name__)
def test_a_500_under_debug_false_shows_no_traceback():
    # when
    answer = Client(raise_request_exception=False).get("/ontploft/")

    # then
    page = answer.content.decode()
    assert answer.status_code == 500
    assert SECRET_DETAIL not in page and "Traceback" not in page and "RuntimeError" not in page


@pytest.mark.django_db
@override_settings(DEBUG=False)
def test_a_404_under_debug_false_shows_no_url_list():
    # when
    answer = Client().get("/bestaat/niet/")

    # then
    page = answer.content.decode()
    assert answer.status_code == 404
    assert "URLconf" not in page and "admin/koppelingen" not in page


def test_debug_is_off_unless_asked_for():
    """The default of DEBUG is false: production never shows debug pages by omission."""
    import subprocess
    import sys

    from tests.proofs.workers import ROOT

    shown = subprocess.run(  # our own interpreter and manage.py
        [sys.executable, "manage.py", "shell", "-c",
         "from django.conf import settings; print(settings.DEBUG)"],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
        env={"PATH": "/usr/bin:/bin", "HOME": str(ROOT), "SECRET_KEY": "x" * 60})
    assert shown.stdout.strip().splitlines()[-1] == "False", shown.stderr
