from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DigitaleFactuurConfig(AppConfig):
    name = "integration.digitalefactuur"
    label = "digitalefactuur"
    verbose_name = _("DigitaleFactuur")

    def ready(self) -> None:
        from . import checks  # noqa: F401  (registers the system checks)
        from .redaction import install_log_redaction

        # urllib3 logs request paths, access code included, at DEBUG: filtered in every
        # process that loads the app (web, worker, commands), before any handler sees them.
        install_log_redaction()

        # The CRM never imports the connector: the connector listens to its saves.
        from .listener import connect

        connect()
