"""The shortcuts of the engine decide exactly what the full comparison decides, only cheaper."""

from dataclasses import replace

import pytest

from integration.crm.models import Relation
from integration.digitalefactuur import mapping
from integration.digitalefactuur.mapping import (
    canonical_klant,
    fingerprint,
    raw_klant_hash,
    raw_relation_hash,
    to_klant,
)
from integration.digitalefactuur.plan import (
    ImportOptions,
    KindOption,
    LinkState,
    Outcome,
    PageSnapshot,
    export_state,
    plan_klant,
)
from integration.digitalefactuur.schema import DfKlant

ORGANISATION = KindOption("organisation", relation_type_id=None)


def linked_pair(*, with_raw_hashes=True):
    relation = Relation(pk=7, kind="organisation", organisation_name="Smederij",
                        debtor_number="1001", invoice_city="Leiden", invoice_country="NL",
                        iban="NL91ABNA0417164300")
    klant = replace(to_klant(relation, "debtor", "500").klant, id="500")
    link = LinkState(relation_id=7, kind="debtor", df_id="500",
                     sent_fingerprint=fingerprint(klant, "organisation"),
                     received_fingerprint=fingerprint(klant, "organisation"), last_klant=klant,
                     received_raw_hash=raw_klant_hash(klant) if with_raw_hashes else "",
                     relation_raw_hash=(raw_relation_hash(relation, "debtor")
                                        if with_raw_hashes else ""),
                     source_hash=raw_klant_hash(klant) if with_raw_hashes else "")
    return relation, klant, link


def plan(klant, relation, link, *, push=True):
    snapshot = PageSnapshot({link.df_id: link}, {relation.pk: relation},
                            {("debtor", relation.debtor_number): relation}, {})
    options = ImportOptions({"debtor": ORGANISATION}, push_enabled=push)
    return plan_klant(klant, snapshot, options, {})


def test_an_equal_raw_hash_is_unchanged_without_comparing_fingerprints():
    # given: a stored fingerprint that would say "changed", to prove it is not consulted
    relation, klant, link = linked_pair()
    link = replace(link, received_fingerprint="stale")

    # when
    decision = plan(klant, relation, link)

    # then
    assert decision.outcome is Outcome.UNCHANGED


def test_an_unknown_raw_hash_falls_back_to_the_fingerprints():
    # given
    relation, klant, link = linked_pair(with_raw_hashes=False)
    respelled = replace(klant, iban="nl91 abna 0417 1643 00")

    # when
    same, moved = plan(respelled, relation, link), plan(replace(klant, plaats="Katwijk"),
                                                        relation, link)

    # then: a spelling difference is no change, a new value is
    assert same.outcome is Outcome.UNCHANGED
    assert moved.outcome is Outcome.UPDATE_RELATION


def test_a_different_raw_klant_is_still_decided_three_ways():
    # given: both sides changed
    relation, klant, link = linked_pair()
    relation.organisation_name = "Smederij en Zonen"

    # when
    decision = plan(replace(klant, plaats="Katwijk"), relation, link)

    # then
    assert decision.outcome is Outcome.CONFLICT


def test_the_export_skips_a_relation_whose_raw_fields_are_unchanged():
    # given
    relation, _klant, link = linked_pair()

    # when
    export, sent, changed = export_state(relation, "debtor", link)
    relation.invoice_city = "Katwijk"
    _export, _sent, changed_after_edit = export_state(relation, "debtor", link)

    # then
    assert (export, sent, changed) == (None, link.sent_fingerprint, False)
    assert changed_after_edit


def test_the_raw_relation_hash_covers_the_number_of_the_kind():
    relation, _klant, _link = linked_pair()
    before = raw_relation_hash(relation, "debtor")
    relation.debtor_number = "1002"
    assert raw_relation_hash(relation, "debtor") != before


@pytest.mark.parametrize("klant", [
    DfKlant(relatienummer=" 1001 ", type="Debiteur", naam=" Smederij ", postcode="2311aa",
            land="nederland", iban="nl91 abna 0417 1643 00", bic="abnanl2a",
            btw_nummer="nl 123456789b01"),
    DfKlant(relatienummer="1001", postcode="not a postcode", land="Atlantis", iban="NL00 BAD",
            bic="??", btw_nummer="XX1"),
    DfKlant(relatienummer="1001", postcode=" 75001 ", land="FR", iban=""),
])
def test_the_canonical_shape_is_a_fixed_point(klant):
    shape = canonical_klant(klant, "organisation")
    assert canonical_klant(shape, "organisation") == shape
    assert fingerprint(shape, "organisation") == fingerprint(klant, "organisation")


def test_a_cached_invalid_value_still_warns_every_time():
    relation = Relation(kind="organisation", organisation_name="X", debtor_number="1001",
                        iban="NL00 BAD")
    mapping.clear_caches()
    first, second = to_klant(relation, "debtor"), to_klant(relation, "debtor")
    assert first.warnings and first.warnings == second.warnings
