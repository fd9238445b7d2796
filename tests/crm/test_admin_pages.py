"""Every admin page renders for a logged-in administrator, and the relation list searches."""

import pytest
from django.contrib import admin
from django.urls import reverse

from tests.factories import OrganisationFactory, PersonFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def administrator(client, django_user_model):
    from django.core.management import call_command

    call_command("load_demo", verbosity=0)
    user = django_user_model.objects.get(username="beheerder")
    client.force_login(user)
    return user


def _admin_pages():
    for model, model_admin in admin.site._registry.items():
        info = (model._meta.app_label, model._meta.model_name)
        yield f"admin:{info[0]}_{info[1]}_changelist", model_admin
        yield f"admin:{info[0]}_{info[1]}_add", model_admin


def test_every_list_and_add_page_the_administrator_may_see_renders(client, administrator):
    # given a relation, so that lists have a row to render
    OrganisationFactory(debtor_number="1500")
    seen = 0
    for name, model_admin in _admin_pages():
        opts = model_admin.model._meta
        action = "view" if name.endswith("changelist") else "add"
        if not administrator.has_perm(f"{opts.app_label}.{action}_{opts.model_name}"):
            continue
        # when
        response = client.get(reverse(name))
        # then
        assert response.status_code == 200, name
        seen += 1
    assert seen >= 4


def test_the_relation_change_form_groups_fields_like_perfectviews_tabs(client, administrator):
    relation = OrganisationFactory()
    response = client.get(reverse("admin:crm_relation_change", args=[relation.pk]))
    page = response.content.decode()
    for tab in ("Gegevens", "Communicatie", "Financieel", "Privé adres", "Overige"):
        assert tab in page


def test_the_relation_list_finds_a_relation_by_its_debtor_number(client, administrator):
    # given
    OrganisationFactory(organisation_name="Zoekbaar & Co", debtor_number="1777")
    # when
    response = client.get(reverse("admin:crm_relation_changelist"), {"q": "1777"})
    # then
    assert "Zoekbaar &amp; Co" in response.content.decode()
    assert response.context["cl"].result_count == 1


def test_the_relation_list_filters_on_kind(client, administrator):
    PersonFactory(surname="Filtertest")
    response = client.get(reverse("admin:crm_relation_changelist"), {"kind__exact": "person"})
    assert all(r.kind == "person" for r in response.context["cl"].result_list)


def test_an_invalid_iban_typed_in_the_form_saves_nothing(client, administrator):
    # given
    url = reverse("admin:crm_relation_add")
    form = {"kind": "organisation", "organisation_name": "Half Opgeslagen B.V.",
            "iban": "NL00 FOUT 0000", "_save": "Opslaan"}
    # when
    response = client.post(url, form)
    # then
    assert response.status_code == 200
    assert "geen geldig IBAN" in response.content.decode()
    from integration.crm.models import Relation

    assert not Relation.objects.filter(organisation_name="Half Opgeslagen B.V.").exists()


def test_the_admin_speaks_english_to_a_browser_that_asks_for_it(client, administrator):
    """The English catalogue is committed compiled, so it works without gettext tools."""
    response = client.get(reverse("admin:crm_relation_changelist"),
                          headers={"accept-language": "en"})
    page = response.content.decode()
    assert "relations" in page.lower()
    assert "Debtor number" in page or "debtor number" in page.lower()
