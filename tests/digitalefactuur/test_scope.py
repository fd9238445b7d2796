"""Bijwerken's scope: "alleen relaties van deze relatietypen" (default: every type)."""

import pytest

from integration.connectors.models import SyncEvent, SyncRun
from integration.crm.models import Relation
from integration.digitalefactuur import sync
from integration.digitalefactuur.links import DfLink, relations_to_push
from tests.factories import OrganisationFactory, RelationTypeFactory

pytestmark = pytest.mark.django_db


def numbers_in(sandbox) -> set[str]:
    return {k["relatienummer"] for k in sandbox.klanten()}


def test_without_a_choice_every_type_goes_out(configure, df_sandbox, run_sync):
    # given
    df = configure(debtors=False, creditors=False, push=True)
    OrganisationFactory(debtor_number="1001", relation_type=RelationTypeFactory(name="Klant"))
    OrganisationFactory(debtor_number="1002", relation_type=RelationTypeFactory(name="Suspect"))

    # when
    run = run_sync(df)

    # then
    assert run.status == SyncRun.Status.SUCCEEDED, run.message
    assert numbers_in(df_sandbox) == {"1001", "1002"}


def test_suspects_never_reach_digitalefactuur_and_the_run_says_why(configure, df_sandbox,
                                                                   run_sync):
    # given only Klant in scope
    klant, suspect = RelationTypeFactory(name="Klant"), RelationTypeFactory(name="Suspect")
    df = configure(debtors=False, creditors=False, push=True)
    df.push_relation_types.set([klant])
    OrganisationFactory(debtor_number="1001", relation_type=klant)
    OrganisationFactory(debtor_number="1002", relation_type=suspect)

    # when
    preview = sync.preview(df.pk, "cli")
    run = run_sync(df)

    # then the suspect is not sent; the preview names it, the run counts it, with the reason
    assert numbers_in(df_sandbox) == {"1001"}
    assert "buiten Bijwerken" in run.message and "Klant" in run.message
    left_out = [e for e in preview.events if e.action == SyncEvent.Action.SKIPPED]
    assert [e.number for e in left_out] == ["1002"]
    assert "Suspect" in left_out[0].message


def test_a_relation_that_leaves_the_scope_keeps_its_link_and_is_no_longer_sent(
        configure, df_sandbox, run_sync):
    # given a relation sent while it was a Klant
    klant, suspect = RelationTypeFactory(name="Klant"), RelationTypeFactory(name="Suspect")
    df = configure(debtors=False, creditors=False, push=True)
    df.push_relation_types.set([klant])
    relation = OrganisationFactory(debtor_number="1001", relation_type=klant,
                                   organisation_name="Eerst een klant")
    run_sync(df)

    # when it becomes a Suspect and changes
    Relation.objects.filter(pk=relation.pk).update(relation_type=suspect,
                                                   organisation_name="Nu een suspect")
    df_sandbox.reset_counters()
    run = run_sync(df)

    # then nothing is sent or deleted, the link stays, and a change push skips it too
    assert run.status == SyncRun.Status.SUCCEEDED, run.message
    assert df_sandbox.counters()["POST"] == 0
    assert [k["naam"] for k in df_sandbox.klanten()] == ["Eerst een klant"]
    assert DfLink.objects.filter(relation=relation).exists()
    assert relations_to_push([relation.pk], df) == []
