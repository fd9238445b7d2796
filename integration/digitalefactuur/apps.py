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

        # Alerts: a finished run is looked at without the engine knowing (alerts.py).
        from django.db.models.signals import post_save

        from integration.connectors.models import SyncRun

        from .alerts import on_run_saved

        post_save.connect(on_run_saved, sender=SyncRun, dispatch_uid="digitalefactuur-alerts")
