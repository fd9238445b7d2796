"""The benchmark's smoke run: every scenario at N = 200 still runs and reports its figures.

Benchmarks are not tests: nothing here looks at a duration or a ratio, only at the shape of the
JSON `python -m bench --smoke` writes (every scenario present, each row with a number, or a
reason when a variant could not run here, such as Redis).
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench.scenarios import SCENARIOS

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def smoke_report(tmp_path_factory):
    path = tmp_path_factory.mktemp("bench") / "smoke.json"
    completed = subprocess.run([sys.executable, "-m", "bench", "--smoke", "--json", str(path)],
                               cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert completed.returncode == 0, completed.stderr[-3000:]
    return json.loads(path.read_text()), completed.stdout


def test_every_scenario_reports_rows_with_figures(smoke_report):
    # given the smoke run's JSON
    report, _stdout = smoke_report

    # then every scenario ran and each row holds a number, unless it says why it could not
    assert set(report["scenarios"]) == {str(number) for number in SCENARIOS}
    for number, scenario in report["scenarios"].items():
        assert not scenario["skipped"], (number, scenario["skipped"])
        assert scenario["rows"], number
        for row in scenario["rows"]:
            if row["ours"] is None:
                # a variant that could not run here (no Redis), or a run that did not succeed
                assert row["note"], (number, row)
            else:
                assert isinstance(row["ours"], int | float), (number, row)
                assert row["target"] == "" or row["passed"] in (True, False), (number, row)


def test_the_report_says_when_and_where_it_ran(smoke_report):
    # given
    report, stdout = smoke_report

    # then
    assert report["date"] and report["machine"]["cpus"] >= 1
    assert report["options"]["n"] == 200
    # and the tables went to stdout, one per scenario
    for number in SCENARIOS:
        assert f"\n== {number}. " in stdout


def test_the_sandbox_counts_the_floor_of_every_timed_import(smoke_report):
    """The baselines did the floor's work: the same GETs, and the same relations inserted."""
    # given
    report, _stdout = smoke_report
    details = report["scenarios"]["1"]["details"]

    # then
    assert details["ours"]["requests"]["GET"] == details["baseline"]["requests"]["GET"]
    assert details["ours"]["relations"] == details["baseline"]["relations"] > 0
