from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DigitaleFactuurConfig(AppConfig):
    name = "integration.digitalefactuur"
    label = "digitalefactuur"
    verbose_name = _("DigitaleFactuur")

    def ready(self) -> None:
        # Its tile on Koppelingen and its words in the shared sync log (connectors/registry.py).
        register_connector()

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


def register_connector() -> None:
    """DigitaleFactuur's tile on the Koppelingen page, its log's buttons and words: the
    catalogue (integration/connectors/registry.py) learns them from here."""
    from integration.connectors import registry
    from integration.rights.catalogue import DIGITALE_FACTUUR

    from . import fields, health, mapping, runs, state

    registry.register(registry.Connector(
        "digitalefactuur", "DigitaleFactuur", _(
            "Koppeling met Digitale Factuur voor het synchroniseren van debiteuren en "
            "crediteuren"),
        "DF", order=30,  # the manual's third tile, after Twitter and Bit.ly
        settings_url_name="digitalefactuur:settings",
        active_check=state.is_active,
        right=DIGITALE_FACTUUR,
        run_actions=runs.run_actions,
        health_check=health.tile,
        field_rows=fields.diff_rows,
        fields_url_name="digitalefactuur:fields",
        kinds=mapping.KIND_LABELS,
        directions=fields.DIRECTIONS))
