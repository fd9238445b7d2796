"""The rights app: roles (auth Groups) x rights (auth Permissions), the Rechten page, the check."""

from django.apps import AppConfig
from django.apps import apps as global_apps
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def complete_catalogue(sender, apps=global_apps, **kwargs) -> None:
    """Top up the catalogue after migrate and flush, as Django does for its own permissions.

    A flush (TransactionTestCase, `manage.py flush`) empties the tables the data migration
    filled; without this the Digitale Factuur right would be gone until the next fresh database.
    A flush sends no `apps`, hence the default, as in Django's own `create_permissions`.
    """
    from .catalogue import ensure_catalogue

    try:
        apps.get_model("rights", "Right")
    except LookupError:  # migrated back to zero: nothing to fill
        return
    ensure_catalogue(apps)


class RightsConfig(AppConfig):
    name = "integration.rights"
    label = "rights"
    verbose_name = _("Rechten")

    def ready(self) -> None:
        from . import changes  # noqa: F401  (connects the audit trail's listener)

        post_migrate.connect(complete_catalogue, sender=self,
                             dispatch_uid="rights_complete_catalogue")
