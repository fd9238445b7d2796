"""Stored messages with parameters in the reader's language (issue 16): a run's notes are kept as
codes with parameters; an event's message, and a note stored before that, are recognised as our
messages when shown. An English browser reads them in English."""

import pytest
from django.utils import translation

from integration.connectors import outcomes
from integration.connectors.models import SyncEvent
from integration.digitalefactuur import sync
from tests.connectors_log.conftest import run_url
from tests.factories import SyncEventFactory, SyncRunFactory

pytestmark = pytest.mark.django_db

KLANT = {"type": "debiteur", "adres": "Haagweg 4", "postcode": "2311 AA", "plaats": "Leiden",
         "land": "Nederland"}


def english(client, run) -> str:
    return client.get(run_url(run), HTTP_ACCEPT_LANGUAGE="en").content.decode()


def test_a_run_note_and_an_event_with_parameters_read_in_english(configure, sandbox, df_client):
    # given three linked klanten, one since deleted in DigitaleFactuur, and an account whose
    # list repeats its last page instead of ending
    df = configure(push=False)
    klanten = [sandbox.add_klant(relatienummer=f"100{n}", naam=f"Klant {n}", **KLANT)
               for n in range(1, 4)]
    assert sync.run(df.pk, "cli").status == "geslaagd"
    sandbox.delete_klant(klanten[0]["id"])
    sandbox.set_readings(listing="repeat_last")

    # when the next run unlinks it and notes how the list ended
    run = sync.run(df.pk, "cli")

    # then the note is stored as its code with its parameters
    assert run.status == "geslaagd", run.message
    assert {"code": outcomes.part(
        "DigitaleFactuur gaf na pagina %(page)d geen nieuwe klanten meer (het account antwoordt "
        "alle klanten in één keer, of herhaalt de laatste pagina); de lijst is als volledig "
        "gelezen beschouwd.")["code"], "params": {"page": 1}} in run.message_parts
    event = SyncEvent.objects.get(run=run, action="overgeslagen")
    assert event.message.startswith(f"De klant (id {klanten[0]['id']}) staat niet meer")
    # and an English browser reads both in English, a Dutch one in Dutch
    page = english(df_client, run)
    assert "DigitaleFactuur gave no new customers after page 1" in page
    assert (f"The customer (id {klanten[0]['id']}) is no longer in DigitaleFactuur; the link "
            "was removed.") in page
    assert "staat niet meer" not in page and "geen nieuwe klanten" not in page
    dutch = df_client.get(run_url(run), HTTP_ACCEPT_LANGUAGE="nl").content.decode()
    assert "staat niet meer in DigitaleFactuur" in dutch


def test_messages_stored_as_dutch_text_by_an_earlier_version_read_in_english(configure,
                                                                            df_client):
    # given a run whose note was stored as text, and an event of two messages, one with
    # parameters, and a stretch that is none of ours
    configure()
    note = "3 factuur/facturen konden niet worden gelezen en zijn overgeslagen."
    run = SyncRunFactory(status="geslaagd", message=note,
                         message_parts=[{"code": note, "params": {}}])
    SyncEventFactory(run=run, action="fout", message=(
        "Het relatienummer 1001 is in PerfectView al in gebruik bij een andere relatie "
        "(Bakkerij De Korrel). Dit zei de server zelf."))

    # when an English browser reads the run
    page = english(df_client, run)

    # then what is ours reads in English, with its values; the rest as stored
    assert "3 invoice(s) could not be read and were skipped." in page
    assert ("The relation number 1001 is already used in PerfectView by another relation "
            "(Bakkerij De Korrel). Dit zei de server zelf.") in page


def test_several_warnings_of_one_record_are_each_recognised_with_their_own_values():
    # given an event's message as the import writes it: three warnings joined
    stored = ("IBAN 'NL00 XXXX' is niet geldig; overgenomen zoals het is. Land 'Atlantis' is "
              "onbekend; het land is leeg gelaten. Postcode '12' is niet geldig; overgenomen "
              "zoals het is.")

    # when it is shown to an English reader, and to a Dutch one
    with translation.override("en"):
        english = outcomes.shown(stored)
    with translation.override("nl"):
        dutch = outcomes.shown(stored)

    # then each warning is translated with its own value, none swallowing the next
    assert english == ("IBAN 'NL00 XXXX' is not valid; copied as it is. Country 'Atlantis' is "
                       "unknown; the country has been left empty. Postcode '12' is not valid; "
                       "copied as it is.")
    assert dutch == stored
