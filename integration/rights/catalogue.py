"""The rights catalogue: every right PerfectView knows, grouped and ordered as in the manual.

A right is a Django auth `Permission` of the app `rights`; a role is an auth `Group`. This module
is the one list of them: the data migration `0002_catalogue` creates it, and a `post_migrate`
handler (see `apps.py`) tops it up after every `migrate` or `flush`, the way Django keeps its own
model permissions complete. Entries are never deleted here: a right that disappears from the list
keeps its grants until a migration removes it on purpose.

The constants are "app_label.codename" strings, ready for `user.has_perm(...)`,
`RightRequiredMixin.required_right` and `{% has_right %}`.

This module imports no models, so the migration can use it.
"""

from typing import NamedTuple

from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

APP_LABEL = "rights"
# The model whose content type owns the catalogue's permissions (see models.Right).
OWNER_MODEL = "right"

# The rights other parts of the application check.
MANAGE_RIGHTS = f"{APP_LABEL}.manage_rights"
MANAGE_USERS = f"{APP_LABEL}.manage_users"
CONNECTORS = f"{APP_LABEL}.connectors"
DIGITALE_FACTUUR = f"{APP_LABEL}.digitalefactuur"

# Category keys in the order of the manual's Rechten screen.
CATEGORIES = {
    "activities": _("activiteiten"),
    "application_settings": _("applicatie instellingen"),
    "pick_lists": _("keuzelijsten"),
    "other": _("overige"),
    "reports": _("rapporten"),
    "relations": _("relaties"),
    "queues": _("wachtrijen"),
}


class Entry(NamedTuple):
    """One right as the catalogue declares it; its place in the tuple is its position."""

    category: str
    section: str  # a sub-heading inside the category ("Koppelingen - Financieel", an activity)
    codename: str
    label: str  # the text on the block; names of products are not translated


# An activity right comes in four actions, each its own block.
# Labels and sections are stored in Dutch (`Right`) and translated when shown (gettext_noop
# marks them for the catalogue); names of products are not translated.
ACTIONS = [("view", gettext_noop("zien")), ("add", gettext_noop("aanmaken")),
           ("change", gettext_noop("wijzigen")), ("delete", gettext_noop("verwijderen"))]
ACTIVITIES = [("appointments", gettext_noop("Afspraken")), ("tasks", gettext_noop("Taken")),
              ("emails", gettext_noop("E-mails")),
              ("phone_calls", gettext_noop("Telefoonnotities")),
              ("notes", gettext_noop("Notities")), ("documents", gettext_noop("Documenten"))]

FINANCIAL_CONNECTORS = gettext_noop("Koppelingen - Financieel")


def _entries() -> tuple[Entry, ...]:
    entries = [
        Entry("activities", activity_label, f"activity_{activity}_{action}", action_label)
        for activity, activity_label in ACTIVITIES
        for action, action_label in ACTIONS
    ]
    entries += [
        # The manual's list, in its order; "Rechten" (who may change this page) belongs here
        # because the manual opens Rechten from Applicatie instellingen.
        Entry("application_settings", "", "excluded_domains",
              gettext_noop("Uitgezonderde domeinen")),
        Entry("application_settings", "", "response_texts", gettext_noop("Response teksten")),
        Entry("application_settings", "", "connectors", gettext_noop("Koppelingen")),
        Entry("application_settings", "", "document_storage", gettext_noop("Documenten opslag")),
        Entry("application_settings", "", "kvk_connector", gettext_noop("KvK koppeling")),
        Entry("application_settings", "", "imports", gettext_noop("Importeren")),
        Entry("application_settings", "", "telephony", gettext_noop("Telefonie")),
        Entry("application_settings", "", "web_forms", gettext_noop("Webformulieren")),
        # The manual's Instellingen list names Gebruikers next to Rechten.
        Entry("application_settings", "", "manage_users", gettext_noop("Gebruikers")),
        Entry("application_settings", "", "manage_rights", gettext_noop("Rechten")),
        Entry("application_settings", FINANCIAL_CONNECTORS, "digitalefactuur", "Digitale Factuur"),
        Entry("application_settings", FINANCIAL_CONNECTORS, "exact_online", "Exact Online"),
        Entry("application_settings", FINANCIAL_CONNECTORS, "moneybird", "MoneyBird"),
        Entry("application_settings", FINANCIAL_CONNECTORS, "twinfield", "TwinField"),
        Entry("pick_lists", "", "pick_list_relation_types", gettext_noop("Relatietypen")),
        Entry("pick_lists", "", "pick_list_activity_types", gettext_noop("Activiteitsoorten")),
        Entry("pick_lists", "", "pick_list_branches", gettext_noop("Branches")),
        Entry("other", "", "export", gettext_noop("Exporteren")),
        Entry("other", "", "mailings", gettext_noop("Mailings versturen")),
        Entry("other", "", "empty_trash", gettext_noop("Prullenbak legen")),
        Entry("reports", "", "reports_view", gettext_noop("Rapporten zien")),
        Entry("reports", "", "reports_manage", gettext_noop("Rapporten beheren")),
    ]
    entries += [
        Entry("relations", gettext_noop("Relaties"), f"relation_{action}", action_label)
        for action, action_label in [*ACTIONS, ("merge", gettext_noop("samenvoegen"))]
    ]
    entries += [
        Entry("queues", "", "queues_view", gettext_noop("Wachtrijen zien")),
        Entry("queues", "", "queues_manage", gettext_noop("Wachtrijen beheren")),
    ]
    return tuple(entries)


CATALOGUE: tuple[Entry, ...] = _entries()


def permission_name(entry: Entry) -> str:
    """The auth Permission's name: what the user admin's permission list shows."""
    return f"{entry.section} – {entry.label}" if entry.section else entry.label


def ensure_catalogue(apps) -> None:
    """Create what is missing of the catalogue; correct names and positions. Idempotent.

    `apps` is a model registry: the historical one inside a migration, the post_migrate one
    otherwise, so this never depends on the current models' code.
    """
    content_type_model = apps.get_model("contenttypes", "ContentType")
    permission_model = apps.get_model("auth", "Permission")
    right_model = apps.get_model(APP_LABEL, "Right")
    content_type, _created = content_type_model.objects.get_or_create(
        app_label=APP_LABEL, model=OWNER_MODEL)
    for position, entry in enumerate(CATALOGUE, start=1):
        permission, _created = permission_model.objects.get_or_create(
            content_type=content_type, codename=entry.codename,
            defaults={"name": permission_name(entry)})
        if permission.name != permission_name(entry):
            permission.name = permission_name(entry)
            permission.save(update_fields=["name"])
        right_model.objects.update_or_create(
            permission=permission,
            defaults={"category": entry.category, "section": entry.section,
                      "label": entry.label, "position": position * 10})
