"""The binder (links.py): one way to see a link, one way to agree, the links gone stale.

Both phases ask the binder; these scenarios hold it to what each phase relied on before.
"""

from dataclasses import replace

import pytest

from integration.digitalefactuur.importer import read_snapshot
from integration.digitalefactuur.links import DfLink, agree, stale_links, state_of
from integration.digitalefactuur.mapping import export_fingerprint
from integration.digitalefactuur.schema import DfKlant
from tests.factories import OrganisationFactory

pytestmark = pytest.mark.django_db

KLANT = DfKlant(id="501", relatienummer="1001", type="debiteur", naam="Drukkerij Letterzetter",
                plaats="Leiden")


def test_the_import_and_the_export_see_a_link_alike():
    """The importer's snapshot (plain values) and the exporter (the model) build one state."""
    # given a relation linked to its klant
    relation = OrganisationFactory(debtor_number="1001", organisation_name="Letterzetter")
    link = agree(DfLink(relation=relation, kind="debtor"), relation, "1001", KLANT,
                 sent_fingerprint=export_fingerprint(relation, "debtor"))
    link.save()

    # when each phase reads it
    seen_by_import = read_snapshot([KLANT]).links_by_df_id["501"]
    seen_by_export = state_of(DfLink.objects.get(pk=link.pk))

    # then both see the same link (the import adds its base only for a changed klant)
    assert seen_by_export.last_klant == KLANT
    assert seen_by_import == replace(seen_by_export, last_klant=seen_by_import.last_klant)


def test_a_link_made_without_an_agreed_crm_side_keeps_no_relation_hash():
    """A conflict linked by number (empty sent fingerprint) must still be sent by the export."""
    # given
    relation = OrganisationFactory(debtor_number="1001")

    # when
    link = agree(DfLink(relation=relation, kind="debtor"), relation, "1001", KLANT,
                 sent_fingerprint="")

    # then the CRM side is unknown, DigitaleFactuur's is what was read
    assert (link.sent_fingerprint, link.relation_raw_hash) == ("", "")
    assert link.df_id == "501" and link.received_fingerprint and link.received_raw_hash
    assert link.last_payload["naam"] == "Drukkerij Letterzetter"


def test_a_relation_that_lost_its_number_has_a_stale_link():
    # given two linked relations, one of which lost its Debiteurnummer
    kept = OrganisationFactory(debtor_number="1001")
    cleared = OrganisationFactory(debtor_number="1002")
    for relation, klant_id in ((kept, "501"), (cleared, "502")):
        DfLink.objects.create(relation=relation, kind="debtor", df_id=klant_id)
    cleared.debtor_number = ""
    cleared.save()

    # when / then
    assert [link.relation_id for link in stale_links()] == [cleared.pk]
    assert not stale_links([kept.pk]).exists()
