"""Scenarios of "Koppeling testen" against the sandbox: one per outcome the screen explains."""

import pytest

from integration.digitalefactuur.models import DigitaleFactuurSettings

from .conftest import SETTINGS_URL, koppeling_form


def press_test(client, **fields):
    """Fill in the credentials and press "Koppeling testen"; follow the redirect."""
    return client.post(SETTINGS_URL, {**koppeling_form(**fields), "action": "test"}, follow=True)


def page_text(response) -> str:
    return response.content.decode()


@pytest.mark.django_db
def test_success_unlocks_the_options_and_shows_the_last_test(df_client, df_sandbox):
    """Right credentials: the success message, the time of the test, the options enabled."""
    # given a connector never tested
    assert not DigitaleFactuurSettings.load().options_unlocked

    # when the administrator fills in the sandbox's credentials and presses the button
    response = press_test(df_client, active=True, account_id=df_sandbox.account_id,
                          access_code=df_sandbox.access_code)

    # then the test succeeded, was recorded, and the options are unlocked
    df = DigitaleFactuurSettings.load()
    assert df.last_test_ok is True and df.last_test_at is not None
    assert df.options_unlocked
    html = page_text(response)
    assert "De koppeling werkt" in html
    assert "geslaagd" in html
    assert 'name="debtors_enabled"' in html
    assert 'name="debtors_enabled" disabled' not in html
    assert df_sandbox.counters()  # the sandbox was really called


@pytest.mark.django_db
def test_wrong_code_is_refused_with_401_message_and_nothing_is_stored(df_client, df_sandbox):
    """A wrong Toegangscode: the 401 explanation; only a successful test stores credentials."""
    # given the right account id but a wrong code
    # when testing
    response = press_test(df_client, active=True, account_id=df_sandbox.account_id,
                          access_code="niet-de-goede-code")

    # then the screen says the credentials are wrong and that nothing was changed
    html = page_text(response)
    assert "Account-id of toegangscode onjuist" in html
    assert "Er is niets gewijzigd" in html
    # and nothing was stored, but the typed account id is still in the form
    df = DigitaleFactuurSettings.load()
    assert (df.account_id, df.has_access_code, df.active) == ("", False, False)
    assert f'value="{df_sandbox.account_id}"' in html
    assert "niet-de-goede-code" not in html


@pytest.mark.django_db
def test_a_typo_while_testing_leaves_a_working_connector_as_it_was(df_client, tested_settings,
                                                                   df_sandbox):
    """Testing a mistyped code keeps the working code, the options and the schedule."""
    # given a working, tested, active connector with its schedule
    from django_q.models import Schedule

    from integration.digitalefactuur.schedule import SCHEDULE_NAME

    tested_settings.debtors_enabled = True
    tested_settings.save()
    schedule_before = Schedule.objects.get(name=SCHEDULE_NAME)

    # when the administrator types a wrong code and presses "Koppeling testen"
    response = press_test(df_client, access_code="typfout", account_id="10002")

    # then the failure is shown with the promise that nothing changed
    html = page_text(response)
    assert "Account-id of toegangscode onjuist" in html
    assert "Er is niets gewijzigd" in html
    # and the stored code, the options and the schedule are those of before
    df = DigitaleFactuurSettings.load()
    assert df.access_code == df_sandbox.access_code and df.account_id == df_sandbox.account_id
    assert df.options_unlocked and df.debtors_enabled
    assert Schedule.objects.get(name=SCHEDULE_NAME).pk == schedule_before.pk
    # and the typed account id is kept in the form; the run area does not claim "not tested"
    assert 'value="10002"' in html
    assert "nog niet (opnieuw) getest" not in html


@pytest.mark.django_db
def test_inactive_account_gets_the_403_message(df_client, df_sandbox):
    """API access switched off in DigitaleFactuur: the 403 explanation."""
    # given an account whose API access is off
    df_sandbox.set_account_active(False)

    # when testing
    response = press_test(df_client, active=True, account_id=df_sandbox.account_id,
                          access_code=df_sandbox.access_code)

    # then the screen says where to switch it on
    assert "API-toegang staat niet aan" in page_text(response)
    assert not DigitaleFactuurSettings.load().options_unlocked


@pytest.mark.django_db
def test_unreachable_service(df_client, df_sandbox, settings, closed_port_url):
    """Nothing listens at the configured address: "niet bereikbaar"."""
    # given DigitaleFactuur's address points at a closed port
    settings.DIGITALEFACTUUR_BASE_URL = closed_port_url

    # when testing
    response = press_test(df_client, active=True, account_id=df_sandbox.account_id,
                          access_code=df_sandbox.access_code)

    # then
    assert "DigitaleFactuur is niet bereikbaar" in page_text(response)
    assert not DigitaleFactuurSettings.load().has_access_code


@pytest.mark.django_db
def test_timeout_answers_within_the_short_test_timeout(df_client, df_sandbox, settings):
    """DigitaleFactuur does not answer in time: the timeout message names the seconds."""
    # given the sandbox will hold its next answer far longer than the test waits
    settings.DIGITALEFACTUUR_TEST_TIMEOUT = 0.5
    df_sandbox.set_faults(timeout_seconds=10)
    df_sandbox.fail_next("klanten", "timeout", 1)

    # when testing
    response = press_test(df_client, active=True, account_id=df_sandbox.account_id,
                          access_code=df_sandbox.access_code)

    # then
    assert "antwoordde niet binnen 0.5 seconden" in page_text(response)
    assert not DigitaleFactuurSettings.load().has_access_code
    df_sandbox.reset()  # wakes the sleeping answer


@pytest.mark.django_db
def test_garbled_answer_is_an_unexpected_answer(df_client, df_sandbox):
    """A body that is not XML: "onverwacht antwoord"."""
    # given the sandbox garbles its next answer
    df_sandbox.fail_next("klanten", "garbled", 1)

    # when testing
    response = press_test(df_client, active=True, account_id=df_sandbox.account_id,
                          access_code=df_sandbox.access_code)

    # then
    assert "onverwacht antwoord" in page_text(response)
    assert not DigitaleFactuurSettings.load().options_unlocked


@pytest.mark.django_db
def test_outage_does_not_lock_a_working_configuration(df_client, tested_settings, settings,
                                                     closed_port_url):
    """Testing during an outage says so, but keeps the options and the schedule."""
    # given a working, tested configuration
    # when the service is down at the next test
    settings.DIGITALEFACTUUR_BASE_URL = closed_port_url
    response = press_test(df_client, **{"active": True})

    # then the failure is shown and recorded (the stored credentials were tested), the
    # options stay unlocked
    assert "niet bereikbaar" in page_text(response)
    df = DigitaleFactuurSettings.load()
    assert df.last_test_ok is False
    assert df.options_unlocked
