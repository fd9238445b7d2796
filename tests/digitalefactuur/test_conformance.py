"""One scenario suite, every reading of the open API points (README, "What we do not assume").

Public sources leave open how DigitaleFactuur pages, whether it filters by number, what a write
answers, whether an update clears what it is not sent, whether a used number is refused, and
what its documents look like. The same scenario runs the whole engine against the real sandbox
server in each reading the sandbox plays, on its own and in the most hostile combinations:

- a first run: import (with klanten made outside a connector: no number, a duplicate number, no
  type) and export of new relations, a first match by number that PerfectView wins;
- a second run that sends nothing;
- changes on both sides: one only in PerfectView, one only in DigitaleFactuur, one in both
  (a conflict the import records), and a change push that meets a change in DigitaleFactuur
  (a conflict the push records), a linked klant deleted in DigitaleFactuur (created again);
- a last run that sends nothing;

and after each: no number created twice, and nothing DigitaleFactuur keeps beyond our mapping
(e-mail, telephone, mandate, the nested contact person with its own id) ever cleared. Sizes cross
page boundaries where the reading pages (7 a page).
"""

from collections import Counter

import pytest

from integration.connectors.models import SyncEvent, SyncRun
from integration.crm.models import Relation
from integration.digitalefactuur import sync
from integration.digitalefactuur.links import DfLink
from tests.factories import OrganisationFactory

pytestmark = pytest.mark.django_db

READINGS = {
    "documented": {},
    "small-pages": {"page_size": 7},
    "unpaged": {"listing": "unpaged"},
    "repeat-last": {"listing": "repeat_last", "page_size": 7},
    "filter-ignored": {"number_filter": "ignored", "page_size": 7},
    "filter-ignored-unpaged": {"number_filter": "ignored", "listing": "unpaged"},
    "answers-klanten": {"write_answer": "klanten"},
    "answers-id": {"write_answer": "id", "page_size": 7},
    "answers-text": {"write_answer": "text", "page_size": 7},
    "answers-empty-filter-ignored": {"write_answer": "empty", "number_filter": "ignored",
                                     "page_size": 7},
    "update-clears": {"update": "clear"},
    "duplicates-accepted": {"duplicates": "accepted"},
    "wild-documents": {"documents": "wild", "page_size": 7},
    "most-hostile": {"listing": "unpaged", "number_filter": "ignored", "write_answer": "id",
                     "update": "clear", "duplicates": "accepted"},
    "most-hostile-paged": {"listing": "repeat_last", "page_size": 7,
                           "number_filter": "ignored", "write_answer": "text",
                           "update": "clear", "duplicates": "accepted", "documents": "wild"},
}


def kept(n: int) -> dict:
    """What DigitaleFactuur keeps of klant n beyond our mapping: it must never be cleared."""
    return {"email": f"administratie{n}@voorbeeld.nl", "telefoonnummer": f"071-55500{n:02d}",
            "mandaat_kenmerk": f"MNDT-{n:04d}",
            "contactpersoon": {"id": str(9000 + n), "naam": f"Contact {n}",
                               "email": f"contact{n}@voorbeeld.nl"}}


def plant_account(sandbox) -> dict[str, dict]:
    """The account before the first run: debtors, creditors, and what a connector did not make.
    Returns the planted klanten by number (the duplicate under "dubbel")."""
    planted = {}
    for n in range(1, 10):
        planted[f"100{n}"] = sandbox.add_klant(
            relatienummer=f"100{n}", type="debiteur", naam=f"Debiteur {n}",
            adres=f"Haagweg {n}", postcode="2311 AA", plaats="Leiden", land="Nederland",
            **kept(n))
    for n in range(1, 4):
        planted[f"200{n}"] = sandbox.add_klant(
            relatienummer=f"200{n}", type="crediteur", naam=f"Crediteur {n}",
            adres=f"Dijk {n}", postcode="1011 AB", plaats="Amsterdam", land="Nederland",
            **kept(20 + n))
    # made outside a connector (an invoice): no type, no number, a number used twice
    planted["1010"] = sandbox.add_klant(relatienummer="1010", naam="Zonder type",
                                        plaats="Delft", **kept(10))
    planted["zonder"] = sandbox.add_klant(naam="Zonder nummer", email="los@voorbeeld.nl")
    planted["dubbel"] = sandbox.add_klant(relatienummer="1002", type="debiteur",
                                          naam="Dubbel van 1002", **kept(99))
    return planted


def klanten_by_id(sandbox) -> dict[int, dict]:
    return {int(k["id"]): k for k in sandbox.klanten()}


def assert_nothing_kept_was_cleared(sandbox, planted: dict[str, dict], gone=()) -> None:
    now = klanten_by_id(sandbox)
    for key, klant in planted.items():
        if klant["id"] in gone:
            continue
        current = now[int(klant["id"])]
        for element in ("email", "telefoonnummer", "mandaat_kenmerk", "contactpersoon"):
            if element in klant:
                assert current.get(element) == klant[element], (key, element, current)


def assert_no_number_twice(sandbox) -> None:
    numbers = Counter(k["relatienummer"] for k in sandbox.klanten() if k["relatienummer"])
    assert {n: c for n, c in numbers.items() if c > 1} == {"1002": 2}


def posts(sandbox, run_sync, df) -> tuple[SyncRun, int]:
    sandbox.reset_counters()
    run = run_sync(df)
    return run, sandbox.counters()["POST"]


@pytest.mark.parametrize("reading", list(READINGS.values()), ids=list(READINGS))
def test_the_engine_is_correct_under_every_reading(reading, configure, df_sandbox, run_sync):
    # given: DigitaleFactuur as the reading plays it, with klanten made inside and outside a
    # connector, and a CRM with new relations and one whose number DigitaleFactuur holds
    df_sandbox.set_readings(**reading)
    planted = plant_account(df_sandbox)
    for n in range(1, 9):
        OrganisationFactory(organisation_name=f"Nieuw {n}", debtor_number=f"110{n}")
    OrganisationFactory(organisation_name="Debiteur 3 volgens PerfectView", debtor_number="1003",
                        invoice_street="Haagweg 3", invoice_city="Leiden")
    df = configure(push=True)

    # when: the first run
    first = run_sync(df)

    # then: everything arrived once, the odd klanten are skipped with their reason
    assert first.status == SyncRun.Status.SUCCEEDED, first.message
    assert_no_number_twice(df_sandbox)
    klanten = klanten_by_id(df_sandbox)
    numbers = {k["relatienummer"] for k in klanten.values()}
    assert {f"110{n}" for n in range(1, 9)} <= numbers
    # the first match by number: PerfectView wins, and what the klant keeps stays
    assert klanten[int(planted["1003"]["id"])]["naam"] == "Debiteur 3 volgens PerfectView"
    assert_nothing_kept_was_cleared(df_sandbox, planted)
    linked = dict(DfLink.objects.values_list("number", "df_id"))
    assert linked["1002"] == str(planted["1002"]["id"])  # the lowest id of the two
    assert linked["1010"] == str(planted["1010"]["id"])  # no type: a debtor by its number
    assert set(linked) == ({f"100{n}" for n in range(1, 10)} | {"1010"}
                           | {f"200{n}" for n in range(1, 4)} | {f"110{n}" for n in range(1, 9)})
    for number, df_id in linked.items():
        assert int(df_id) in klanten, number
        assert klanten[int(df_id)]["relatienummer"] == number
    skipped = " ".join(SyncEvent.objects.filter(run=first, action="overgeslagen")
                       .values_list("message", flat=True))
    assert "Dubbel in DigitaleFactuur" in skipped
    assert str(planted["dubbel"]["id"]) in skipped and str(planted["1002"]["id"]) in skipped
    assert "geen relatienummer" in skipped
    assert Relation.objects.get(debtor_number="1004").organisation_name == "Debiteur 4"
    assert Relation.objects.get(creditor_number="2002").organisation_name == "Crediteur 2"

    # when / then: a second run sends nothing
    second, sent = posts(df_sandbox, run_sync, df)
    assert second.status == SyncRun.Status.SUCCEEDED, second.message
    assert sent == 0

    # given: a change only in PerfectView, one only in DigitaleFactuur, one in both
    only_crm = Relation.objects.get(debtor_number="1001")
    only_crm.invoice_street = "Nieuwe Rijn 1"
    only_crm.save()
    df_sandbox.update_klant(planted["1004"]["id"], naam="Debiteur 4 hernoemd")
    both = Relation.objects.get(debtor_number="1005")
    both.invoice_city = "Zoeterwoude"
    both.save()
    df_sandbox.update_klant(planted["1005"]["id"], naam="Debiteur 5 in DigitaleFactuur")

    # when
    third = run_sync(df)

    # then
    assert third.status == SyncRun.Status.SUCCEEDED, third.message
    klanten = klanten_by_id(df_sandbox)
    assert klanten[int(planted["1001"]["id"])]["adres"] == "Nieuwe Rijn 1"
    assert klanten[int(planted["1001"]["id"])]["type"] == "debiteur"
    assert Relation.objects.get(debtor_number="1004").organisation_name == "Debiteur 4 hernoemd"
    conflict = SyncEvent.objects.get(run=third, action="conflict", number="1005")
    assert conflict.losing_values == {"naam": "Debiteur 5 in DigitaleFactuur"}
    assert klanten[int(planted["1005"]["id"])]["naam"] == "Debiteur 5"  # PerfectView's
    assert klanten[int(planted["1005"]["id"])]["plaats"] == "Zoeterwoude"
    assert_nothing_kept_was_cleared(df_sandbox, planted)

    # given: a change push meets a change made in DigitaleFactuur since the last sync, to a
    # mapped value and to one we do not map
    pushed = Relation.objects.get(debtor_number="1006")
    pushed.invoice_street = "Breestraat 6"
    pushed.save()
    df_sandbox.update_klant(planted["1006"]["id"], naam="Debiteur 6 in DigitaleFactuur",
                            telefoonnummer="06-12345678")
    planted["1006"]["telefoonnummer"] = "06-12345678"

    # when
    push = sync.run(df.pk, SyncRun.Trigger.CHANGE, relation_ids=[pushed.pk])

    # then: a conflict with the value that lost, PerfectView's values, the new phone kept
    assert push.status == SyncRun.Status.SUCCEEDED, push.message
    conflict = SyncEvent.objects.get(run=push, action="conflict")
    assert conflict.losing_values == {"naam": "Debiteur 6 in DigitaleFactuur"}
    klant = klanten_by_id(df_sandbox)[int(planted["1006"]["id"])]
    assert (klant["naam"], klant["adres"]) == ("Debiteur 6", "Breestraat 6")
    assert klant["telefoonnummer"] == "06-12345678"
    assert klant["contactpersoon"] == kept(6)["contactpersoon"]

    # given: a linked klant deleted in DigitaleFactuur
    df_sandbox.delete_klant(planted["1007"]["id"])

    # when
    fourth = run_sync(df)

    # then: created again and linked to its new id
    assert fourth.status == SyncRun.Status.SUCCEEDED, fourth.message
    again = [k for k in df_sandbox.klanten() if k["relatienummer"] == "1007"]
    assert len(again) == 1 and again[0]["naam"] == "Debiteur 7"
    assert DfLink.objects.get(number="1007").df_id == str(again[0]["id"])
    recreated = SyncEvent.objects.get(run=fourth, number="1007")
    assert "Opnieuw aangemaakt" in recreated.message

    # when / then: a last run sends nothing, and nothing was duplicated or cleared
    last, sent = posts(df_sandbox, run_sync, df)
    assert last.status == SyncRun.Status.SUCCEEDED, last.message
    assert sent == 0
    assert_no_number_twice(df_sandbox)
    assert_nothing_kept_was_cleared(df_sandbox, planted, gone={planted["1007"]["id"]})


@pytest.mark.parametrize("reading", [
    {"number_filter": "ignored", "page_size": 7},
    {"page_size": 7, "number_filter": "ignored", "write_answer": "text",
     "duplicates": "accepted"},
    {"listing": "unpaged", "number_filter": "ignored", "write_answer": "id",
     "duplicates": "accepted"},
], ids=["filter-ignored", "filter-ignored-text-answers-duplicates-accepted", "most-hostile"])
def test_a_create_written_but_answered_late_or_garbled_is_never_made_twice(
        reading, configure, df_sandbox, run_sync, settings):
    """The sandbox stores three creates and then answers too late, and two with a garbled
    answer: the client cannot know they happened, the filter cannot be trusted, duplicates are
    not refused; the number is looked up in the whole account before anything is sent again."""
    # given
    settings.DIGITALEFACTUUR_READ_TIMEOUT = 0.5
    settings.DIGITALEFACTUUR_MAX_ATTEMPTS = 3
    settings.DIGITALEFACTUUR_RETRY_BUDGET = 10.0
    df_sandbox.set_readings(**reading)
    for n in range(10):  # so that what is created lands past the first page
        df_sandbox.add_klant(relatienummer=f"19{n:02d}", type="debiteur", naam=f"Oud {n}")
    df_sandbox.set_faults(timeout_seconds=1.5)
    df_sandbox.fail_next("klant_aanmaken", "timeout", count=3)
    df_sandbox.fail_next("klant_aanmaken", "garbled", count=2)
    for n in range(12):
        OrganisationFactory(organisation_name=f"Bedrijf {n}", debtor_number=f"13{n:02d}")
    df = configure(debtors=False, creditors=False, push=True)

    # when
    run = run_sync(df)
    again = run_sync(df)

    # then: every relation once in DigitaleFactuur, linked to it, and nothing more to send
    assert run.status == SyncRun.Status.SUCCEEDED, run.message
    numbers = Counter(k["relatienummer"] for k in df_sandbox.klanten()
                      if k["relatienummer"].startswith("13"))
    assert numbers == Counter({f"13{n:02d}": 1 for n in range(12)})
    assert sorted(DfLink.objects.values_list("number", flat=True)) == sorted(numbers)
    assert again.counts.get("export") in (None, {"ongewijzigd": 12})
