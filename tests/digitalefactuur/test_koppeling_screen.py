"""Scenarios of the "DigitaleFactuur koppeling" screen: saving, the lock on the options, bad input,
and who may use it."""

import pytest
from django.test import Client

from integration.crm.models import RelationType
from integration.digitalefactuur.models import DigitaleFactuurSettings

from .conftest import SETTINGS_URL, koppeling_form

HELP_URL = SETTINGS_URL + "api-gegevens/"


def text(response) -> str:
    return response.content.decode()


@pytest.mark.django_db
def test_fresh_screen_shows_the_manuals_fields_with_options_disabled(df_client):
    """A first visit: the seed's labels, the help link, and the options disabled with a reason."""
    # when
    response = df_client.get(SETTINGS_URL)

    # then
    html = text(response)
    assert response.status_code == 200
    for label in ("Koppeling activeren", "Accountgegevens API", "Account-id", "Toegangscode",
                  "Waar kan ik mijn API-gegevens vinden?", "Koppeling testen", "Debiteuren",
                  "Crediteuren", "Bijwerken", "aanmaken en bijwerken in PerfectView",
                  "De debiteuren uit Digitale Factuur in PerfectView aanmaken als een",
                  "De debiteuren die aangemaakt worden vanuit DigitaleFactuur in PerfectView, "
                  "worden een", "Te beoordelen", "Wij adviseren het relatietype op Leverancier"):
        assert label in html, label
    assert "Test eerst de koppeling" in html or "Vul het Account-id" in html
    assert 'name="debtors_enabled" disabled' in html
    assert 'type="password"' in html
    # the defaults of the manual: Klant and Leverancier preselected, every hour
    df = DigitaleFactuurSettings.load()
    assert df.debtor_relation_type.name == "Klant"
    assert df.creditor_relation_type.name == "Leverancier"
    assert df.interval_minutes == 60


@pytest.mark.django_db
def test_help_page_has_the_four_steps(df_client):
    """"Waar kan ik mijn API-gegevens vinden?" explains Bedrijf > instellingen > API > Keys."""
    response = df_client.get(HELP_URL)
    html = text(response)
    assert response.status_code == 200
    for step in ("<b>Bedrijf</b>", "<b>Instellingen</b>", "<b>API</b>", "<b>Keys</b>",
                 "<b>Nieuwe API key</b>"):
        assert step in html


@pytest.mark.django_db
def test_saving_credentials_trims_the_code_and_keeps_it_when_left_empty(df_client):
    """Spaces around the code are trimmed; an empty field keeps the stored code."""
    # given a code typed with spaces around it
    df_client.post(SETTINGS_URL, koppeling_form(active=True, account_id=" 10001 ",
                                                access_code="  geheim-123  "))
    df = DigitaleFactuurSettings.load()
    assert df.account_id == "10001"
    assert df.access_code == "geheim-123"

    # when saved again with the code field left empty
    response = df_client.post(SETTINGS_URL, koppeling_form(active=True), follow=True)

    # then the stored code stays, and the page says one is stored
    assert DigitaleFactuurSettings.load().access_code == "geheim-123"
    assert "Er is een toegangscode opgeslagen" in text(response)


@pytest.mark.parametrize(("account_id", "message"), [
    ("", "Vul het Account-id in"),
    ("12a45", "bestaat alleen uit cijfers"),
    ("10 001", "bestaat alleen uit cijfers"),
])
@pytest.mark.django_db
def test_bad_account_id_is_refused_with_a_dutch_message(df_client, account_id, message):
    """An empty or non-numeric account id: a clear message, nothing saved."""
    # when
    response = df_client.post(SETTINGS_URL, koppeling_form(active=True, account_id=account_id,
                                                           access_code="geheim"))

    # then
    assert response.status_code == 200
    assert message in text(response)
    df = DigitaleFactuurSettings.load()
    assert not df.active and not df.has_access_code


@pytest.mark.django_db
def test_activating_without_a_code_asks_for_one(df_client):
    """Activating with an account id but no code at all: the code is asked for."""
    response = df_client.post(SETTINGS_URL, koppeling_form(active=True, account_id="10001"))
    assert "Vul de toegangscode in" in text(response)
    assert not DigitaleFactuurSettings.load().active


@pytest.mark.django_db
def test_options_are_saved_once_unlocked(df_client, tested_settings):
    """After a successful test the options of the seed's screenshot can be chosen and saved."""
    # given
    assessment = RelationType.objects.get(name="Te beoordelen")

    # when
    response = df_client.post(SETTINGS_URL, koppeling_form(
        debtors_enabled=True, debtors_kind="person", debtor_relation_type=assessment.pk,
        creditors_enabled=True, push_enabled=True, interval_minutes=240), follow=True)

    # then
    assert "zijn opgeslagen" in text(response)
    df = DigitaleFactuurSettings.load()
    assert (df.debtors_enabled, df.debtors_kind, df.debtor_relation_type) == (
        True, "person", assessment)
    assert df.creditors_enabled and df.creditors_kind == "organisation"
    assert df.push_enabled and df.interval_minutes == 240


@pytest.mark.django_db
def test_options_posted_while_locked_are_refused_whole(df_client):
    """A hand-made POST with options while locked: refused with a message, nothing saved."""
    # given a connector never tested
    # when options are posted anyway, together with credentials
    response = df_client.post(SETTINGS_URL, {
        "active": "on", "account_id": "10001", "access_code": "geheim",
        "debtors_enabled": "on", "interval_minutes": "15"})

    # then
    assert "kunnen pas worden gewijzigd na een geslaagde test" in text(response)
    df = DigitaleFactuurSettings.load()
    assert not df.debtors_enabled and df.interval_minutes == 60
    assert not df.active and not df.has_access_code  # nothing half saved


@pytest.mark.parametrize("change", [{"account_id": "10002"}, {"access_code": "een-andere-code"}])
@pytest.mark.django_db
def test_changing_credentials_locks_the_options_again(df_client, tested_settings, change):
    """A new account id or code locks the options until the next successful test."""
    # given unlocked options
    assert tested_settings.options_unlocked

    # when the account id or the code is changed
    response = df_client.post(SETTINGS_URL, koppeling_form(**change), follow=True)

    # then
    html = text(response)
    assert "de opties zijn vergrendeld" in html
    assert 'name="debtors_enabled" disabled' in html
    assert not DigitaleFactuurSettings.load().options_unlocked


@pytest.mark.django_db
def test_retyping_the_same_code_keeps_the_options(df_client, tested_settings, df_sandbox):
    """Typing the stored code again is no change: the options stay unlocked."""
    df_client.post(SETTINGS_URL, koppeling_form(access_code=df_sandbox.access_code))
    assert DigitaleFactuurSettings.load().options_unlocked


@pytest.mark.django_db
def test_double_submit_saves_the_same_state(df_client, tested_settings):
    """The same POST twice (a double click) leaves the same settings and one schedule."""
    from django_q.models import Schedule

    # given
    form = koppeling_form(debtors_enabled=True, interval_minutes=30)

    # when
    first = df_client.post(SETTINGS_URL, form)
    state_after_first = DigitaleFactuurSettings.objects.values().get()
    second = df_client.post(SETTINGS_URL, form)

    # then
    assert first.status_code == second.status_code == 302
    after_second = DigitaleFactuurSettings.objects.values().get()
    state_after_first.pop("updated_at"), after_second.pop("updated_at")
    assert after_second == state_after_first
    assert Schedule.objects.count() == 1


@pytest.mark.django_db
def test_without_the_right_the_page_explains_and_a_post_changes_nothing(staff_without_right):
    """A user without Digitale Factuur gets the rights app's 403 page, for GET and POST."""
    # given
    client = Client()
    client.force_login(staff_without_right)

    # when
    page = client.get(SETTINGS_URL)
    post = client.post(SETTINGS_URL, koppeling_form(active=True, account_id="10001",
                                                    access_code="geheim"))

    # then
    assert page.status_code == post.status_code == 403
    assert "Digitale Factuur" in text(page)
    assert not DigitaleFactuurSettings.objects.filter(active=True).exists()
    assert client.get(HELP_URL).status_code == 403


@pytest.mark.django_db
def test_anonymous_visitor_goes_to_the_login(client):
    response = client.get(SETTINGS_URL)
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


@pytest.mark.django_db
def test_post_without_csrf_token_is_refused(df_admin):
    """A POST without the CSRF token: 403, nothing saved."""
    # given a browser-like client that checks CSRF
    client = Client(enforce_csrf_checks=True)
    client.force_login(df_admin)

    # when
    response = client.post(SETTINGS_URL, koppeling_form(active=True, account_id="10001",
                                                        access_code="geheim"))

    # then
    assert response.status_code == 403
    assert not DigitaleFactuurSettings.load().has_access_code


@pytest.mark.django_db
def test_admin_index_has_one_koppelingen_entry_whose_heading_leads_to_the_tiles(df_client):
    """One "Koppelingen" in the admin's index, no separate DigitaleFactuur entry; the app
    heading opens the tiles, not an in-between page with one link."""
    # given a holder of the Digitale Factuur right
    # when opening the admin's index
    html = text(df_client.get("/admin/"))
    # then Koppelingen is there and the connector's own admin entry is not
    assert "/admin/connectors/koppelingen/" in html
    assert "/admin/digitalefactuur/" not in html
    # and the heading "Koppelingen" (the app's index) leads to the tiles
    assert df_client.get("/admin/connectors/")["Location"] == "/admin/koppelingen/"
