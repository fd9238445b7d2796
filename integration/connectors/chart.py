"""The sync log's chart: the last 30 days, per day the records changed and the failures.

Drawn as inline SVG (the frame by the template, the marks written here), so the page needs no
script, no font and no outside resource (the admin stays usable offline and behind a strict
Content-Security-Policy). Changed records grow upwards from the axis, failures downwards in red,
each against its own maximum, so that a handful of failures next to thousands of updates is
still visible.

One bar per day (the reader's time zone), wide enough to read at demo volume and the same at a
busy change listener's thousands of runs; a day of one run links to that run. Only the three
values a mark needs are read per run (`values_list`), in one query over the `started_at` index.

The marks themselves (up to `MAX_MARKS`, each a title and up to three rects, a run's in a link)
are written here as one escaped SVG fragment (`Chart.marks_svg`), not by a template loop: per
mark a `{% url %}`, two `blocktranslate`s and a dozen filters made that loop most of the page's
time. The link is reversed once (`run_link`), the titles' texts are translated once per page
(only the plural per mark), and the numbers are written as `floatformat:"2u"` would.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext, ngettext

DAYS = 30
WIDTH, LEFT, RIGHT = 720, 44, 8
UP_HEIGHT, DOWN_HEIGHT, TOP = 110, 40, 10
#: Share of a day's slot its bar takes, and the least height of a bar that is not zero.
BAR_SHARE, MIN_BAR = 0.7, 3.0
CHANGED_ACTIONS = ("aangemaakt", "bijgewerkt")
FAILED_ACTIONS = ("fout",)


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
    marks_svg: SafeString = field(default_factory=lambda: mark_safe(""))


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


def run_link(url_name: str, *args) -> Callable[[int], str]:
    """The escaped `reverse(url_name, args=[*args, pk])` for any run id, reversing only once.

    A placeholder id is reversed and replaced: the URL's other parts are the same for every run.
    """
    placeholder = "987654321"
    head, _placeholder, tail = reverse(url_name, args=[*args, int(placeholder)]).rpartition(
        placeholder)
    head, tail = escape(head), escape(tail)
    return lambda pk: f"{head}{int(pk)}{tail}"


_CENTS = Decimal("0.01")


def _fixed(value: float) -> str:
    """`value` as the template's `floatformat:"2u"` writes it (its rounding: half up on the
    shortest decimal form), so that the drawing is the same to the digit."""
    text = str(Decimal(repr(value)).quantize(_CENTS, rounding=ROUND_HALF_UP))
    return "0.00" if text == "-0.00" else text


def _marks_svg(chart: Chart, run_url: Callable[[int], str] | None) -> SafeString:
    """The marks as SVG: per mark a group with its title (read as a tooltip and by screen
    readers), a full-height hit area and the changed and failed bars; a single run's mark is a
    link to that run's page when `run_url` is given."""
    run_title = gettext("Run %(id)s")
    outcome = gettext("%(changed)s gewijzigd, %(failed)s fouten")
    runs_titles: dict[int, str] = {}  # per number of runs: hours often hold the same number
    local = timezone.get_current_timezone()  # what the `date` filter converted to
    top, axis_y, plot_height = chart.top, chart.axis_y, chart.plot_height
    parts = []
    for mark in chart.marks:
        if mark.run_id:
            what = run_title % {"id": mark.run_id}
        else:
            what = runs_titles.get(mark.runs)
            if what is None:
                what = runs_titles[mark.runs] = ngettext(
                    "%(runs)s run", "%(runs)s runs", mark.runs) % {"runs": mark.runs}
        at = mark.at.astimezone(local) if timezone.is_aware(mark.at) else mark.at
        when = date_format(at, "SHORT_DATE_FORMAT")
        if mark.run_id:
            when = f"{when} {date_format(at, 'TIME_FORMAT')}"
        title = f"{what}, {when}: " + outcome % {"changed": mark.changed, "failed": mark.failed}
        x, width = _fixed(mark.x), _fixed(mark.width)
        group = (f'<g class="chart-mark"><title>{escape(title)}</title>'
                 f'<rect class="chart-hit" x="{x}" y="{top}" width="{width}" '
                 f'height="{plot_height}"/>')
        if mark.changed:
            group += (f'<rect class="chart-changed" x="{x}" y="{_fixed(mark.changed_y)}" '
                      f'width="{width}" height="{_fixed(mark.changed_height)}"/>')
        if mark.failed:
            group += (f'<rect class="chart-failed" x="{x}" y="{axis_y}" width="{width}" '
                      f'height="{_fixed(mark.failed_height)}"/>')
        group += "</g>"
        if mark.run_id and run_url is not None:
            group = f'<a href="{run_url(mark.run_id)}">{group}</a>'
        parts.append(group)
    # Safe: the numbers are formatted here, the titles and the links are escaped above (not
    # format_html per mark: it would escape every number again, thousands per page).
    return mark_safe("\n".join(parts))  # noqa: S308


def build(rows: Iterable[tuple[int, datetime, dict]], now: datetime | None = None,
          run_url: Callable[[int], str] | None = None) -> Chart:
    """The chart of `rows` (run id, started_at, counts) that started in the last `DAYS` days,
    as one bar per day (local time): changed records up, failures down. A day of a single run
    links to `run_url(run id)` (see `run_link`)."""
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
    chart.marks_svg = _marks_svg(chart, run_url)
    return chart
