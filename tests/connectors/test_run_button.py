""""Koppeling uitvoeren" and "Voorbeeld" on the settings screen: a POST that queues one run and
opens it; disabled with the reason while no run may start; the right and CSRF guard it."""

import pytest
from django.test import Client
from django_q.models import OrmQ

from integration.connectors.models import SyncRun
from integration.digitalefactuur.models import DigitaleFactuurSettings
from tests.connectors.conftest import PREVIEW_URL, RUN_NOW_URL, SETTINGS_URL, run_url
from tests.factories import SyncRunFactory

pytestmark = pytest.mark.django_db


def test_a_click_queues_a_run_and_opens_its_page(configure, df_client, df_admin,
                                                 django_capture_on_commit_callbacks):
    # given
    df = configure()

    # when
    with django_capture_on_commit_callbacks(execute=True):
        response = df_client.post(RUN_NOW_URL)

    # then one queued run, its task holding ids only, and the run page opens
    run = SyncRun.objects.get()
    assert response.status_code == 302 and response.url == run_url(run)
    assert (run.status, run.trigger, run.requested_by) == ("wachtrij", "handmatig", df_admin)
    [task] = OrmQ.objects.all()
    assert task.task["args"] == (df.pk, run.pk)
    page = df_client.get(response.url).content.decode()
    assert 'id="run-progress"' in page and 'http-equiv="refresh"' in page
    assert "De synchronisatie staat in de wachtrij" in page


def test_a_second_click_while_the_run_is_open_opens_it_and_queues_nothing(
        configure, df_client, django_capture_on_commit_callbacks):
    # given a run queued by a first click
    configure()
    with django_capture_on_commit_callbacks(execute=True):
        first = df_client.post(RUN_NOW_URL)

    # when clicking again (a double click, or another tab)
    with django_capture_on_commit_callbacks(execute=True):
        second = df_client.post(RUN_NOW_URL)

    # then the same run, one task, and the screen says so
    assert second.url == first.url
    assert SyncRun.objects.count() == 1 and OrmQ.objects.count() == 1
    settings_page = df_client.get(SETTINGS_URL).content.decode()
    assert 'id="df-run-open"' in settings_page and "Voortgang bekijken" in settings_page


@pytest.mark.parametrize(("state", "reason"), [
    ("inactive", "De koppeling met DigitaleFactuur is niet actief."),
    ("untested", "De koppeling is nog niet (opnieuw) getest"),
    ("nothing_chosen", "Er is niets te synchroniseren"),
])
def test_the_buttons_are_disabled_with_the_reason(configure, df_client, state, reason):
    """Inactive, untested (or credentials changed since), or nothing to synchronise."""
    # given
    df = configure()
    if state == "inactive":
        df.active = False
    elif state == "untested":
        df.account_id = "20002"  # other credentials lock the options again
    else:
        df.debtors_enabled = df.creditors_enabled = df.push_enabled = False
    df.save()

    # when
    page = df_client.get(SETTINGS_URL).content.decode()
    response = df_client.post(RUN_NOW_URL, follow=True)

    # then the buttons are disabled and explain why; a POST anyway queues nothing
    assert 'id="df-run-button" disabled aria-describedby="df-run-reason"' in page
    assert 'id="df-preview-button" disabled' in page
    assert reason in page.split('id="df-run-reason"')[1]
    assert not SyncRun.objects.exists() and not OrmQ.objects.exists()
    assert "Er is geen run gestart" in response.content.decode()


def test_without_the_right_the_screen_explains_and_no_run_starts(configure, colleague_client):
    """The button is never shown to someone without the right: the page names the right."""
    # given
    configure()

    # when
    page = colleague_client.get(SETTINGS_URL)
    posts = [colleague_client.post(url) for url in (RUN_NOW_URL, PREVIEW_URL)]

    # then
    assert page.status_code == 403 and "Digitale Factuur" in page.content.decode()
    assert [post.status_code for post in posts] == [403, 403]
    assert not SyncRun.objects.exists()


def test_an_anonymous_post_goes_to_the_login(configure):
    configure()
    response = Client().post(RUN_NOW_URL)
    assert response.status_code == 302 and "/admin/login/" in response.url
    assert not SyncRun.objects.exists()


def test_every_post_needs_its_csrf_token(configure, df_admin):
    # given a browser-like client that enforces CSRF
    configure()
    failed = SyncRunFactory(status="met_fouten", counts={"export": {"fout": 1}})
    client = Client(enforce_csrf_checks=True)
    client.force_login(df_admin)

    # when posting without the token
    urls = [RUN_NOW_URL, PREVIEW_URL,
            f"/admin/koppelingen/digitalefactuur/runs/{failed.pk}/fouten-opnieuw/"]
    statuses = [client.post(url).status_code for url in urls]

    # then each is refused and nothing is queued
    assert statuses == [403, 403, 403]
    assert SyncRun.objects.count() == 1 and not OrmQ.objects.exists()


def test_the_run_urls_refuse_a_get(configure, df_client):
    configure()
    assert df_client.get(RUN_NOW_URL).status_code == 405
    assert df_client.get(PREVIEW_URL).status_code == 405


def test_the_screen_links_the_last_run_and_the_log(configure, df_client):
    # given
    configure()
    run = SyncRunFactory(status="geslaagd")

    # when
    page = df_client.get(SETTINGS_URL).content.decode()

    # then
    assert f'href="{run_url(run)}"' in page
    assert 'id="df-log-link"' in page and DigitaleFactuurSettings.load().active
