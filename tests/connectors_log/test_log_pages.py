"""Synchronisatielogboek and a run's page: what an administrator reads after a run."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from integration.connectors import chart
from tests.connectors_log.conftest import LOG_URL, run_url
from tests.factories import OrganisationFactory, SyncEventFactory, SyncRunFactory

pytestmark = pytest.mark.django_db


def test_the_log_lists_runs_newest_first_with_trigger_duration_status_and_counts(
        configure, df_client):
    # given
    configure()
    now = timezone.now()
    old = SyncRunFactory(trigger="gepland", started_at=now - timedelta(hours=2))
    new = SyncRunFactory(trigger="handmatig", status="met_fouten", started_at=now,
                         counts={"export": {"bijgewerkt": 4, "fout": 1}})

    # when
    page = df_client.get(LOG_URL).content.decode()

    # then
    rows = re.findall(r'data-run="(\d+)"', page.split('id="log-runs"')[1])
    assert rows == [str(new.pk), str(old.pk)]
    assert "handmatig" in page and "42 s" in page and "met fouten" in page
    assert "4 bijgewerkt" in page and "1 fout" in page


def test_the_log_filters_on_status_and_trigger_and_pages(configure, df_client):
    # given 60 scheduled runs that succeeded and two failed manual ones
    configure()
    SyncRunFactory.create_batch(60)
    failures = SyncRunFactory.create_batch(2, status="mislukt", trigger="handmatig")

    # when
    first_page = df_client.get(LOG_URL).content.decode()
    second_page = df_client.get(LOG_URL + "?pagina=2").content.decode()
    failed = df_client.get(LOG_URL + "?status=mislukt&aanleiding=handmatig").content.decode()
    none = df_client.get(LOG_URL + "?status=mislukt&aanleiding=gepland").content.decode()

    # then
    assert len(re.findall(r'class="log-run ', first_page)) == 50 and "Pagina 1 van 2" in first_page
    assert len(re.findall(r'class="log-run ', second_page)) == 12
    assert sorted(int(pk) for pk in re.findall(r'data-run="(\d+)"', failed)) == [
        run.pk for run in failures]
    assert "Geen runs met deze filters." in none


def test_the_chart_is_inline_svg_with_no_outside_resource(configure, df_client):
    # given runs in and beyond the last 30 days, and a preview
    configure()
    now = timezone.now()
    recent = SyncRunFactory(started_at=now - timedelta(days=1),
                            counts={"import": {"aangemaakt": 3}, "export": {"fout": 2}})
    SyncRunFactory(started_at=now - timedelta(days=40), counts={"import": {"bijgewerkt": 9}})
    SyncRunFactory(started_at=now, dry_run=True, counts={"import": {"aangemaakt": 50}})

    # when
    page = df_client.get(LOG_URL).content.decode()

    # then one mark, linked to its run, with changed and failed, and nothing fetched from outside
    figure = page[page.index('<figure class="run-chart"'):]
    svg = figure[:figure.index("</svg>")]
    assert svg.count('class="chart-mark"') == 1
    assert f'href="{run_url(recent)}"' in svg
    assert "3 gewijzigd, 2 fouten" in svg
    assert not re.search(r"(src|href)=\"(https?:)?//", svg.replace(
        'xmlns="http://www.w3.org/2000/svg"', ""))
    assert "1 run, 3 records gewijzigd, 2 fouten" in page


def test_runs_are_summed_per_day_as_bars_wide_enough_to_see():
    # given a busy day of many runs and a quiet day of one, as at demo volume
    now = timezone.now()
    rows = [(n, now - timedelta(seconds=n), {"export": {"bijgewerkt": 1}}) for n in range(1, 51)]
    rows.append((99, now - timedelta(days=3), {"import": {"aangemaakt": 1, "fout": 1}}))

    # when
    built = chart.build(rows, now=now)

    # then there is a bar per day, each many pixels wide, with its own totals
    assert len(built.marks) in (2, 3)  # the 50 runs may straddle midnight
    assert all(mark.width >= 10 for mark in built.marks)
    assert built.total_changed == 51 and built.total_failed == 1
    quiet = next(mark for mark in built.marks if mark.run_id == 99)
    assert quiet.changed_height >= chart.MIN_BAR and quiet.failed_height > 0


def test_a_run_page_shows_outcome_counts_and_events_linked_to_relations(configure, df_client):
    # given a finished run with an update, a failure and a conflict
    configure()
    relation = OrganisationFactory(organisation_name="Bakkerij De Korrel")
    run = SyncRunFactory(status="met_fouten", message="1 record(s) konden niet worden ...",
                         counts={"import": {"conflict": 1, "ongewijzigd": 5},
                                 "export": {"bijgewerkt": 1, "fout": 1}})
    SyncEventFactory(run=run, relation=relation, diff={"plaats": ["Leiden", "Delft"]})
    SyncEventFactory(run=run, relation=relation, action="fout", message="Ongeldige postcode")
    SyncEventFactory(run=run, relation=relation, direction="import", action="conflict",
                     diff={"naam": ["Korrel BV", "Bakkerij De Korrel"]},
                     losing_values={"naam": "Korrel BV"})

    # when
    page = df_client.get(run_url(run)).content.decode()

    # then
    assert "met fouten" in page and "42 s" in page and 'id="run-counts"' in page
    assert 'id="run-progress"' not in page and "http-equiv" not in page
    assert page.count(f'href="/admin/crm/relation/{relation.pk}/change/"') == 3
    assert "<del>Leiden</del> → <ins>Delft</ins>" in page
    assert '<td class="lost"><del>Korrel BV</del></td><td class="won"><ins>Bakkerij De Korrel' \
           in page
    assert "Ongeldige postcode" in page


def test_a_run_page_filters_events_and_pages_them_by_keyset(configure, df_client):
    # given 120 events of which 60 failures on the export side
    configure()
    run = SyncRunFactory(status="met_fouten")
    SyncEventFactory.create_batch(60, run=run, action="fout")
    SyncEventFactory.create_batch(60, run=run, direction="import", action="aangemaakt")

    # when
    failures = df_client.get(run_url(run) + "?actie=fout&richting=export").content.decode()
    next_link = re.search(r'href="\?([^"]*na=\d+)#events"', failures).group(1)
    more = df_client.get(run_url(run) + "?" + next_link.replace("&amp;", "&")).content.decode()
    imports = df_client.get(run_url(run) + "?richting=import").content.decode()

    # then
    assert failures.count('class="run-event event-fout"') == 50
    assert more.count('class="run-event event-fout"') == 10 and 'rel="prev"' in more
    assert 'rel="next"' not in more
    assert imports.count('class="run-event event-aangemaakt"') == 50
    assert "event-fout" not in imports


def test_an_open_run_shows_its_progress_and_refreshes_without_script(configure, df_client):
    # given a run under way
    configure()
    run = SyncRunFactory(status="bezig", finished_at=None, phase="Bijwerken in DigitaleFactuur",
                         processed=30, total=120)

    # when
    page = df_client.get(run_url(run)).content.decode()
    progress = df_client.get(run_url(run) + "voortgang/").json()

    # then
    assert '<noscript><meta http-equiv="refresh"' in page and 'id="run-reload"' in page
    assert '<progress id="run-bar" max="120" value="30">' in page
    assert "30 van 120 relaties verwerkt" in page and "Bijwerken in DigitaleFactuur" in page
    assert progress["is_open"] and progress["percent"] == 25
    assert (progress["processed"], progress["total"], progress["status"]) == (30, 120, "bezig")


def test_every_log_page_needs_the_right(configure, colleague_client, client):
    # given
    configure()
    run = SyncRunFactory()
    urls = [LOG_URL, run_url(run), run_url(run) + "voortgang/"]

    # when
    refused = [colleague_client.get(url) for url in urls]
    anonymous = [client.get(url) for url in urls]

    # then
    assert [r.status_code for r in refused] == [403, 403, 403]
    assert "Digitale Factuur" in refused[0].content.decode()
    assert all(r.status_code == 302 and "/admin/login/" in r.url for r in anonymous)


def test_an_unknown_connector_or_run_is_not_found(configure, df_client):
    configure()
    run = SyncRunFactory()
    assert df_client.get("/admin/koppelingen/visma/logboek/").status_code == 404
    assert df_client.get(f"{LOG_URL}{run.pk + 1}/").status_code == 404


def test_the_chart_is_drawn_by_the_template_with_its_marks_linked_and_titled(
        configure, df_client):
    # given a day of one run and a day of two, in the last 30 days
    configure()
    now = timezone.now()
    alone = SyncRunFactory(started_at=now - timedelta(days=5),
                           counts={"export": {"bijgewerkt": 4, "fout": 1}})
    for hours in (1, 2):
        SyncRunFactory(started_at=now.replace(hour=12) - timedelta(days=10, hours=hours),
                       counts={"import": {"aangemaakt": 1}})

    # when the log is read
    page = df_client.get(LOG_URL).content.decode()

    # then each day is one mark, the single run's linked to it, each titled with its counts
    figure = page[page.index('<figure class="run-chart"'):]
    svg = figure[:figure.index("</svg>")]
    assert svg.count('class="chart-mark"') == 2
    assert svg.count("<a href=") == 1 and f'<a href="{run_url(alone)}">' in svg
    assert f"<title>Run {alone.pk}, " in svg and "4 gewijzigd, 1 fouten</title>" in svg
    assert "<title>2 runs, " in svg and "2 gewijzigd, 0 fouten</title>" in svg
    # and the numbers are written for SVG: a point, never the locale's comma
    assert re.search(r'class="chart-hit" x="\d+\.\d\d"', svg)
