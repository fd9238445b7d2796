"""A person's name, both ways: invoiced by the whole name, imported into its parts, stable.

The manual maps Achternaam to Naam / Bedrijf; read literally, "Pieter van der Meer" would be
invoiced as "Meer". The connector sends the name as it heads a letter and splits an imported name
into voornaam, tussenvoegsel and achternaam (mapping.py, `PERSON_NAME`).
"""

import pytest

from integration.connectors.models import SyncEvent
from integration.crm.models import Relation
from tests.factories import PersonFactory

pytestmark = pytest.mark.django_db


def posts(counters: dict) -> int:
    return sum(counters.get(action, 0) for action in
               ("klant_aanmaken", "klant_updaten", "klant_verwijderen"))


def test_a_person_is_invoiced_by_the_whole_name_and_an_unchanged_person_sends_nothing(
        configure, df_sandbox, run_sync):
    # given a person with a tussenvoegsel, sent to DigitaleFactuur once
    df = configure(debtors="person", creditors=False, push=True)
    PersonFactory(first_name="Pieter", surname_prefix="van der", surname="Meer",
                  debtor_number="1001")
    first = run_sync(df)
    assert first.status == "geslaagd", first.message
    [klant] = df_sandbox.klanten()
    df_sandbox.reset_counters()

    # when the connector runs again, nothing having changed on either side
    second = run_sync(df)

    # then the klant carries the whole name, and the second run sent nothing
    assert klant["naam"] == "Pieter van der Meer"
    assert second.status == "geslaagd", second.message
    assert posts(df_sandbox.counters()) == 0
    assert second.counts["export"] == {"ongewijzigd": 1}


def test_a_person_from_digitalefactuur_is_split_and_round_trips_as_typed(
        configure, df_sandbox, run_sync):
    # given two persons typed in DigitaleFactuur: a common shape and one we cannot read
    df_sandbox.add_klant(relatienummer="1002", type="debiteur", naam="Karin de Graaf")
    df_sandbox.add_klant(relatienummer="1003", type="debiteur", naam="Graaf, K. de")
    df = configure(debtors="person", creditors=False, push=True)

    # when they are imported, and the connector runs once more
    first = run_sync(df)
    df_sandbox.reset_counters()
    second = run_sync(df)

    # then the first is split into its parts, the second kept whole in Achternaam
    karin = Relation.objects.get(debtor_number="1002")
    assert (karin.first_name, karin.surname_prefix, karin.surname) == ("Karin", "de", "Graaf")
    odd = Relation.objects.get(debtor_number="1003")
    assert (odd.first_name, odd.surname_prefix, odd.surname) == ("", "", "Graaf, K. de")
    # and DigitaleFactuur still holds both names exactly as they were typed, untouched
    assert first.status == second.status == "geslaagd", (first.message, second.message)
    assert sorted(k["naam"] for k in df_sandbox.klanten()) == ["Graaf, K. de", "Karin de Graaf"]
    assert posts(df_sandbox.counters()) == 0
    # and the log names the parts it wrote as the manual does
    event = SyncEvent.objects.get(run=first, number="1002", direction="import")
    assert set(event.diff) >= {"first_name", "surname_prefix", "surname"}


def test_a_name_changed_in_digitalefactuur_replaces_the_parts(configure, df_sandbox, run_sync):
    # given a person linked to a klant
    df = configure(debtors="person", creditors=False, push=True)
    person = PersonFactory(first_name="Karin", surname_prefix="de", surname="Graaf",
                           debtor_number="1004")
    run_sync(df)
    [klant] = df_sandbox.klanten()

    # when DigitaleFactuur renames her
    df_sandbox.update_klant(klant["id"], naam="Karin van den Berg")
    run_sync(df)

    # then the parts follow
    person.refresh_from_db()
    assert (person.first_name, person.surname_prefix, person.surname) == (
        "Karin", "van den", "Berg")
