"""The plan on its own: the three-way table of DESIGN.md as plain functions, no database."""

from dataclasses import replace

import pytest

from integration.crm.models import Relation
from integration.digitalefactuur.mapping import fingerprint, to_klant
from integration.digitalefactuur.plan import (
    ImportOptions,
    KindOption,
    LinkState,
    Outcome,
    PageSnapshot,
    plan_klant,
)
from integration.digitalefactuur.schema import DfKlant

ORGANISATION = KindOption("organisation", relation_type_id=None)


def linked_pair(**relation_fields):
    """A relation and its klant, in agreement, linked as after a sync."""
    relation = Relation(pk=7, kind="organisation", organisation_name="Smederij",
                        debtor_number="1001", invoice_city="Leiden", **relation_fields)
    klant = replace(to_klant(relation, "debtor", "500").klant, id="500")
    link = LinkState(relation_id=7, kind="debtor", df_id="500",
                     sent_fingerprint=fingerprint(klant, "organisation"),
                     received_fingerprint=fingerprint(klant, "organisation"), last_klant=klant)
    return relation, klant, link


def plan(klant, relation, link, *, push):
    snapshot = PageSnapshot({link.df_id: link}, {relation.pk: relation},
                            {("debtor", relation.debtor_number): relation}, {})
    options = ImportOptions({"debtor": ORGANISATION}, push_enabled=push)
    return plan_klant(klant, snapshot, options, {})


@pytest.mark.parametrize(("crm_changed", "df_changed", "push", "expected"), [
    (False, False, True, Outcome.UNCHANGED),
    (False, True, True, Outcome.UPDATE_RELATION),
    (True, False, True, Outcome.UNCHANGED),  # the export phase sends it
    (True, True, True, Outcome.CONFLICT),
    (True, True, False, Outcome.UPDATE_RELATION),  # only import on: its side is applied
])
def test_the_three_way_table(crm_changed, df_changed, push, expected):
    # given
    relation, klant, link = linked_pair()
    if crm_changed:
        relation.organisation_name = "Smederij en Zonen"
    if df_changed:
        klant = replace(klant, plaats="Katwijk")

    # when
    decision = plan(klant, relation, link, push=push)

    # then
    assert decision.outcome is expected


def test_a_conflict_names_the_losing_values_and_leaves_the_relation_alone():
    # given
    relation, klant, link = linked_pair()
    relation.invoice_city = "Oegstgeest"
    klant = replace(klant, plaats="Katwijk")

    # when
    decision = plan(klant, relation, link, push=True)

    # then
    assert decision.losing_values == {"plaats": "Katwijk"}
    assert decision.diff == {"plaats": ["Katwijk", "Oegstgeest"]}
    assert relation.invoice_city == "Oegstgeest"


def test_a_klant_without_number_is_skipped_rather_than_made_unfindable():
    # given
    options = ImportOptions({"debtor": ORGANISATION}, push_enabled=False)

    # when
    decision = plan_klant(DfKlant(id="9", type="debiteur", naam="Zonder nummer"),
                          PageSnapshot({}, {}, {}, {}), options, {})

    # then
    assert decision.outcome is Outcome.SKIP and "geen relatienummer" in decision.message


def test_the_same_number_twice_on_a_page_makes_one_relation_and_names_the_duplicate():
    # given
    options = ImportOptions({"debtor": ORGANISATION}, push_enabled=False)
    snapshot, claimed = PageSnapshot({}, {}, {}, {}), {}
    first = DfKlant(id="1", relatienummer="1001", type="debiteur", naam="Een")
    second = DfKlant(id="2", relatienummer="1001", type="debiteur", naam="Twee")

    # when
    decisions = [plan_klant(k, snapshot, options, claimed) for k in (first, second)]

    # then: the second is skipped, and the log names both ids for the administrator to merge
    assert [d.outcome for d in decisions] == [Outcome.CREATE_RELATION, Outcome.SKIP]
    assert "Dubbel in DigitaleFactuur" in decisions[1].message
    assert "klant 2" in decisions[1].message and "klant 1" in decisions[1].message
