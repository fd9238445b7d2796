"""A relation without a name (a klant imported with an empty `naam`) is a relation like any other:
every page that shows it answers, and the administrator can give it a name or delete it.

Found by an independent probe (issue 15): `Relation.__str__` returned a lazy translation for a
nameless relation, so every page that printed it answered 500.
"""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from integration.connectors.models import SyncRun
from integration.crm.models import Relation
from integration.digitalefactuur import sync
from tests.factories import UserFactory

NAMELESS_KLANT = {"relatienummer": "1999", "type": "debiteur", "naam": ""}


@pytest.fixture
def administrator(db) -> Client:
    browser = Client(raise_request_exception=False)
    browser.force_login(UserFactory(is_superuser=True))
    return browser


@pytest.fixture
def nameless(sandbox, connector):
    """The nameless klant imported by a real run; (relation, run)."""
    sandbox.add_klant(**NAMELESS_KLANT)
    df = connector(push=False)
    run = sync.run(df.pk, "cli")
    assert run.status == SyncRun.Status.SUCCEEDED, run.message
    return Relation.objects.get(debtor_number="1999"), run


def form_data(relation: Relation, **changes) -> dict:
    data = {"kind": relation.kind, "organisation_name": relation.organisation_name,
            "relation_type": relation.relation_type_id or "",
            "debtor_number": relation.debtor_number}
    return {**data, **changes}


@pytest.mark.django_db
def test_a_nameless_relation_is_text_and_every_page_that_shows_it_answers(nameless,
                                                                           administrator):
    # given a relation imported without a name
    relation, run = nameless

    # when its pages are opened
    pages = [
        reverse("admin:crm_relation_changelist"),
        reverse("admin:crm_relation_change", args=[relation.pk]),
        reverse("admin:crm_relation_history", args=[relation.pk]),
        reverse("admin:crm_relation_delete", args=[relation.pk]),
        reverse("connectors:run", args=["digitalefactuur", run.pk]),
    ]
    answers = {url: administrator.get(url) for url in pages}

    # then it is text ("(naamloos)"), and every page shows it
    assert isinstance(str(relation), str) and str(relation) == "(naamloos)"
    assert {url: answer.status_code for url, answer in answers.items()} == dict.fromkeys(
        pages, 200)
    assert "(naamloos)" in answers[pages[0]].content.decode()


@pytest.mark.django_db
def test_an_empty_name_typed_on_an_existing_relation_is_a_dutch_form_error(nameless,
                                                                          administrator):
    # given the nameless relation
    relation, _run = nameless
    url = reverse("admin:crm_relation_change", args=[relation.pk])

    # when it is saved without an organisation name, or as a person without a surname
    as_organisation = administrator.post(url, form_data(relation))
    as_person = administrator.post(url, form_data(relation, kind="person", first_name="Piet"))

    # then each time the form says what is missing, in Dutch, and nothing changed
    assert as_organisation.status_code == 200
    assert "Vul de organisatienaam in." in as_organisation.content.decode()
    assert as_person.status_code == 200
    assert "Vul de achternaam in." in as_person.content.decode()
    relation.refresh_from_db()
    assert (relation.kind, relation.first_name) == ("organisation", "")


@pytest.mark.django_db
def test_a_nameless_relation_can_be_repaired_and_deleted(nameless, administrator):
    # given the nameless relation
    relation, _run = nameless
    change = reverse("admin:crm_relation_change", args=[relation.pk])

    # when the administrator gives it a name, then deletes it
    repaired = administrator.post(change, form_data(relation, organisation_name="Hersteld B.V."))
    relation.refresh_from_db()
    named = relation.organisation_name
    deleted = administrator.post(reverse("admin:crm_relation_delete", args=[relation.pk]),
                                 {"post": "yes"})

    # then both are done, each answered with the admin's redirect
    assert (repaired.status_code, named) == (302, "Hersteld B.V.")
    assert deleted.status_code == 302
    assert not Relation.objects.filter(pk=relation.pk).exists()
