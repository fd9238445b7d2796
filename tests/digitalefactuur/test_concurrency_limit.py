"""How the adaptive limit moves (concurrency.AdaptiveLimit): a slow start until DigitaleFactuur
first refuses or does not answer, then additive increase and multiplicative decrease; and the
account's full read before an export reading its pages further ahead than the import."""

import logging

import pytest

from integration.connectors.models import SyncRun
from integration.crm.models import Relation
from integration.digitalefactuur.concurrency import (
    ACCOUNT_READ_AHEAD,
    GROW_AFTER,
    AdaptiveLimit,
)
from integration.digitalefactuur.errors import RateLimited, Timeout
from tests.factories import OrganisationFactory

pytestmark = pytest.mark.django_db


def test_until_the_first_refusal_every_answer_allows_one_more_request_in_flight():
    # given
    limit = AdaptiveLimit(cap=8)

    # when
    seen = []
    for _answer in range(10):
        limit.answered(None)
        seen.append(limit.limit)

    # then: doubling every round trip (1, 2, 4, 8 answered in turn), held at the cap
    assert seen == [2, 3, 4, 5, 6, 7, 8, 8, 8, 8]


def test_after_a_429_the_limit_halves_and_grows_by_one_per_run_of_answers():
    # given
    limit = AdaptiveLimit(cap=8)
    for _answer in range(5):
        limit.answered(None)
    assert limit.limit == 6

    # when
    limit.answered(RateLimited(code=429, retry_after=1))
    halved = limit.limit
    grown = []
    for _answer in range(GROW_AFTER * 2 * 2):
        limit.answered(None)
        grown.append(limit.limit)

    # then: the slow start is over; patience doubled by the 429
    assert halved == 3
    assert grown[GROW_AFTER * 2 - 2] == 3
    assert grown[GROW_AFTER * 2 - 1] == 4
    assert grown[-1] == 5


def test_after_a_timeout_the_limit_is_one_and_grows_additively():
    # given
    limit = AdaptiveLimit(cap=8)
    for _answer in range(3):
        limit.answered(None)

    # when
    limit.answered(Timeout("no answer"))
    after = []
    for _answer in range(GROW_AFTER):
        limit.answered(None)
        after.append(limit.limit)

    # then
    assert after == [1] * (GROW_AFTER - 1) + [2]


def test_an_export_without_limit_reaches_the_cap_within_the_first_answers(
        configure, df_sandbox, run_sync, settings, caplog):
    # given
    caplog.set_level(logging.INFO, logger="integration.digitalefactuur.concurrency")
    settings.DIGITALEFACTUUR_CONCURRENCY = 8
    df = configure(debtors=False, creditors=False, push=True)
    for n in range(40):
        OrganisationFactory(debtor_number=f"19{n:02d}", organisation_name=f"Bedrijf {n}")

    # when
    run = run_sync(df)

    # then: one more after each of the first seven answers, never less
    changes = [(record.df_concurrency_was, record.df_concurrency, record.df_concurrency_after)
               for record in caplog.records if hasattr(record, "df_concurrency")]
    assert changes == [(n, n + 1, "success") for n in range(1, 8)]
    assert run.counts == {"export": {"aangemaakt": 40}}


def test_the_full_read_before_an_export_reads_ahead_and_ends_as_the_sequential_one(
        configure, df_sandbox, run_sync, settings):
    """The import is off, so the export reads the account itself, with ACCOUNT_READ_AHEAD
    pages ahead: the same outcome as one page at a time, and at most that many pages read past
    the end of the list."""
    found = {}
    for cap in (1, 8):
        # given: ten full pages and a short one
        Relation.objects.all().delete()
        df_sandbox.reset()
        settings.DIGITALEFACTUUR_CONCURRENCY = cap
        df = configure(debtors=False, creditors=False, push=True)
        df_sandbox.seed(1050)
        OrganisationFactory(debtor_number="1999", organisation_name="Nieuw")
        df_sandbox.reset_counters()

        # when
        run = run_sync(df)

        # then
        found[cap] = (run.status, run.counts, df_sandbox.counters()["klant_aanmaken"],
                      df_sandbox.counters()["klanten"])

    sequential, ahead = found[1], found[8]
    assert ahead[:3] == sequential[:3] == (SyncRun.Status.SUCCEEDED,
                                            {"export": {"aangemaakt": 1}}, 1)
    assert sequential[3] <= ahead[3] <= sequential[3] + ACCOUNT_READ_AHEAD
