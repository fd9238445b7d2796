"""The progress of the import: DigitaleFactuur says no total, so the run page counts the pages and
the klanten read so far, in the reader's language (issue 16)."""

import pytest
from django.utils import translation

from integration.connectors import registry
from integration.connectors.log_views import progress_of
from integration.digitalefactuur import sync
from tests.connectors.conftest import run_url

pytestmark = pytest.mark.django_db


def test_the_import_shows_the_pages_and_klanten_read_until_the_total_is_known(
        configure, sandbox, df_client):
    # given an account of 250 klanten (the sandbox answers 100 a page) and no export
    df = configure(push=False)
    sandbox.seed(250)
    seen = []
    connector = registry.connector("digitalefactuur")

    def look(run):
        if run.total == 0 and run.pages:
            with translation.override("en"):
                english = progress_of(run, connector)["count_text"]
            seen.append((run.pages, run.processed, progress_of(run, connector)["count_text"],
                         english))

    # when the run imports, page by page
    run = sync.run(df.pk, "cli", on_progress=look)

    # then each page read is told with the klanten read so far, in Dutch and in English
    assert run.status == "geslaagd", run.message
    assert (1, 100, "Pagina 1: 100 records gelezen; het totaal is nog niet bekend",
            "Page 1: 100 records read; the total is not known yet") in seen
    assert [pages for pages, *_ in seen][:3] == [1, 2, 3]
    assert seen[-1][:2] == (4, 250)  # the fourth page was empty: the list ended there
    # and the page count is stored with the progress, for the progress page to read
    assert df_client.get(run_url(run) + "voortgang/").json()["pages"] == 4
