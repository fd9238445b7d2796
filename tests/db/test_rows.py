"""integration/db/rows.py writes what Django's bulk_create / bulk_update write, value for value,
in one statement per table (as few as the parameter limit allows).

Each scenario writes the same objects twice, once through Django and once through `rows`, each
time inside a transaction that is rolled back after its rows were read back as the database
stores them (raw SELECT: JSON text, datetimes as stored, NULLs), so both see the same database.
Runs on SQLite and, with DATABASE_URL set to one, on PostgreSQL.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from integration.connectors.models import SyncEvent
from integration.crm.models import Relation
from integration.db import rows
from integration.digitalefactuur.links import AGREEMENT_FIELDS, COPY_FIELDS, DfLink
from tests.factories import (
    OrganisationFactory,
    PersonFactory,
    RelationTypeFactory,
    SyncRunFactory,
)

pytestmark = pytest.mark.django_db

#: The moments a test writes: microseconds, a zone other than UTC (stored as UTC).
MOMENT = datetime(2026, 3, 29, 1, 59, 59, 999_999, tzinfo=UTC)
AMSTERDAM = timezone.get_fixed_timezone(120)

#: JSON as the connector stores it, and what could go wrong in an encoding of its own.
PAYLOADS = [
    {},
    {"naam": "Café \"De Zwaan\" & Zn.", "plaats": "'s-Hertogenbosch", "leeg": ""},
    {"geneste": {"lijst": [1, 2.5, None, True, "€"]}, "getal": 10**15},
    {"regels": "een\ntwee\tdrie\\vier", "emoji": "🦢"},
]
SOURCES = [[], [["naam", "Zwaan"], ["adres", [["straat", "Dam 1"]]]]]


def stored(model, exclude=("id",)) -> list[tuple]:
    """The model's rows as the database stores them, ordered by id, without `exclude`."""
    columns = [field.column for field in model._meta.concrete_fields
               if field.column not in exclude]
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {', '.join(quote(c) for c in columns)} "  # noqa: S608 (names from the model)
                       f"FROM {quote(model._meta.db_table)} ORDER BY {quote('id')}")
        return cursor.fetchall()


def written(model, write, make, exclude=("id",)) -> list[tuple]:
    """The rows `write(make())` leaves, read back; the write is rolled back afterwards."""
    with transaction.atomic():
        write(make())
        rows_now = stored(model, exclude)
        transaction.set_rollback(True)
    return rows_now


def relations_to_write():
    """New relations of both kinds, with empty, accented and foreign-country values."""
    made = [OrganisationFactory.build(organisation_name=f"Zwaan {n} B.V.", debtor_number=str(n),
                                      invoice_street=f"Kerkstraat {n}",
                                      email="", vat_number="NL000099998B57" if n % 2 else "")
            for n in range(1, 60)]
    made += [PersonFactory.build(first_name="Zoë", surname_prefix="van 't", surname=f"Ĳssel {n}",
                                 private_street=f"Dorpsstraat {n}",
                                 private_country="BE" if n % 2 else "", creditor_number=f"C{n}")
             for n in range(1, 60)]
    relation_type = RelationTypeFactory()  # stored: only the relations are new
    for relation in made:
        relation.relation_type = relation_type
    return made


def test_new_relations_are_the_rows_bulk_create_writes_with_their_keys_set(
        django_assert_num_queries):
    # given
    before = timezone.now()

    # when
    by_django = written(Relation, Relation.objects.bulk_create, relations_to_write,
                        exclude=("id", "created_at", "updated_at"))
    ours = relations_to_write()
    with django_assert_num_queries(1):
        rows.insert(ours)

    # then: the same values; the primary keys are on the objects; auto_now(_add) applied
    assert stored(Relation, exclude=("id", "created_at", "updated_at")) == by_django
    assert {r.pk for r in ours} == set(Relation.objects.values_list("pk", flat=True))
    assert all(not r._state.adding and r._state.db == "default" for r in ours)
    made = {r.pk: r for r in ours}
    for relation in Relation.objects.all():
        assert before <= relation.created_at <= timezone.now()
        assert relation.created_at <= relation.updated_at
        # the moments set on the objects are the ones stored, to the microsecond
        assert (relation.created_at, relation.updated_at) == (
            made[relation.pk].created_at, made[relation.pk].updated_at)
    assert Relation.objects.get(pk=ours[-1].pk).surname == "Ĳssel 59"


def links_to_write(relations, first_id=1000):
    """Links with every JSON shape, aware datetimes in two zones, empty and full text."""
    return [DfLink(relation=relation, kind="debtor" if n % 2 else "creditor",
                   df_id=str(first_id + n),
                   number=relation.debtor_number, sent_fingerprint="f" * 64 if n % 3 else "",
                   last_payload=PAYLOADS[n % len(PAYLOADS)], source=SOURCES[n % len(SOURCES)],
                   source_hash="a" * 32,
                   synced_at=(MOMENT + timedelta(minutes=n)).astimezone(
                       AMSTERDAM if n % 2 else UTC))
            for n, relation in enumerate(relations)]


def test_links_are_the_rows_bulk_create_writes():
    # given
    relations = OrganisationFactory.create_batch(40)

    # when
    by_django = written(DfLink, DfLink.objects.bulk_create, lambda: links_to_write(relations))
    ours = links_to_write(relations)
    rows.insert(ours)

    # then
    assert stored(DfLink) == by_django
    assert sorted(link.pk for link in ours) == list(DfLink.objects.values_list("pk", flat=True))
    assert DfLink.objects.get(df_id="1002").last_payload == PAYLOADS[2]


def test_events_of_relations_saved_after_they_were_made_are_written_as_bulk_create_does():
    # given: events made before their relations had keys (as the import makes them)
    run = SyncRunFactory()

    def events_to_write():
        relations = relations_to_write()[:30]
        events = [SyncEvent(run=run, direction="import", action="aangemaakt",
                            relation=relation if n % 4 else None, external_id=str(n),
                            number=relation.debtor_number, kind="debtor",
                            name=relation.organisation_name, message="Ëén\nmelding" * (n % 2),
                            diff={"naam": ["", relation.organisation_name]} if n % 3 else {},
                            losing_values=PAYLOADS[n % len(PAYLOADS)],
                            created_at=MOMENT + timedelta(seconds=n))
                  for n, relation in enumerate(relations)]
        return relations, events

    def by_bulk_create(made):
        relations, events = made
        Relation.objects.bulk_create(relations)
        SyncEvent.objects.bulk_create(events)

    by_django = written(SyncEvent, by_bulk_create, events_to_write, exclude=("id", "relation_id"))

    # when
    relations, events = events_to_write()
    rows.insert(relations)
    rows.insert(events)

    # then: the same values, and each event holds its relation's new key (or none)
    assert stored(SyncEvent, exclude=("id", "relation_id")) == by_django
    assert list(SyncEvent.objects.values_list("relation_id", flat=True)) == [
        relations[n].pk if n % 4 else None for n in range(30)]
    assert [e.relation_id for e in events] == [
        e.relation.pk if e.relation else None for e in events]


def test_an_unsaved_related_object_is_refused_as_by_bulk_create():
    # given
    run = SyncRunFactory()
    unsaved = OrganisationFactory.build()

    # when / then
    with pytest.raises(ValueError):
        rows.insert([SyncEvent(run=run, direction="import", action="aangemaakt",
                               relation=unsaved)])
    assert not SyncEvent.objects.exists()


def test_an_upsert_writes_what_bulk_create_with_update_conflicts_writes():
    # given: links as stored, and a chunk that changes some and brings new ones
    relations = OrganisationFactory.create_batch(30)
    DfLink.objects.bulk_create(links_to_write(relations[:20]))
    kept = {link.pk: link for link in DfLink.objects.all()}

    def chunk():
        changed = []
        for n, link in enumerate(kept.values()):
            link = DfLink.objects.get(pk=link.pk)
            link.number = f"N{n}"
            link.last_payload = PAYLOADS[(n + 1) % len(PAYLOADS)]
            link.synced_at = MOMENT + timedelta(days=n)
            link.kind = "creditor"  # not an agreement field: stays as stored
            changed.append(link)
        new = links_to_write(relations[20:], first_id=2000)
        for n, link in enumerate(new):
            link.pk = max(kept) + 100 + n
        return changed + new

    by_django = written(DfLink, lambda links: DfLink.objects.bulk_create(
        links, update_conflicts=True, unique_fields=["id"], update_fields=AGREEMENT_FIELDS),
        chunk, exclude=())

    # when
    rows.upsert(chunk(), AGREEMENT_FIELDS)

    # then
    assert stored(DfLink, exclude=()) == by_django
    assert DfLink.objects.filter(kind="creditor").count() == sum(
        1 for link in links_to_write(relations) if link.kind == "creditor")


def test_an_update_writes_what_bulk_update_writes_and_nothing_else():
    # given: relations and links as stored, changed in a few fields as the import changes them
    relations = OrganisationFactory.create_batch(25, debtor_number="")
    for n, relation in enumerate(relations):
        relation.debtor_number = str(500 + n)
    Relation.objects.bulk_update(relations, ["debtor_number"])
    DfLink.objects.bulk_create(links_to_write(relations))
    pks = list(DfLink.objects.values_list("pk", flat=True))

    def copies():
        return [DfLink(pk=pk, source=SOURCES[n % 2] + [["regel", str(n)]],
                       source_hash=f"{n:032d}") for n, pk in enumerate(pks)]

    def changed_relations():
        changed = list(Relation.objects.order_by("pk"))
        for n, relation in enumerate(changed):
            relation.organisation_name = f"Nieuw 'n {n}" if n % 2 else ""
            relation.invoice_country = "DE"
            relation.updated_at = MOMENT.astimezone(AMSTERDAM)
        return changed

    fields = ["invoice_country", "organisation_name", "updated_at"]
    links_by_django = written(DfLink, lambda made: DfLink.objects.bulk_update(made, COPY_FIELDS),
                              copies, exclude=())
    relations_by_django = written(
        Relation, lambda made: Relation.objects.bulk_update(made, fields), changed_relations,
        exclude=())

    # when
    rows.update(copies(), COPY_FIELDS)
    rows.update(changed_relations(), fields)

    # then
    assert stored(DfLink, exclude=()) == links_by_django
    assert stored(Relation, exclude=()) == relations_by_django
    assert Relation.objects.filter(updated_at=MOMENT).count() == 25


def test_a_row_gone_meanwhile_is_not_written_by_an_update():
    # given
    relation = OrganisationFactory(debtor_number="1")
    link = DfLink.objects.create(relation=relation, kind="debtor", df_id="7")
    gone = DfLink(pk=link.pk + 1, source=[["naam", "weg"]], source_hash="b" * 32)

    # when
    rows.update([DfLink(pk=link.pk, source=[["naam", "hier"]], source_hash="c" * 32), gone],
                COPY_FIELDS)

    # then
    assert list(DfLink.objects.values_list("pk", "source", "source_hash", "df_id")) == [
        (link.pk, [["naam", "hier"]], "c" * 32, "7")]


@pytest.mark.skipif(connection.vendor != "sqlite",
                    reason="PostgreSQL has no parameter limit to split at")
def test_rows_over_the_parameter_limit_take_as_few_statements_as_it_allows(
        monkeypatch, django_assert_num_queries):
    # given: a limit (as an old SQLite's 999) that holds 7 events per statement
    run = SyncRunFactory()
    columns = len(SyncEvent._meta.concrete_fields) - 1  # the key comes from the database
    monkeypatch.setattr(connection.features, "max_query_params", 7 * columns + 3)
    events = [SyncEvent(run=run, direction="import", action="fout", number=str(n))
              for n in range(50)]

    # when
    with django_assert_num_queries(math.ceil(50 / 7)):
        rows.insert(events)

    # then
    assert list(SyncEvent.objects.values_list("number", flat=True)) == [str(n) for n in range(50)]
    assert [e.pk for e in events] == list(SyncEvent.objects.values_list("pk", flat=True))
