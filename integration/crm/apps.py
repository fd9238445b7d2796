from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

#: The pick list "relatietype" as PerfectView starts it; administrators edit it afterwards.
#: Stored in Dutch; shown in the reader's language (`RelationType.__str__`), while a type an
#: administrator adds shows as typed.
DEFAULT_RELATION_TYPES = [gettext_noop("Klant"), gettext_noop("Leverancier"),
                          gettext_noop("Prospect"), gettext_noop("Suspect"),
                          gettext_noop("Te beoordelen")]


def ensure_relation_types(sender=None, using="default", apps=None, **kwargs) -> None:
    """Create the default relation types that are missing; never touch existing ones.

    Runs after every migrate and every flush (Django sends post_migrate after both), so the
    connector's defaults Klant and Leverancier exist on every installation and in every test.
    """
    from django.apps import apps as global_apps

    RelationType = (apps or global_apps).get_model("crm", "RelationType")
    existing = set(RelationType.objects.using(using).values_list("name", flat=True))
    RelationType.objects.using(using).bulk_create(
        RelationType(name=name, position=position * 10)
        for position, name in enumerate(DEFAULT_RELATION_TYPES, start=1)
        if name not in existing
    )


class CrmConfig(AppConfig):
    name = "integration.crm"
    label = "crm"
    # Not "Relaties": that is the name of its main page, and the breadcrumb would read
    # "Relaties › Relaties".
    verbose_name = _("Relatiebeheer")

    def ready(self) -> None:
        post_migrate.connect(ensure_relation_types, sender=self,
                             dispatch_uid="crm.ensure_relation_types")
