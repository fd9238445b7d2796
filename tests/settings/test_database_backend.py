"""SQLite is used with the host-parameter limit of the library it runs on, not Django's 999."""

import sqlite3

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from integration.crm.models import Relation
from tests.factories import OrganisationFactory, RelationTypeFactory

pytestmark = pytest.mark.django_db


def test_sqlite_allows_as_many_parameters_as_its_library_does():
    if connection.vendor != "sqlite":
        pytest.skip("SQLite only: PostgreSQL has no such limit in Django")
    # given: the library's own limit
    probe = sqlite3.connect(":memory:")
    try:
        limit = probe.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
    finally:
        probe.close()

    # then
    assert connection.features.max_query_params == max(999, limit)


def test_a_page_of_relations_is_inserted_with_one_statement():
    # given: a page of 100 new relations, some 30 columns each (over 999 parameters)
    relation_type = RelationTypeFactory()
    relations = [OrganisationFactory.build(relation_type=relation_type) for _ in range(100)]

    # when
    with CaptureQueriesContext(connection) as queries:
        Relation.objects.bulk_create(relations)

    # then
    inserts = [q for q in queries.captured_queries if q["sql"].startswith("INSERT")]
    assert len(inserts) == 1
    assert Relation.objects.count() == 100
