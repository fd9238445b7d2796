"""The export decides "unchanged" from plain values: a no-op resync with Bijwerken on reads the
relations' stored values and the links' raw hashes, never a relation, a link or a klant as a
model, and still sends exactly what changed."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from integration.connectors.models import SyncEvent, SyncRun
from integration.digitalefactuur.links import DfLink
from tests.factories import OrganisationFactory, PersonFactory

pytestmark = pytest.mark.django_db


def relations_of_every_shape():
    """Organisations and persons, debtors and creditors, with and without country, IBAN and a
    name in parts: every column the raw hash reads."""
    relations = [OrganisationFactory(debtor_number=f"11{n:02d}", organisation_name=f"Firma {n}",
                                     invoice_street=f"Kerkstraat {n}", invoice_country="BE")
                 for n in range(5)]
    relations.append(OrganisationFactory(debtor_number="1200", creditor_number="2200",
                                         organisation_name="Beide", iban="NL91ABNA0417164300"))
    relations.append(PersonFactory(first_name="Anna", surname_prefix="van der",
                                   surname="Berg", debtor_number="1300",
                                   private_street="Molenweg 3", private_country="NL"))
    return relations


def full_reads(queries) -> list[str]:
    """Reads of a relation or a link as a model: a relation's unmapped e-mail column, a link's
    kept copy (JSON)."""
    return [q["sql"] for q in queries.captured_queries
            if '"crm_relation"."email"' in q["sql"]
            or '"digitalefactuur_dflink"."source",' in q["sql"]
            or '"digitalefactuur_dflink"."last_payload"' in q["sql"]]


def test_a_no_op_resync_with_bijwerken_on_reads_values_only_and_sends_nothing(
        configure, df_sandbox, run_sync):
    # given
    df = configure(push=True)
    relations_of_every_shape()
    run_sync(df)
    df_sandbox.reset_counters()

    # when
    with CaptureQueriesContext(connection) as queries:
        run = run_sync(df)

    # then
    assert run.status == SyncRun.Status.SUCCEEDED
    assert df_sandbox.counters()["POST"] == 0
    assert full_reads(queries) == []
    assert run.counts["export"]["ongewijzigd"] == 8  # seven relations, one of them both kinds
    assert not SyncEvent.objects.filter(run=run, direction=SyncEvent.Direction.EXPORT).exists()


def test_among_unchanged_relations_only_the_changed_one_is_read_whole_and_sent(
        configure, df_sandbox, run_sync):
    # given
    df = configure(push=True)
    relations = relations_of_every_shape()
    run_sync(df)
    both = relations[5]
    both.organisation_name = "Beide, nu anders"
    both.save()
    df_sandbox.reset_counters()

    # when
    run = run_sync(df)

    # then: both klanten of that one relation, and nothing else
    assert df_sandbox.counters()["klant_updaten"] == 2
    events = SyncEvent.objects.filter(run=run, direction=SyncEvent.Direction.EXPORT)
    assert sorted((e.number, e.action) for e in events) == [
        ("1200", SyncEvent.Action.UPDATED), ("2200", SyncEvent.Action.UPDATED)]
    assert run.counts["export"]["ongewijzigd"] == 6
    names = {k["relatienummer"]: k["naam"] for k in df_sandbox.klanten()}
    assert names["1200"] == names["2200"] == "Beide, nu anders"


def test_a_link_without_a_raw_hash_is_decided_by_its_fingerprint(configure, df_sandbox,
                                                                  run_sync):
    # given: links from before the raw hash (an empty hash is unknown)
    df = configure(push=True)
    relations_of_every_shape()
    run_sync(df)
    DfLink.objects.update(relation_raw_hash="")
    df_sandbox.reset_counters()

    # when
    run = run_sync(df)

    # then: read whole, found unchanged by the fingerprint, nothing sent
    assert df_sandbox.counters()["POST"] == 0
    assert run.counts["export"]["ongewijzigd"] == 8
