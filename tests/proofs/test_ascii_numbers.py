"""Proof, ASCII numbers: a Debiteurnummer, Crediteurnummer or Account-id is the digits 0-9 and
nothing else, wherever it comes from: the relation form, model validation, the settings screen,
`manage.py digitalefactuur configure`, and a klant's relatienummer read by the import.

Found by an independent probe (issue 15): `\\d` and `str.isdigit()` take other scripts' digits
(`１０００１`, `١٢٣٤٥`) for digits, and the import stored any relatienummer as it came
(`1831' OR '1'='1`).
"""

from __future__ import annotations

import io

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from integration.connectors.models import SyncEvent, SyncRun
from integration.crm.models import Relation
from integration.digitalefactuur import sync
from integration.digitalefactuur.models import DigitaleFactuurSettings
from tests.factories import OrganisationFactory, UserFactory

NOT_NUMBERS = ["١٢٣٤٥", "１０００１", "12³", "1831' OR '1'='1", "18%", "1_", " 1 2"]


@pytest.fixture
def administrator(db) -> Client:
    browser = Client()
    browser.force_login(UserFactory(is_superuser=True))
    return browser


@pytest.mark.django_db
@pytest.mark.parametrize("number", NOT_NUMBERS)
@pytest.mark.parametrize("field", ["debtor_number", "creditor_number"])
def test_the_relation_form_and_the_model_refuse_a_number_that_is_not_ascii_digits(
        administrator, field, number):
    # when the number is typed in the relation form, and validated on the model
    answer = administrator.post(reverse("admin:crm_relation_add"), {
        "kind": "organisation", "organisation_name": "Cijfers B.V.", field: number})
    with pytest.raises(ValidationError) as refused:
        OrganisationFactory.build(**{field: number}).full_clean()

    # then both refuse it with the Dutch message, and nothing is saved
    assert answer.status_code == 200
    assert "Alleen cijfers, bijvoorbeeld 1001." in answer.content.decode()
    assert field in refused.value.message_dict
    assert not Relation.objects.exists()


@pytest.mark.django_db
def test_ascii_digits_are_a_number(administrator):
    """The refusals above are the characters' doing."""
    answer = administrator.post(reverse("admin:crm_relation_add"), {
        "kind": "organisation", "organisation_name": "Cijfers B.V.", "debtor_number": "12345"})
    assert answer.status_code == 302
    assert Relation.objects.get().debtor_number == "12345"


@pytest.mark.django_db
@pytest.mark.parametrize("account_id", ["１０００１", "١٢٣٤٥", "10001²"])
def test_the_settings_screen_and_the_cli_refuse_an_account_id_of_other_digits(administrator,
                                                                             account_id):
    # when the Account-id is typed on the screen, and given to `configure`
    answer = administrator.post(reverse("digitalefactuur:settings"), {
        "active": "on", "account_id": account_id, "access_code": "code-1234"})
    err = io.StringIO()
    with pytest.raises(SystemExit) as exited:
        call_command("digitalefactuur", "configure", "--account-id", account_id,
                     stdout=io.StringIO(), stderr=err)

    # then both refuse it in Dutch and store nothing
    assert answer.status_code == 200 and "Niet opgeslagen" in answer.content.decode()
    assert "Het Account-id bestaat alleen uit cijfers" in answer.content.decode()
    assert exited.value.code == 1 and "Het Account-id bestaat alleen uit cijfers" in err.getvalue()
    assert DigitaleFactuurSettings.load().account_id == ""


@pytest.mark.django_db
def test_the_import_stores_no_relatienummer_that_is_not_a_number(sandbox, connector):
    # given klanten whose relatienummers are not numbers, and one that is
    for number in ("1831' OR '1'='1", "18%", "1_", "١٢٣٤٥"):
        sandbox.add_klant(relatienummer=number, type="debiteur", naam=f"Klant {number}")
    sandbox.add_klant(relatienummer="1832", type="debiteur", naam="Gewone Klant")
    df = connector(push=False)

    # when a run imports them
    run = sync.run(df.pk, "cli")

    # then only the number became a Debiteurnummer; each other klant is an error that says why
    # (The run's status is the engine's: today an import error does not make it "met fouten".)
    assert run.status != SyncRun.Status.FAILED, run.message
    assert list(Relation.objects.values_list("debtor_number", flat=True)) == ["1832"]
    failed = SyncEvent.objects.filter(run=run, action="fout")
    assert failed.count() == 4
    assert all("is geen nummer" in event.message for event in failed)
