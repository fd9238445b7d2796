"""`make bench` = `python -m bench`: every scenario, one table each, and a JSON file.

    python -m bench                      N = 10,000, scenarios 1-10
    python -m bench --large              N = 100,000 (long)
    python -m bench --memory-n 100000    scenario 5 at 100,000, the rest at N
    python -m bench --smoke              N = 200 and small counts: proves the code works
    python -m bench --scenarios 1,2 --json bench/results/some.json
    python -m bench --profile DIR        pyinstrument profiles of our runs into DIR (slower:
                                         the times of that run are not for comparison)
"""

from __future__ import annotations

import argparse
import importlib
import sys
import time
import traceback
from pathlib import Path

from bench.report import ScenarioResult, table, write_json
from bench.runner import ROOT, Runner
from bench.scenarios import SCENARIOS

DEFAULT_JSON = Path("bench/results/latest.json")


def parse_arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=10_000, help="klanten (default 10,000)")
    parser.add_argument("--large", action="store_true", help="N = 100,000")
    parser.add_argument("--smoke", action="store_true",
                        help="N = 200, few saves, small log: only proves the code works")
    parser.add_argument("--scenarios", default="1,2,3,4,5,6,7,8,9,10",
                        help="comma-separated numbers (default all)")
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON, help="result file")
    parser.add_argument("--latency-ms", type=float, default=20.0,
                        help="sandbox latency of scenario 7 (default 20)")
    parser.add_argument("--latency-export-n", type=int, default=500,
                        help="changed relations exported in scenario 7 (default 500: at "
                             "20 ms a POST, N would take minutes per variant)")
    parser.add_argument("--concurrency", type=int, default=4,
                        help="scenario 7: sessions of the bare concurrent loops, and "
                             "DIGITALEFACTUUR_CONCURRENCY of our export (at most 8)")
    felt = parser.add_argument_group("scenario 10, speed where users feel it (issue 18)")
    felt.add_argument("--felt-latency-ms", type=float, default=50.0,
                      help="sandbox latency per request (default 50)")
    felt.add_argument("--felt-export-n", type=int, default=2_000,
                      help="changed relations exported at that latency, no limit (default "
                           "2,000, the issue's; the bare sequential POSTs take ~110 s)")
    felt.add_argument("--felt-limited-n", type=int, default=1_000,
                      help="changed relations exported under the rate limit (default "
                           "1,000, the issue's; at least 50 s)")
    felt.add_argument("--felt-rate-limit", type=float, default=20.0,
                      help="the sandbox's requests per second for that export (default 20)")
    felt.add_argument("--unpaged-n", type=int, default=50_000,
                      help="klanten in the one unpaged answer (default 50,000)")
    parser.add_argument("--memory-n", type=int, default=0,
                        help="klanten of scenario 5 (default N; the target is for 100,000)")
    parser.add_argument("--push-saves", type=int, default=200)
    parser.add_argument("--push-interval", type=float, default=0.6,
                        help="seconds between saves in scenario 4 (default 0.6, just over the "
                             "0.5 s debounce)")
    parser.add_argument("--log-runs", type=int, default=10_000)
    parser.add_argument("--log-events", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=1,
                        help="measurements per variant; the median is reported")
    parser.add_argument("--profile", type=Path, help="write pyinstrument profiles here")
    parser.add_argument("--keep", action="store_true", help="keep the temporary databases")
    options = parser.parse_args(argv)
    if options.large:
        options.n = 100_000
    if options.smoke:
        options.n, options.latency_export_n = 200, 100
        options.push_saves, options.push_interval = 10, 0.6
        options.log_runs, options.log_events = 200, 2_000
        options.felt_export_n, options.felt_limited_n, options.unpaged_n = 50, 40, 1_000
    options.memory_n = options.memory_n or options.n
    options.latency_export_n = min(options.latency_export_n, options.n)
    options.felt_export_n = min(options.felt_export_n, options.n)
    options.felt_limited_n = min(options.felt_limited_n, options.n)
    options.numbers = sorted({int(part) for part in options.scenarios.split(",") if part.strip()})
    unknown = set(options.numbers) - set(SCENARIOS)
    if unknown:
        parser.error(f"unknown scenarios: {sorted(unknown)}")
    return options


def main(argv: list[str] | None = None) -> int:
    options = parse_arguments(argv)
    started = time.monotonic()
    results: list[ScenarioResult] = []
    print(f"PerfectView <-> DigitaleFactuur benchmark: N = {options.n:,}, scenarios "
          f"{','.join(map(str, options.numbers))}", flush=True)
    with Runner(options, keep=options.keep) as runner:
        for number in options.numbers:
            title, module_name = SCENARIOS[number]
            began = time.monotonic()
            try:
                module = importlib.import_module(f"bench.scenarios.{module_name}")
                result = module.run(runner, options)
            except Exception as error:
                # One broken scenario must not hide the others' figures.
                traceback.print_exc()
                result = ScenarioResult(number, title, skipped=f"failed: {error}")
            result.seconds = time.monotonic() - began
            results.append(result)
            print(table(result), flush=True)
    wall = time.monotonic() - started
    json_path = options.json if options.json.is_absolute() else ROOT / options.json
    recorded = {key: (str(value) if isinstance(value, Path) else value)
                for key, value in vars(options).items()}
    write_json(json_path, results, recorded, ROOT, wall)
    failed = [r for r in results for row in r.rows if row.passed is False]
    print(f"\n{len(results)} scenarios in {wall:.0f} s; {len(failed)} target(s) missed; "
          f"JSON: {options.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
