"""The rights catalogue: created by the migration, in the manual's order, usable by has_perm."""

import pytest
from django.apps import apps
from django.contrib.auth.models import Group, Permission

from integration.rights.catalogue import (
    CATALOGUE,
    CATEGORIES,
    DIGITALE_FACTUUR,
    MANAGE_RIGHTS,
    ensure_catalogue,
)
from integration.rights.models import Right

pytestmark = pytest.mark.django_db

SEED_CATEGORIES = ["activiteiten", "applicatie instellingen", "keuzelijsten", "overige",
                   "rapporten", "relaties", "wachtrijen"]
SEED_APPLICATION_SETTINGS = ["Uitgezonderde domeinen", "Response teksten", "Koppelingen",
                             "Documenten opslag", "KvK koppeling", "Importeren", "Telefonie",
                             "Webformulieren", "Digitale Factuur", "Exact Online", "MoneyBird",
                             "TwinField"]


def test_migration_creates_every_right_of_the_catalogue():
    """Every declared right exists as an auth Permission with its place on the page."""
    # given: the migrated test database
    # when
    rights = list(Right.objects.select_related("permission__content_type"))
    # then
    assert [right.permission.codename for right in rights] == [e.codename for e in CATALOGUE]
    assert all(right.permission.content_type.app_label == "rights" for right in rights)


def test_categories_and_application_settings_follow_the_seed_order():
    """The page lists categories and the applicatie instellingen rights as the manual does."""
    # given
    rights = list(Right.objects.all())
    # when
    categories = list(dict.fromkeys(str(CATEGORIES[right.category]) for right in rights))
    settings_labels = [right.label for right in rights
                       if right.category == "application_settings"]
    # then
    assert categories == SEED_CATEGORIES
    seed_in_page_order = [label for label in settings_labels if label in SEED_APPLICATION_SETTINGS]
    assert seed_in_page_order == SEED_APPLICATION_SETTINGS


def test_financial_connectors_sit_under_their_own_heading():
    """Digitale Factuur is found under applicatie instellingen › Koppelingen - Financieel."""
    # given / when
    right = Right.objects.get(permission__codename="digitalefactuur")
    # then
    assert right.category == "application_settings"
    assert right.section == "Koppelingen - Financieel"
    assert right.perm == DIGITALE_FACTUUR
    assert [r.label for r in Right.objects.filter(section="Koppelingen - Financieel")] == [
        "Digitale Factuur", "Exact Online", "MoneyBird", "TwinField"]


def test_every_activity_has_the_four_actions():
    """Each activity has zien, aanmaken, wijzigen and verwijderen, in that order."""
    # given
    activities = Right.objects.filter(category="activities")
    # when
    per_activity: dict[str, list[str]] = {}
    for right in activities:
        per_activity.setdefault(right.section, []).append(right.label)
    # then
    assert per_activity
    assert all(labels == ["zien", "aanmaken", "wijzigen", "verwijderen"]
               for labels in per_activity.values())


def test_starting_roles_exist_and_administrators_manage_rights():
    """Administrators and Users exist from the start; only Administrators may manage rights."""
    # given / when
    administrators = Group.objects.get(name="Administrators")
    users = Group.objects.get(name="Users")
    # then
    assert administrators.permissions.filter(codename="manage_rights").exists()
    assert not users.permissions.filter(content_type__app_label="rights").exists()
    assert MANAGE_RIGHTS == "rights.manage_rights"


def test_topping_up_the_catalogue_twice_changes_nothing():
    """The post_migrate top-up is idempotent: no duplicate permissions, same positions."""
    # given
    before = list(Right.objects.values_list("permission_id", "position"))
    # when
    ensure_catalogue(apps)
    ensure_catalogue(apps)
    # then
    assert list(Right.objects.values_list("permission_id", "position")) == before
    assert Permission.objects.filter(content_type__app_label="rights").count() == len(CATALOGUE)
