"""The sync log's chart: the last 30 days, per day the records changed and the failures.

Drawn as inline SVG, so the page needs no script, no font and no outside resource (the admin
stays usable offline and behind a strict Content-Security-Policy). Changed records grow upwards
from the axis, failures downwards in red, each against its own maximum, so that a handful of
failures next to thousands of updates is still visible.

One bar per day (the reader's time zone), wide enough to read at demo volume and the same at a
busy change listener's thousands of runs; a day of one run links to that run. Only the three
values a mark needs are read per run (`values_list`), in one query over the `started_at` index.

This module works out the geometry; the template (connectors/_chart.html) draws all of it,
texts and links included. A bar a day keeps the drawing to at most 31 marks whatever the
number of runs. What counts as changed and as failed is the log's own actions
(`SyncEvent.Action`), the same for every connector.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.utils import timezone

from .models import SyncEvent

DAYS = 30
WIDTH, LEFT, RIGHT = 720, 44, 8
UP_HEIGHT, DOWN_HEIGHT, TOP = 110, 40, 10
#: Share of a day's slot its bar takes, and the least height of a bar that is not zero.
BAR_SHARE, MIN_BAR = 0.7, 3.0
CHANGED_ACTIONS = (SyncEvent.Action.CREATED.value, SyncEvent.Action.UPDATED.value)
FAILED_ACTIONS = (SyncEvent.Action.ERROR.value,)


@dataclass
class Mark:
    x: float
    width: float
    changed: int
    failed: int
    changed_height: float = 0.0
    failed_height: float = 0.0
    runs: int = 1
    run_id: int | None = None  # set when the mark is one run: it links to that run's page
    at: datetime | None = None

    @property
    def changed_y(self) -> float:
        return TOP + UP_HEIGHT - self.changed_height


@dataclass
class Chart:
    marks: list[Mark] = field(default_factory=list)
    ticks: list[tuple[float, datetime]] = field(default_factory=list)
    max_changed: int = 0
    max_failed: int = 0
    total_changed: int = 0
    total_failed: int = 0
    runs: int = 0
    per_hour: bool = False
    width: int = WIDTH
    height: int = TOP + UP_HEIGHT + DOWN_HEIGHT + 18
    axis_y: int = TOP + UP_HEIGHT
    left: int = LEFT
    right_x: int = WIDTH - RIGHT
    failed_bottom: int = TOP + UP_HEIGHT + DOWN_HEIGHT
    top: int = TOP
    plot_height: int = UP_HEIGHT + DOWN_HEIGHT


def sum_actions(counts: dict, actions: Iterable[str]) -> int:
    """The records of `counts` ({direction: {action: n}}) with one of `actions`, all directions."""
    return sum(int(per_direction.get(action, 0) or 0)
               for per_direction in (counts or {}).values() if isinstance(per_direction, dict)
               for action in actions)


def _changed_and_failed(counts: dict) -> tuple[int, int]:
    """`sum_actions` of the changed and of the failed actions in one pass: it runs once per run
    of the last 30 days, thousands per page."""
    changed = failed = 0
    for per_direction in (counts or {}).values():
        if isinstance(per_direction, dict):
            for action in CHANGED_ACTIONS:
                changed += int(per_direction.get(action, 0) or 0)
            for action in FAILED_ACTIONS:
                failed += int(per_direction.get(action, 0) or 0)
    return changed, failed


def build(rows: Iterable[tuple[int, datetime, dict]], now: datetime | None = None) -> Chart:
    """The chart of `rows` (run id, started_at, counts) that started in the last `DAYS` days,
    as one bar per day (local time): changed records up, failures down. A day of a single run
    keeps that run's id (`Mark.run_id`): the template links it."""
    now = now or timezone.now()
    start = now - timedelta(days=DAYS)
    chart = Chart()
    plot_width = chart.right_x - chart.left
    first_day = timezone.localtime(start).date()
    slots = (timezone.localtime(now).date() - first_day).days + 1
    slot_width = plot_width / slots
    bar_width = max(slot_width * BAR_SHARE, 2.0)

    def slot_of(moment: datetime) -> int:
        return (timezone.localtime(moment).date() - first_day).days

    def x_of(slot: int) -> float:
        return chart.left + slot * slot_width + (slot_width - bar_width) / 2

    days: dict[int, Mark] = {}
    for pk, started, counts in rows:
        if started is None or started < start:
            continue
        changed, failed = _changed_and_failed(counts)
        chart.runs += 1
        slot = slot_of(started)
        mark = days.get(slot)
        if mark is None:
            days[slot] = Mark(x_of(slot), bar_width, changed, failed, run_id=pk, at=started)
        else:
            mark.changed += changed
            mark.failed += failed
            mark.runs += 1
            mark.run_id = None  # a day of several runs: its title counts them
            mark.at = min(mark.at, started)
    chart.marks = [days[slot] for slot in sorted(days)]
    chart.max_changed = max((m.changed for m in chart.marks), default=0)
    chart.max_failed = max((m.failed for m in chart.marks), default=0)
    chart.total_changed = sum(m.changed for m in chart.marks)
    chart.total_failed = sum(m.failed for m in chart.marks)
    for mark in chart.marks:
        if mark.changed:
            # At least a few pixels: a day that changed one record must be seen.
            mark.changed_height = max(mark.changed / chart.max_changed * UP_HEIGHT, MIN_BAR)
        if mark.failed:
            mark.failed_height = max(mark.failed / chart.max_failed * DOWN_HEIGHT, MIN_BAR)
    chart.ticks = [(chart.left + (slot + 0.5) * slot_width,
                    timezone.make_aware(datetime.combine(first_day + timedelta(days=slot),
                                                         datetime.min.time())))
                   for slot in range(slots - 1, -1, -5)][::-1]
    return chart
