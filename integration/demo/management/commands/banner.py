"""`manage.py banner`: where to log in, printed by `make run` before the processes start."""

import os

from django.conf import settings
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Toont waar je inlogt en met welke demo-gegevens."

    def handle(self, *args, **options) -> None:
        port = os.environ.get("WEB_PORT", "8000")
        # Only `make run` starts the sandbox; it says so by setting SANDBOX_PORT.
        sandbox = os.environ.get("SANDBOX_PORT", "")
        from integration.digitalefactuur.health import address

        url, which = address()
        mail = (f"als bestand in {settings.EMAIL_FILE_PATH}/" if settings.EMAIL_BACKEND.endswith(
            "filebased.EmailBackend") else f"via {settings.EMAIL_HOST or settings.EMAIL_BACKEND}")
        lines = [
            "",
            "PerfectView – DigitaleFactuur koppeling",
            f"  Inloggen:    http://127.0.0.1:{port}/admin/",
            f"  Gebruiker:   {settings.DEMO_USERNAME}",
            f"  Wachtwoord:  {settings.DEMO_PASSWORD}",
            f"  DigitaleFactuur: {url} ({which})",
            *([f"  Sandbox:     http://127.0.0.1:{sandbox}/  (Account-id 10001, "
               "Toegangscode demo-toegangscode-0001)"] if sandbox else []),
            f"  E-mails:     {mail}",
            "  Stoppen:     Ctrl-C",
            *(["  Let op: de sleutel voor de Toegangscode is afgeleid van SECRET_KEY "
               "(zet FIELD_ENCRYPTION_KEY in productie)."]
              if settings.FIELD_ENCRYPTION_KEY_DERIVED else []),
            "",
        ]
        self.stdout.write("\n".join(lines))
