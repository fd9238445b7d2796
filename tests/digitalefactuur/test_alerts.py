"""Alerts: a scheduled run that fails mails the holders of the Digitale Factuur right once; the
same failure within the quiet hours does not mail again; the recovery mails once. The admin's
home shows a banner while the last run failed.

Real parts: the engine's scheduled task against the sandbox (a real HTTP server), then against
a closed port; Django's mail outbox holds what was sent.
"""

from datetime import timedelta

import pytest
from django.core import mail

from integration.connectors.models import SyncRun
from integration.digitalefactuur import tasks
from integration.digitalefactuur.models import DigitaleFactuurSettings
from tests.factories import GroupFactory, UserFactory


@pytest.fixture
def watchers(df_admin):
    """The holder of the right with an e-mail address, and a colleague without the right."""
    df_admin.email = "beheerder@example.nl"
    df_admin.save()
    UserFactory(username="collega", email="collega@example.nl",
                groups=[GroupFactory(name="Users")])
    return df_admin


@pytest.fixture
def scheduled_run(django_capture_on_commit_callbacks):
    """scheduled_run(df) -> the SyncRun of one run of the schedule's task, alerts included."""

    def _run(df) -> SyncRun:
        with django_capture_on_commit_callbacks(execute=True):
            run_id = tasks.scheduled_sync(df.pk)
        return SyncRun.objects.get(pk=run_id)

    return _run


@pytest.mark.django_db
def test_a_failing_schedule_mails_once_within_the_quiet_hours_and_its_recovery_once(
        tested_settings, watchers, scheduled_run, settings, closed_port_url, df_sandbox,
        df_client):
    # given a working connector whose scheduled runs go out, and DigitaleFactuur gone
    tested_settings.debtors_enabled = True
    tested_settings.save()
    settings.DIGITALEFACTUUR_MAX_ATTEMPTS = 1
    settings.DIGITALEFACTUUR_RETRY_BUDGET = 1.0
    settings.SITE_URL = "https://crm.example.nl"
    settings.DIGITALEFACTUUR_BASE_URL = closed_port_url

    # when the schedule's run fails
    first = scheduled_run(tested_settings)

    # then the holder of the right (only) gets one Dutch mail with the summary and the link
    assert first.status == SyncRun.Status.FAILED
    assert len(mail.outbox) == 1
    alert = mail.outbox[0]
    assert alert.to == ["beheerder@example.nl"]
    assert "mislukt" in alert.subject
    assert first.message in alert.body
    assert f"https://crm.example.nl/admin/koppelingen/digitalefactuur/logboek/{first.pk}/" \
        in alert.body
    # and the admin's home shows the banner
    home = df_client.get("/admin/").content.decode()
    assert 'class="errornote connector-problem"' in home

    # when the next scheduled run fails the same way, within the quiet hours
    second = scheduled_run(tested_settings)

    # then no second mail
    assert second.status == SyncRun.Status.FAILED
    assert len(mail.outbox) == 1

    # when DigitaleFactuur is back and the next scheduled run succeeds
    settings.DIGITALEFACTUUR_BASE_URL = df_sandbox.base_url
    recovered = scheduled_run(tested_settings)

    # then one recovery mail, and the banner is gone
    assert recovered.status == SyncRun.Status.SUCCEEDED
    assert len(mail.outbox) == 2
    assert "werkt weer" in mail.outbox[1].subject
    assert 'class="errornote connector-problem"' not in df_client.get("/admin/").content.decode()

    # when another run succeeds
    scheduled_run(tested_settings)
    # then nothing more is mailed
    assert len(mail.outbox) == 2


@pytest.mark.django_db
def test_the_same_failure_mails_again_after_the_quiet_hours(
        tested_settings, watchers, scheduled_run, settings, closed_port_url):
    # given a failure that was mailed longer ago than the quiet hours
    tested_settings.debtors_enabled = True
    tested_settings.save()
    settings.DIGITALEFACTUUR_MAX_ATTEMPTS = 1
    settings.DIGITALEFACTUUR_RETRY_BUDGET = 1.0
    settings.DIGITALEFACTUUR_BASE_URL = closed_port_url
    scheduled_run(tested_settings)
    DigitaleFactuurSettings.objects.update(
        alert_sent_at=DigitaleFactuurSettings.load().alert_sent_at
        - timedelta(hours=settings.SYNC_ALERT_QUIET_HOURS, minutes=1))

    # when the schedule fails again
    scheduled_run(tested_settings)

    # then the reminder goes out
    assert len(mail.outbox) == 2


@pytest.mark.django_db
def test_a_manual_run_that_fails_mails_nobody(tested_settings, watchers, settings,
                                              closed_port_url, django_capture_on_commit_callbacks):
    """Whoever clicks "Koppeling uitvoeren" watches its page; only unattended runs mail."""
    from integration.digitalefactuur import sync

    # given DigitaleFactuur gone
    tested_settings.debtors_enabled = True
    tested_settings.save()
    settings.DIGITALEFACTUUR_MAX_ATTEMPTS = 1
    settings.DIGITALEFACTUUR_RETRY_BUDGET = 1.0
    settings.DIGITALEFACTUUR_BASE_URL = closed_port_url
    # when a manual run fails
    with django_capture_on_commit_callbacks(execute=True):
        run = sync.run(tested_settings.pk, SyncRun.Trigger.MANUAL)
    # then no mail
    assert run.status == SyncRun.Status.FAILED
    assert mail.outbox == []


@pytest.mark.django_db
def test_a_record_that_starts_failing_mails_once_not_again_while_it_keeps_failing(
        tested_settings, watchers, scheduled_run, settings, df_sandbox):
    from tests.factories import OrganisationFactory

    # given a relation to export and DigitaleFactuur refusing its creation twice
    tested_settings.push_enabled = True
    tested_settings.save()
    settings.DIGITALEFACTUUR_MAX_ATTEMPTS = 1
    OrganisationFactory(organisation_name="Weigerachtig BV", debtor_number="1777")
    df_sandbox.fail_next("klant_aanmaken", "error", 2)

    # when the schedule runs and the record fails for the first time
    first = scheduled_run(tested_settings)
    # then one mail names the record
    assert first.status == SyncRun.Status.WITH_ERRORS
    assert len(mail.outbox) == 1 and "Weigerachtig BV" in mail.outbox[0].body

    # when it fails again in the next run
    scheduled_run(tested_settings)
    # then that is no news
    assert len(mail.outbox) == 1

    # when it goes through at last
    last = scheduled_run(tested_settings)
    # then the recovery is mailed
    assert last.status == SyncRun.Status.SUCCEEDED
    assert len(mail.outbox) == 2 and "werkt weer" in mail.outbox[1].subject
