from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DigitaleFactuurConfig(AppConfig):
    name = "integration.digitalefactuur"
    label = "digitalefactuur"
    verbose_name = _("DigitaleFactuur")

    def ready(self) -> None:
        from . import checks  # noqa: F401  (registers the system checks)

        # The CRM never imports the connector: the connector listens to its saves.
        from .listener import connect

        connect()

        # Alerts: a finished run is looked at without the engine knowing (alerts.py).
        from django.db.models.signals import post_save

        from integration.connectors.models import SyncRun

        from .alerts import on_run_saved

        post_save.connect(on_run_saved, sender=SyncRun, dispatch_uid="digitalefactuur-alerts")
