"""The sync log's pages (Synchronisatielogboek): the runs, one run with its events, its progress.

Read-only pages, like a delivery log: what happened is never edited here. The buttons a run's
page offers (re-run the failures, ...) belong to its connector (`Connector.run_actions`), which
POSTs to its own views; this module knows no connector's engine.

Each page is gated by its connector's right (the registry's `right`; for DigitaleFactuur the
right Digitale Factuur). Made to stay fast with 10,000 runs and 100,000 events:

- the runs: a page of 50 from the `(-queued_at, -id)` index (or the status / trigger ones),
  counted by the same index: a count over runs, never over events;
- a run's events: keyset pagination (`?na=<id>` / `?voor=<id>`) over the `(run, action, id)` and
  `(run, direction, id)` indexes: no COUNT and no OFFSET over a run's events at all; the totals
  per action come from the run's own `counts`;
- relations of a page's events in the same query (`select_related`);
- a fixed number of queries per page, whatever the sizes (tested).
"""

from __future__ import annotations

from datetime import timedelta

from django.contrib import admin
from django.core.paginator import Paginator
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views import View
from django.views.decorators.cache import never_cache

from integration.rights.access import RightRequiredMixin
from integration.rights.catalogue import CONNECTORS

from . import chart, registry, retention
from .models import SyncEvent, SyncRun

RUNS_PER_PAGE = 50
EVENTS_PER_PAGE = 50

ACTIONS = SyncEvent.Action
DIRECTIONS = SyncEvent.Direction
#: The order in which a run's counts are shown (the import phase runs first).
DIRECTION_ORDER = [DIRECTIONS.IMPORT, DIRECTIONS.EXPORT]
ACTION_ORDER = [ACTIONS.CREATED, ACTIONS.UPDATED, ACTIONS.CONFLICT, ACTIONS.UNCHANGED,
                ACTIONS.SKIPPED, ACTIONS.ERROR]


def count_table(counts: dict, connector: registry.Connector) -> list[dict]:
    """The run's {direction: {action: n}} as rows in a fixed order, for a table or a line."""
    rows = []
    for direction in DIRECTION_ORDER:
        per_action = (counts or {}).get(direction.value) or {}
        if not any(per_action.values()):
            continue
        cells = [{"action": action, "label": action.label, "n": per_action.get(action.value, 0)}
                 for action in ACTION_ORDER]
        rows.append({"direction": direction, "label": connector.direction_label(direction),
                     "cells": cells,
                     "total": sum(c["n"] for c in cells)})
    return rows


def _steps(run: SyncRun, connector: registry.Connector) -> list[str]:
    """Each direction's records so far, from the counts the run writes with its progress."""
    steps = []
    for direction in DIRECTION_ORDER:
        n = sum(((run.counts or {}).get(direction.value) or {}).values())
        if n:
            steps.append(ngettext("%(direction)s: %(n)s record verwerkt",
                                  "%(direction)s: %(n)s records verwerkt", n)
                         % {"direction": connector.direction_label(direction),
                            "n": number_format(n)})
    return steps


def _count_text(run: SyncRun) -> str:
    """The current phase's own count: relations against their total when it is known (the
    export knows how many relations it will go through), otherwise the pages and the records
    read so far (a service such as DigitaleFactuur does not say how many it holds; the shared
    log says "records", as its other counts do, not a connector's own word)."""
    processed = number_format(run.processed)
    if run.total:
        return _("%(processed)s van %(total)s relaties verwerkt") % {
            "processed": processed, "total": number_format(run.total)}
    if run.status == SyncRun.Status.QUEUED:
        return ""
    if run.pages:
        return ngettext("Pagina %(page)s: %(processed)s record gelezen; het totaal is nog niet "
                        "bekend",
                        "Pagina %(page)s: %(processed)s records gelezen; het totaal is nog niet "
                        "bekend", run.processed) % {
            "page": number_format(run.pages), "processed": processed}
    return ngettext("%(processed)s record gelezen tot nu toe; het totaal is nog niet bekend",
                    "%(processed)s records gelezen tot nu toe; het totaal is nog niet bekend",
                    run.processed) % {"processed": processed}


def other_counts(counts: dict) -> list[dict]:
    """Counts under keys beyond the directions (a connector's extra work, such as its
    "facturen"): each key with its actions, in the order stored; the connector puts their
    Dutch words in the catalogue, so they are shown translated."""
    known = {direction.value for direction in DIRECTION_ORDER}
    rows = []
    for key, per_action in (counts or {}).items():
        if key in known or not isinstance(per_action, dict):
            continue
        rows.append({"key": key, "label": _(str(key)),
                     "cells": [{"action": action, "label": _(str(action)), "n": n}
                               for action, n in per_action.items()]})
    return rows


def progress_of(run: SyncRun, connector: registry.Connector) -> dict:
    """What the progress bar shows; the JSON endpoint sends the same."""
    percent = None
    if run.total:
        percent = min(100, round(run.processed * 100 / run.total))
    elif not run.is_open:
        percent = 100
    return {
        "id": run.pk,
        "status": run.status,
        "status_label": str(run.get_status_display()),
        "is_open": run.is_open,
        # The engine stores its phase as its Dutch msgid: shown in the reader's language.
        "phase": _(run.phase) if run.phase else "",
        "processed": run.processed,
        "total": run.total,
        "pages": run.pages,
        "percent": percent,
        "count_text": _count_text(run),
        "steps": _steps(run, connector),
        "message": run.shown_message,
        "changed": chart.sum_actions(run.counts, chart.CHANGED_ACTIONS),
        "failed": chart.sum_actions(run.counts, chart.FAILED_ACTIONS),
    }


def duration_text(duration: timedelta | None) -> str:
    if duration is None:
        return ""
    seconds = int(duration.total_seconds())
    if seconds < 60:
        return _("%(s)d s") % {"s": seconds}
    if seconds < 3600:
        return _("%(m)d min %(s)d s") % {"m": seconds // 60, "s": seconds % 60}
    return _("%(h)d u %(m)d min") % {"h": seconds // 3600, "m": seconds % 3600 // 60}


class _LogPage(RightRequiredMixin):
    """Resolves the connector from the URL and gates the page with that connector's right."""

    def dispatch(self, request, *args, **kwargs):
        self.connector = registry.connector(kwargs.get("connector", ""))
        if self.connector is None:
            raise Http404
        self.required_right = self.connector.right or CONNECTORS
        return super().dispatch(request, *args, **kwargs)

    def page_context(self, request, **extra) -> dict:
        fields_url = (reverse(self.connector.fields_url_name)
                      if self.connector.fields_url_name else "")
        return {**admin.site.each_context(request), "connector": self.connector,
                "settings_url": reverse(self.connector.settings_url_name),
                "fields_url": fields_url,
                "log_url": reverse("connectors:log", args=[self.connector.key]), **extra}


def _choice(value: str, choices) -> str:
    return value if value in {c.value for c in choices} else ""


@method_decorator(never_cache, name="dispatch")
class RunLogView(_LogPage, View):
    """Synchronisatielogboek: the runs, newest first, filtered, paginated, and the chart."""

    def get(self, request, connector):
        status = _choice(request.GET.get("status", ""), SyncRun.Status)
        trigger = _choice(request.GET.get("aanleiding", ""), SyncRun.Trigger)
        runs = SyncRun.objects.filter(connector=self.connector.key)
        if status:
            runs = runs.filter(status=status)
        if trigger:
            runs = runs.filter(trigger=trigger)
        runs = runs.select_related("requested_by").order_by("-queued_at", "-id")
        page = Paginator(runs, RUNS_PER_PAGE).get_page(request.GET.get("pagina"))
        for run in page.object_list:
            run.count_rows = count_table(run.counts, self.connector)
            run.other_count_rows = other_counts(run.counts)
            run.duration_text = duration_text(run.duration)
        since = timezone.now() - timedelta(days=chart.DAYS)
        # Previews changed nothing: they stay out of the chart.
        chart_rows = (SyncRun.objects.filter(connector=self.connector.key, dry_run=False,
                                             started_at__gte=since)
                      .values_list("pk", "started_at", "counts"))
        filters = {"status": status, "aanleiding": trigger}
        query = "&".join(f"{name}={value}" for name, value in filters.items() if value)
        context = self.page_context(
            request, title=_("Synchronisatielogboek"), page=page, runs=page.object_list,
            status=status, trigger=trigger, filter_query=query,
            statuses=SyncRun.Status.choices, triggers=SyncRun.Trigger.choices,
            chart=chart.build(chart_rows),
            retention_days=retention.retention_days())
        return TemplateResponse(request, "connectors/log.html", context)


def _event_id(value: str | None) -> int | None:
    """A keyset position from the URL (ASCII digits), or None: "²" is a digit to isdigit()."""
    value = value or ""
    return int(value) if value.isascii() and value.isdigit() else None


def _event_page(run: SyncRun, request, action: str, direction: str):
    """One page of the run's events by keyset (`na` = after id, `voor` = before id)."""
    events = SyncEvent.objects.filter(run=run).select_related("relation")
    if action:
        events = events.filter(action=action)
    if direction:
        events = events.filter(direction=direction)
    after, before = _event_id(request.GET.get("na")), _event_id(request.GET.get("voor"))
    if before is not None:
        rows = list(events.filter(pk__lt=before).order_by("-pk")[:EVENTS_PER_PAGE + 1])
        has_previous, has_next = len(rows) > EVENTS_PER_PAGE, True
        rows = rows[:EVENTS_PER_PAGE][::-1]
    else:
        if after is not None:
            events = events.filter(pk__gt=after)
        rows = list(events.order_by("pk")[:EVENTS_PER_PAGE + 1])
        has_previous, has_next = after is not None, len(rows) > EVENTS_PER_PAGE
        rows = rows[:EVENTS_PER_PAGE]
    return rows, has_previous, has_next


def _plain_rows(event: SyncEvent) -> list[dict]:
    """The diff's keys as they are, for a connector that names no fields."""
    if event.action == ACTIONS.CONFLICT:
        fields = list(dict.fromkeys([*event.diff, *event.losing_values]))
        return [{"field": name, "other": "",
                 "lost": event.losing_values.get(name, (event.diff.get(name) or ["", ""])[0]),
                 "won": (event.diff.get(name) or ["", ""])[1]} for name in fields]
    return [{"field": name, "other": "", "old": pair[0], "new": pair[1]}
            for name, pair in event.diff.items()
            if isinstance(pair, list | tuple) and len(pair) == 2]


def describe(event: SyncEvent, connector: registry.Connector) -> SyncEvent:
    """Attach what the template shows: the relation's link, the kind of record and the field
    rows, named by the connector (`Connector.kinds`, `Connector.field_rows`) in the
    administrator's words."""
    event.kind_label = connector.kind_label(event.kind)
    event.direction_label = connector.direction_label(event.direction)
    event.relation_url = (reverse("admin:crm_relation_change", args=[event.relation_id])
                          if event.relation_id else "")
    rows = (connector.field_rows or _plain_rows)(event)
    if event.action == ACTIONS.CONFLICT:
        event.conflict_rows = rows
    else:
        event.diff_rows = rows
    return event


@method_decorator(never_cache, name="dispatch")
class RunView(_LogPage, View):
    """One run: its progress while open; its outcome, counts and events when done."""

    def get(self, request, connector, pk):
        run = get_object_or_404(SyncRun.objects.select_related("requested_by"), pk=pk,
                                connector=self.connector.key)
        action = _choice(request.GET.get("actie", ""), ACTIONS)
        direction = _choice(request.GET.get("richting", ""), DIRECTIONS)
        events, has_previous, has_next = _event_page(run, request, action, direction)
        filters = {"actie": action, "richting": direction}
        query = "&".join(f"{name}={value}" for name, value in filters.items() if value)
        actions = []
        if self.connector.run_actions and not run.is_open:
            actions = self.connector.run_actions(request, run)
        context = self.page_context(
            request, title=_("Synchronisatierun %(id)s") % {"id": run.pk}, run=run,
            progress=progress_of(run, self.connector),
            count_rows=count_table(run.counts, self.connector),
            other_count_rows=other_counts(run.counts),
            duration=duration_text(run.duration),
            events=[describe(e, self.connector) for e in events],
            action=action, direction=direction, filter_query=query,
            action_choices=ACTIONS.choices,
            direction_choices=[(d.value, self.connector.direction_label(d)) for d in DIRECTIONS],
            has_previous=has_previous, has_next=has_next,
            first_event=events[0].pk if events else None,
            last_event=events[-1].pk if events else None,
            status_url=reverse("connectors:run_status", args=[self.connector.key, run.pk]),
            run_actions=actions)
        return TemplateResponse(request, "connectors/run.html", context)


@method_decorator(never_cache, name="dispatch")
class RunStatusView(_LogPage, View):
    """The progress of a run as JSON, polled by the run page's script."""

    def get(self, request, connector, pk):
        run = get_object_or_404(SyncRun, pk=pk, connector=self.connector.key)
        return JsonResponse(progress_of(run, self.connector))
