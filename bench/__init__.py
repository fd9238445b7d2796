"""Benchmarks of the DigitaleFactuur connector: how close a sync comes to the API's floor.

DigitaleFactuur has no bulk endpoint, so a sync costs at least one GET per page of klanten and
one POST per changed klant. Every scenario here times our engine and a bare baseline doing the
floor's work in the same run, and reports the ratio (absolute times on shared machines vary;
ratios measured side by side do not).

How it is put together:

- `__main__.py`: the command line (`make bench` = `python -m bench`), tables and JSON;
- `runner.py`: the parent process: a migrated template database, the sandbox as a child
  process, and one worker subprocess per measurement, each on its own copy of the template;
- `worker.py`: the child process: Django set up on that copy, one task run, a JSON result;
- `probes.py`: instruments used inside a worker (query log, RSS sampler, the connector's set-up);
- `bare.py`: the baselines (one `requests.Session`, ElementTree, `bulk_create`);
- `scenarios/`: one module per scenario of issue 8, each with its worker tasks and its rows;
- `report.py`: the rows, the tables and the JSON file.

Benchmarks are not tests: `tests/bench/` only runs the smoke version and checks the JSON shape.
"""
