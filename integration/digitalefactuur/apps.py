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
