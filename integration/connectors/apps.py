from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ConnectorsConfig(AppConfig):
    name = "integration.connectors"
    label = "connectors"
    verbose_name = _("Koppelingen")

    def ready(self) -> None:
        from django_q.signals import post_spawn

        from .retention import on_worker_spawn

        # Every django-q2 worker that starts keeps the sync log's daily purge scheduled.
        post_spawn.connect(on_worker_spawn, dispatch_uid="connectors-log-retention")
