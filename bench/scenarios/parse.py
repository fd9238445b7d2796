"""Scenario 9: reading answers, the safe C parser against the defusedxml one it replaced.

A micro benchmark of `schema.parse_klanten` alone (no HTTP, no database): one page of 250
klanten (read whole) and one answer of N klanten (10,000 by default, some 10 MB: read a chunk at
a time, above `schema._WHOLE_PARSE_BYTES`), the sandbox's own documents. Each is read, in the
same worker and interleaved, by:

- ours: `schema.parse_klanten` (a DOCTYPE refused in the prolog, then ElementTree's C parser);
- before: the same reading with defusedxml's parser, as schema.py read until issue 18
  (`_before_parse_klanten` below keeps that code for the comparison);
- bare: `ElementTree.fromstring` / `iterparse` with no guard and no reading of the klanten: the
  C floor, for how much of ours is parsing.

The figure is the median of several reads after a warm-up, in CPU seconds of the worker
(`time.process_time`): a parse is one thread's work, and CPU time is what three other processes
on a shared 2-core machine disturb least (wall time moved by half between runs there). The
garbage collector stays on, as in a real run.
"""

from __future__ import annotations

import gc
import io
import statistics
import time

from bench.report import Row, ScenarioResult

#: The page size of the issue's micro benchmark (the API's own is 100).
PAGE_KLANTEN = 250


# --- the reading before issue 18, for the comparison ------------------------------------------

def _before_parse_klanten(body: bytes) -> list:
    """schema.parse_klanten as it was: defusedxml's (pure-Python) parser, then today's walk
    of the tree (so the ratio is the parsers')."""
    import defusedxml.ElementTree as SafeET

    from integration.digitalefactuur import schema

    data = schema._prepare(bytes(body))
    forbid = {"forbid_dtd": True, "forbid_entities": True, "forbid_external": True}
    if len(data) <= schema._WHOLE_PARSE_BYTES:
        root = SafeET.fromstring(data, **forbid)
        schema._check_depth(root)
        return schema._klanten_of_root(root)
    klanten, depth, counted, root = [], 0, 0, None
    for event, element in SafeET.iterparse(io.BytesIO(data), events=("start", "end"), **forbid):
        if event == "start":
            depth += 1
            counted += 1
            if depth > schema.MAX_DEPTH or (counted > schema.MAX_ELEMENTS_PER_KLANT
                                            and depth > 1):
                raise schema.SchemaError("too deep or too many")
            if root is None:
                root = element
            continue
        depth -= 1
        if depth == 1:
            counted = 0
            if schema.local_name(element.tag) == "klant":
                klanten.append(schema._klant_from_element(element))
            root.clear()
    return klanten


def _bare_parse(body: bytes) -> int:
    import xml.etree.ElementTree as ET

    from integration.digitalefactuur import schema

    if len(body) <= schema._WHOLE_PARSE_BYTES:
        return len(ET.fromstring(body))  # noqa: S314 - the sandbox's own document, the floor
    read, root = 0, None
    for event, element in ET.iterparse(io.BytesIO(body), events=("start", "end")):  # noqa: S314
        if root is None:
            root = element
        elif event == "end" and element.tag == "klant":
            read += 1
            root.clear()
    return read


# --- worker task --------------------------------------------------------------------------------

def measure(n: int, page: int = PAGE_KLANTEN, repeats: int = 5) -> dict:
    from integration.dfsandbox.documents import klanten_document
    from integration.dfsandbox.generator import generate_klanten
    from integration.digitalefactuur import schema

    klanten = generate_klanten(max(n, page), seed=8)
    for number, klant in enumerate(klanten, start=1):
        klant["id"] = str(number)
    documents = {"page": klanten_document(klanten[:page]), "answer": klanten_document(klanten[:n])}
    del klanten
    gc.collect()
    readers = {"ours": schema.parse_klanten, "before": _before_parse_klanten,
               "bare": _bare_parse}
    measured: dict = {}
    for label, body in documents.items():
        times: dict[str, list[float]] = {name: [] for name in readers}
        counts = {}
        rounds = repeats if label == "answer" else repeats * 4
        for round_number in range(rounds + 1):
            for name, read in readers.items():  # interleaved: the machine's mood is shared
                started = time.process_time()
                result = read(body)
                elapsed = time.process_time() - started
                counts[name] = result if isinstance(result, int) else len(result)
                del result
                if round_number:  # the first round warms caches up
                    times[name].append(elapsed)
        measured[label] = {"bytes": len(body), "klanten": counts,
                           **{name: statistics.median(values) for name, values in times.items()}}
    return measured


# --- parent -------------------------------------------------------------------------------------

def run(runner, options) -> ScenarioResult:
    n = options.n
    result = ScenarioResult(9, f"Reading answers: a page of {PAGE_KLANTEN} and an answer of "
                               f"{n:,} klanten, safe C parser vs defusedxml")
    measured = runner.job("parse.measure", runner.fresh_db("parse"), n=n,
                          repeats=3 if options.smoke else 5)
    for label, title in (("page", f"page of {PAGE_KLANTEN}"), ("answer", f"answer of {n:,}")):
        figures = measured[label]
        counts = figures["klanten"]
        note = "" if counts["ours"] == counts["before"] else (
            f"klanten read differ: ours {counts['ours']}, before {counts['before']}")
        result.rows += [
            Row(f"{title} ({figures['bytes'] / 2**20:.1f} MB): ours vs defusedxml (before)",
                figures["ours"] * 1000, "ms", figures["before"] * 1000, max_ratio=1.0,
                note=note),
            Row(f"{title}: ours vs the bare C parse (no guard, no reading)",
                figures["ours"] * 1000, "ms", figures["bare"] * 1000),
        ]
    result.details = measured
    result.notes.append("median CPU time of interleaved reads in one worker; the target only "
                        "says the safe reading must not be slower than the one it replaced")
    return result
