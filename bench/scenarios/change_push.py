"""Scenario 4: from a save in the CRM to the klant updated in DigitaleFactuur, with a real worker.

Starts from the imported state with Bijwerken on. The worker process is the "web": it starts a
real `manage.py qcluster` (same database, same broker settings: the ORM broker, or Redis when
the job's environment sets REDIS_URL), then saves `saves` organisations one at a time on a
steady clock (`interval` seconds apart), each with a new invoice street, through the model's
own `save()` (so the change listener fires as in the admin). A poller thread asks the sandbox
(`klanten&relatienummer=`) for each saved klant until its `adres` shows the new street; the
latency is that moment minus the moment just before `save()`. A first save, not counted, waits
for the cluster to be up. Targets: p95 <= 2 s (ORM broker), <= 1 s (Redis).

The latency holds the listener's debounce (`SYNC_PUSH_DEBOUNCE`, 0.5 s by default), the broker's
poll (`Q_POLL`, 0.2 s for the ORM broker) and the push run itself.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import xml.etree.ElementTree as ET  # the sandbox's answers, read plainly (as in bare.py)

import requests

from bench.probes import api_prefix, configure_connector, control, prepare_sandbox
from bench.report import Row, ScenarioResult
from bench.runner import ROOT, redis_url

TARGETS = {"orm": 2.0, "redis": 1.0}
SETTLE_SECONDS = 60


class Poller(threading.Thread):
    """Watches the sandbox for the values saved, and notes when each one arrived."""

    def __init__(self, prefix: str):
        super().__init__(daemon=True)
        self.prefix = prefix
        self.pending: dict[str, tuple[str, float]] = {}
        self.latencies: dict[str, float] = {}
        self.lock = threading.Lock()
        self.stopping = threading.Event()

    def expect(self, number: str, street: str, saved_at: float) -> None:
        with self.lock:
            self.pending[number] = (street, saved_at)

    def run(self) -> None:
        session = requests.Session()
        while not self.stopping.is_set():
            with self.lock:
                waiting = list(self.pending.items())
            for number, (street, saved_at) in waiting:
                body = session.get(f"{self.prefix}klanten&relatienummer={number}",
                                   timeout=(5, 30)).content
                adres = ET.fromstring(body).findtext("klant/adres") or ""  # noqa: S314
                if adres == street:
                    arrived = time.perf_counter()
                    with self.lock:
                        self.pending.pop(number, None)
                        self.latencies[number] = arrived - saved_at
            self.stopping.wait(0.005)

    def wait_for(self, number: str, timeout: float) -> float | None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if number in self.latencies:
                return self.latencies[number]
            time.sleep(0.01)
        return None


def _start_cluster(log_path: str) -> subprocess.Popen:
    with open(log_path, "w") as log:
        # A session of its own: the cluster's worker processes are stopped with it, by its id.
        return subprocess.Popen([sys.executable, "manage.py", "qcluster"], cwd=ROOT,
                                env=os.environ.copy(), stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)


def _stop_cluster(cluster: subprocess.Popen) -> None:
    # The cluster's main process stops its own workers on a signal; its process group (ours:
    # started with a session of its own) is killed only if that does not happen in time.
    if cluster.poll() is None:
        cluster.send_signal(signal.SIGINT)
    try:
        cluster.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(cluster.pid, signal.SIGKILL)
        cluster.wait()


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


def measure(n: int, saves: int, interval: float, cluster_log: str) -> dict:
    from django.conf import settings

    from integration.connectors.models import SyncRun
    from integration.crm.models import Relation

    prepare_sandbox(n)
    configure_connector(import_enabled=False, push=True)
    relations = list(Relation.objects.filter(
        kind=Relation.Kind.ORGANISATION, digitalefactuur_links__kind="debtor")
        .exclude(debtor_number="").order_by("pk")[:saves + 1])
    poller = Poller(api_prefix())
    poller.start()
    phases = {}
    began = time.perf_counter()
    cluster = _start_cluster(cluster_log)
    try:
        warm_up, *measured = relations
        warm_up.invoice_street = "Benchmarkstraat opwarmen"
        poller.expect(warm_up.debtor_number, warm_up.invoice_street, time.perf_counter())
        warm_up.save()
        if poller.wait_for(warm_up.debtor_number, SETTLE_SECONDS) is None:
            raise RuntimeError(f"the cluster pushed nothing within {SETTLE_SECONDS} s "
                               f"(log: {cluster_log})")
        phases["cluster_up"] = time.perf_counter() - began
        control().reset_counters()
        started = time.perf_counter()
        for index, relation in enumerate(measured):
            # A steady clock: the next save is due at a fixed time, however long this one took.
            time.sleep(max(0.0, started + index * interval - time.perf_counter()))
            relation.invoice_street = f"Benchmarkstraat {index + 1}"
            poller.expect(relation.debtor_number, relation.invoice_street, time.perf_counter())
            relation.save()
        deadline = time.monotonic() + SETTLE_SECONDS
        while poller.pending and time.monotonic() < deadline:
            time.sleep(0.05)
        phases["saves_and_settle"] = time.perf_counter() - started
    finally:
        poller.stopping.set()
        stopping = time.perf_counter()
        _stop_cluster(cluster)
        phases["cluster_stop"] = time.perf_counter() - stopping
    latencies = [poller.latencies[r.debtor_number] for r in measured
                 if r.debtor_number in poller.latencies]
    runs = SyncRun.objects.filter(trigger=SyncRun.Trigger.CHANGE)
    return {
        "broker": "redis" if settings.REDIS_URL else "orm",
        "saves": len(measured), "arrived": len(latencies),
        "p50": _percentile(latencies, 0.5) if latencies else None,
        "p95": _percentile(latencies, 0.95) if latencies else None,
        "max": max(latencies) if latencies else None,
        "runs": runs.count(), "runs_by_status": {
            status: runs.filter(status=status).count()
            for status in runs.values_list("status", flat=True).distinct()},
        "requests": control().counters(),
        "debounce": float(getattr(settings, "SYNC_PUSH_DEBOUNCE", 0.5)),
        "poll": settings.Q_CLUSTER.get("poll"),
        "phase_seconds": {name: round(value, 2) for name, value in phases.items()},
    }


# --- parent -------------------------------------------------------------------------------------

def run(runner, options) -> ScenarioResult:
    result = ScenarioResult(4, f"Save -> klant updated: {options.push_saves} saves, one every "
                               f"{options.push_interval:g} s, real qcluster")
    brokers = [("orm", {})]
    url, reason = redis_url()
    if url:
        brokers.append(("redis", {"REDIS_URL": url, "Q_NAME": f"pv-bench-{os.getpid()}"}))
    for broker, env in brokers:
        database = runner.imported_db(options.n)
        measured = runner.job("change_push.measure", database, env=env, n=options.n,
                              saves=options.push_saves, interval=options.push_interval,
                              cluster_log=str(database.with_suffix(".qcluster.log")))
        result.details[broker] = measured
        target = TARGETS[broker]
        lost = measured["saves"] - measured["arrived"]
        result.rows += [
            Row(f"{broker}: p50", measured["p50"], "s"),
            Row(f"{broker}: p95", measured["p95"], "s", max_value=target),
            Row(f"{broker}: max", measured["max"], "s"),
            Row(f"{broker}: saves not arrived within {SETTLE_SECONDS} s", lost, "",
                max_value=0),
        ]
        result.notes.append(
            f"{broker}: {measured['runs']} push runs {measured['runs_by_status']}, "
            f"{measured['requests']['POST']} POSTs for {measured['saves']} saves; debounce "
            f"{measured['debounce']:g} s, broker poll {measured['poll']} s")
    if not url:
        result.rows.append(Row("redis: p95", None, "s", max_value=TARGETS["redis"],
                               note=f"skipped: {reason}"))
        result.notes.append(f"Redis variant skipped: {reason}")
    return result
