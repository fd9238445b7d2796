"""Where a run's outcome goes: the database (a run) or a preview ("Voorbeeld", `--dry-run`).

The engine computes the same in both and never asks which of the two it writes through
(STYLE.md, 15). Each phase hands its writer a set of changes with their events (an import page,
an export chunk, the links of vanished klanten): `DatabaseWriter` saves them (`changes.save`),
`PreviewWriter` keeps only their events, the rows the preview shows with their field diffs.

A preview writes nothing anywhere: no relation, no link, no event, no run record, no progress,
no lock (`sync.preview`), no kept copy, no invoice. Its client refuses writes
(`client.ReadOnlyClient`), and its senders send none: every planned write is answered "not
sent, as planned" (`concurrency.Answer()`), so the exporter records what it would have done.
Lookups by number are reads and do happen.
"""

from __future__ import annotations

from collections.abc import Callable

from django.db import transaction

from integration.connectors.models import SyncEvent, SyncRun
from integration.db import rows

from .client import ReadOnlyClient
from .concurrency import Answer, Senders, Workers
from .links import COPY_FIELDS, DfLink


class DatabaseWriter:
    """A run: every change is saved, the run record and its progress too."""

    #: A full read moves the links' kept copies on, so they are fresh for the export.
    refreshes_copies = True

    def client_for(self, client):
        return client

    def progress(self, run: SyncRun, fields: list[str]) -> None:
        run.save(update_fields=fields)

    def write(self, ctx, changes) -> None:
        changes.save(ctx)

    def remove_links(self, links) -> int:
        removed, _per_model = links.delete()
        return removed

    def refresh_copies(self, links: list[DfLink]) -> None:
        with transaction.atomic():
            # One prepared UPDATE .. FROM (VALUES ..) instead of bulk_update's CASE per row.
            rows.update(links, COPY_FIELDS)

    def explain(self, make_events: Callable[[], list[SyncEvent]]) -> None:
        """Rows only a preview shows (what a run leaves out without an event)."""

    def senders(self, client, workers: Workers, size: int) -> Senders:
        return Senders(client, workers, size)

    def after_relations(self, ctx) -> None:
        """What a full run does after the relations: the open invoices (never fails it)."""
        from .invoices import read_after_run

        read_after_run(ctx)

    def last_error_detail(self, run: SyncRun) -> str:
        """The technical cause kept with the run's last failed record, for support."""
        last = (SyncEvent.objects.filter(run=run, action=SyncEvent.Action.ERROR)
                .order_by("-pk")[:1])
        return next((event.detail for event in last if event.detail), "")


class PreviewWriter:
    """A preview: the events every change would have written are kept (`events`), nothing else.
    """

    #: Nothing is written, so a link's kept copy may be older than the read: no fresh copy.
    refreshes_copies = False

    def __init__(self):
        self.events: list[SyncEvent] = []

    def client_for(self, client) -> ReadOnlyClient:
        return ReadOnlyClient(client)

    def progress(self, run: SyncRun, fields: list[str]) -> None:
        pass

    def write(self, ctx, changes) -> None:
        self.events.extend(changes.events)

    def remove_links(self, links) -> int:
        return links.count()

    def refresh_copies(self, links: list[DfLink]) -> None:
        pass

    def explain(self, make_events: Callable[[], list[SyncEvent]]) -> None:
        self.events.extend(make_events())

    def senders(self, client, workers: Workers, size: int) -> Rehearsal:
        return Rehearsal()

    def after_relations(self, ctx) -> None:
        pass  # a preview shows the relations only

    def last_error_detail(self, run: SyncRun) -> str:
        return next((event.detail for event in reversed(self.events) if event.detail), "")


class Rehearsal:
    """A preview's senders: nothing is sent; every write is answered "as planned"."""

    def send_chunk(self, writes: list[tuple], stop) -> list[Answer]:
        return [Answer() for _write in writes]

    def start_chunk(self, writes: list[tuple], stop):
        return lambda: self.send_chunk(writes, stop)

    def close(self) -> None:
        pass
