"""Proof 1, faults: a large sync against a DigitaleFactuur that errs, times out, garbles and rate
limits converges within three runs, loses nothing, duplicates nothing, and logs every failure.

Sizes and rates come from the environment (tests/proofs/conftest.py): 2,000 records in
`make test`, 10,000 in `make soak`; 5 % server errors, 2 % timeouts, 1 % garbled bodies and a
rate limit with Retry-After unless PROOF_* says otherwise.
"""

from __future__ import annotations

import pytest

from integration.connectors.models import SyncEvent, SyncRun
from integration.digitalefactuur import sync
from integration.digitalefactuur.links import DfLink
from tests.proofs.conftest import (
    ERROR_RATE,
    FAULT_RECORDS,
    FAULT_SEED,
    GARBLED_RATE,
    RATE_LIMIT,
    SOAK,
    TIMEOUT_RATE,
    crm_numbers,
    crm_relations,
    duplicates,
    importable,
    sandbox_numbers,
)

MAX_RUNS = 3

def run_until_converged(df, max_runs: int) -> list[SyncRun]:
    runs = []
    for _ in range(max_runs):
        runs.append(sync.run(df.pk, "cli"))
        if runs[-1].status == SyncRun.Status.SUCCEEDED:
            break
    return runs


def assert_every_failure_is_logged(runs: list[SyncRun], faults: dict) -> None:
    """Each failed record is an event with a reason; a run that stopped says why."""
    for run in runs:
        errors = SyncEvent.objects.filter(run=run, action=SyncEvent.Action.ERROR)
        assert all(event.message.strip() for event in errors), run
        failed_in_counts = sum(per.get("fout", 0) for per in run.counts.values())
        assert errors.count() == failed_in_counts, (run, run.counts)
        if run.status == SyncRun.Status.FAILED:
            assert run.message.strip(), run
        if run.status == SyncRun.Status.WITH_ERRORS:
            assert errors.exists() and run.message.strip(), run
    assert sum(faults.values()) > 0, "the sandbox injected no fault: the proof proved nothing"


def sync_under_faults(sandbox, connector, *, garbled_rate: float):
    # given: half of the records in DigitaleFactuur, half in the CRM, faults switched on
    seeded = FAULT_RECORDS // 2
    sandbox.seed(seeded, seed=FAULT_SEED)
    crm_relations(FAULT_RECORDS - seeded)
    expected = importable(sandbox_numbers(sandbox)) | set(crm_numbers())
    df = connector(push=True)
    sandbox.set_faults(error_rate=ERROR_RATE, timeout_rate=TIMEOUT_RATE,
                       garbled_rate=garbled_rate, rate_limit=RATE_LIMIT,
                       retry_after_seconds=1, timeout_seconds=0.6, fault_seed=FAULT_SEED)

    # when
    runs = run_until_converged(df, MAX_RUNS)
    faults = sandbox.counters()["faults"]
    sandbox.set_faults(error_rate=0, timeout_rate=0, garbled_rate=0, rate_limit=0)

    # then: converged, none lost, none twice, every failure logged
    statuses = [(run.status, run.message[:200]) for run in runs]
    assert runs[-1].status == SyncRun.Status.SUCCEEDED, (statuses, faults)
    in_crm, in_sandbox = crm_numbers(), sandbox_numbers(sandbox)
    assert duplicates(in_crm) == {} and duplicates(in_sandbox) == {}
    assert set(in_crm) == expected
    assert importable(in_sandbox) == expected
    assert DfLink.objects.count() == len(expected)
    assert_every_failure_is_logged(runs, faults)
    return runs, faults


@pytest.mark.django_db
def test_a_sync_under_all_faults_converges_within_three_runs_and_loses_or_doubles_nothing(
        sandbox, connector):
    """All faults of the issue at once, garbled bodies included."""
    sync_under_faults(sandbox, connector, garbled_rate=GARBLED_RATE)


@pytest.mark.django_db
@pytest.mark.skipif(not SOAK, reason="soak only (make soak): the proof with every fault at once "
                                     "runs in make test")
def test_a_sync_under_errors_timeouts_and_rate_limits_converges_and_loses_or_doubles_nothing(
        sandbox, connector):
    """The same without garbled bodies, so that a regression in the retry and lookup paths is
    told apart from one in the handling of unreadable answers."""
    _runs, faults = sync_under_faults(sandbox, connector, garbled_rate=0)
    assert faults["timeout"] > 0 and faults["error"] > 0
