"""After the first run, in a real browser: the log, the messages and the screens in the
administrator's words (issue 16).

The engine runs for real against the sandbox (in the test process, trigger "cli"); the browser
reads what it left: the fields named as the manual's section C in Dutch and in English, a run
against an unreachable DigitaleFactuur without internals, and the English pages without a
Dutch string of ours.
"""

import re
from pathlib import Path

import pytest
from django.contrib.auth.models import Group, User
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect

from integration.connectors.models import SyncRun
from integration.digitalefactuur import sync
from integration.rights.changes import set_right
from integration.rights.models import Right
from tests.e2e.test_run_and_log import configure, grant_digitale_factuur
from tests.factories import OrganisationFactory
from tests.sandbox_fixture import sandbox, sandbox_server  # noqa: F401
from tests.test_translations import PO_FILE, parse_po

SETTINGS_PATH = "/admin/koppelingen/digitalefactuur/"
LOG_PATH = "/admin/koppelingen/digitalefactuur/logboek/"
FIELDS_PATH = "/admin/koppelingen/digitalefactuur/gekoppelde-velden/"
RIGHTS_PATH = "/admin/rechten/"
USERS_PATH = "/admin/auth/user/"

#: What the log said before: the engine's names for the fields, and internals of a failure.
CODE_NAMES = ["organisation_name", "invoice_street", "postal_country", "coc_number",
              "vat_number", "debtor_number", "private_fax", "relatienummer", "kvk_nummer",
              "faxnummer", "btw_nummer"]
INTERNALS = re.compile(r"Error\b|Errno|127\.0\.0\.1|_HTTPPool|port=|Max retries|"
                       r"DIGITALEFACTUUR_|FIELD_ENCRYPTION_KEY|Traceback")


def log_in(browser: Browser, live_server, settings, locale: str) -> Page:
    """A page of a fresh browser context in `locale`, logged in through the real login form."""
    context = browser.new_context(locale=locale, timezone_id="Europe/Amsterdam")
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", settings.DEMO_USERNAME)
    page.fill("#id_password", settings.DEMO_PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(f"{live_server.url}/admin/")
    return page


def every_field_run(sandbox) -> SyncRun:  # noqa: F811
    """A run that creates an organisation in DigitaleFactuur and one in PerfectView, each with
    every mapped field filled: its log lists every field, in both directions."""
    sandbox.add_klant(relatienummer="1900", type="debiteur", naam="Kaasboerderij De Hoeve",
                      adres="Dijkweg 8", postcode="2811 AA", plaats="Reeuwijk", land="NL",
                      faxnummer="0182-390000", iban="NL91ABNA0417164300", bic="ABNANL2A",
                      kvk_nummer="30001237", btw_nummer="NL100023757B01")
    OrganisationFactory(
        organisation_name="Van den Berg & Zonen", invoice_street="Factuurweg 1",
        invoice_postcode="3511 AX", invoice_city="Utrecht", invoice_country="NL", fax="030-1",
        debtor_number="1901", iban="NL91ABNA0417164300", bic="ABNANL2A",
        coc_number="30001238", vat_number="NL100023757B01")
    df = configure(sandbox)
    run = sync.run(df.pk, SyncRun.Trigger.CLI)
    assert run.status == "geslaagd", run.message
    return run


def events_text(page: Page) -> str:
    return page.locator("#run-events").inner_text()


@pytest.mark.slow
def test_the_log_names_every_mapped_field_as_the_manual_in_dutch_and_in_english(
        browser: Browser, live_server, sandbox, settings, demo):  # noqa: F811
    # given the right on and a run that created a klant and a relation with every field
    settings.DIGITALEFACTUUR_BASE_URL = sandbox.base_url
    grant_digitale_factuur()
    run = every_field_run(sandbox)
    run_url = f"{live_server.url}{LOG_PATH}{run.pk}/"

    # when a Dutch administrator reads the run's events
    page = log_in(browser, live_server, settings, "nl-NL")
    page.goto(run_url)

    # then the import names PerfectView's fields, the export DigitaleFactuur's, each with the
    # other side beside it, countries by name, and no engine name anywhere
    text = events_text(page)
    for label in ["Gegevens – Organisatienaam", "Financieel – Factuur – Straat",
                  "Communicatie – Post – Land", "Communicatie – Fax",
                  "Financieel – Administratie – Debiteurnummer",
                  "Overige – Identificatie – Nummer", "Financieel – Administratie – BTW nummer",
                  "Naam / Bedrijf", "Adres", "Relatienummer/Klantnummer", "KVK nummer",
                  "BTW nummer", "Faxnummer", "Nederland", "Kaasboerderij De Hoeve",
                  "Van den Berg & Zonen"]:
        assert label in text, label
    for code in CODE_NAMES:
        assert not re.search(rf"\b{code}\b", text), code
    assert not re.search(r"\bNL\b(?!\d)", text)

    # when following a diff's link
    page.locator("#run-events a.fields-link").first.click()

    # then "Gekoppelde velden" lists the manual's section C
    expect(page).to_have_url(re.compile(FIELDS_PATH))
    expect(page.locator("#df-fields-organisation")).to_contain_text(
        "Financieel – Factuur – Straat")
    expect(page.locator("#df-fields-organisation tr[data-element='adres']").first).to_contain_text(
        "[2] Klantgegevens – Adres")
    expect(page.locator("#df-fields-person")).to_contain_text(
        "Gegevens – Voornaam, Tussenvoegsel en Achternaam")
    expect(page.locator("#df-fields-person-name")).to_contain_text("Pieter van der Meer")

    # when an English administrator reads the same run
    english = log_in(browser, live_server, settings, "en-GB")
    english.goto(run_url)

    # then the same fields in English, countries too
    text = events_text(english)
    for label in ["Details – Organisation name", "Financial – Invoice – Street",
                  "Communication – Postal – Country", "Financial – Accounting – Debtor number",
                  "Name / Company", "Address", "Chamber of Commerce number", "Netherlands"]:
        assert label in text, label
    assert "Financieel –" not in text and "→ Nederland" not in text


@pytest.mark.slow
def test_a_run_and_a_test_against_an_unreachable_digitalefactuur_show_no_internals(
        browser: Browser, live_server, sandbox, settings, demo, closed_port_url):  # noqa: F811
    # given the connector set up, then DigitaleFactuur unreachable (nothing listens)
    grant_digitale_factuur()
    df = configure(sandbox)
    OrganisationFactory(debtor_number="1950")
    settings.DIGITALEFACTUUR_BASE_URL = closed_port_url
    settings.DIGITALEFACTUUR_MAX_ATTEMPTS = 1
    run = sync.run(df.pk, SyncRun.Trigger.CLI)
    assert run.status == "mislukt"

    # when the administrator reads the run, the log and the settings screen
    page = log_in(browser, live_server, settings, "nl-NL")
    page.goto(f"{live_server.url}{LOG_PATH}{run.pk}/")

    # then the message says what happened and what to do, with no internals in it
    message = page.locator("#run-message .outcome-text")
    expect(message).to_contain_text("DigitaleFactuur is niet bereikbaar")
    assert not INTERNALS.search(message.inner_text()), message.inner_text()
    # and the technical cause is folded beneath it, for support
    details = page.locator("#run-message details.technical-details")
    expect(details).to_have_count(1)
    assert details.get_attribute("open") is None
    details.locator("summary").click()
    expect(details.locator("code")).to_contain_text("ServiceUnavailable")
    assert sandbox.access_code not in page.content()

    # when "Koppeling testen" is pressed on the settings screen
    page.goto(f"{live_server.url}{SETTINGS_PATH}")
    page.locator("#df-test-button").click()

    # then the test's message names neither a setting nor an exception, and its cause is folded
    expect(page.locator("#df-last-contact")).to_contain_text("mislukt")
    shown = page.locator("#df-last-contact-message .outcome-text").inner_text()
    assert "DigitaleFactuur is niet bereikbaar" in shown
    assert not INTERNALS.search(shown), shown
    assert not INTERNALS.search(page.locator("ul.messagelist").inner_text())
    expect(page.locator("#df-last-contact-message details.technical-details")).to_have_count(1)
    # and the last run's message on the same screen is the administrator's too
    last_run = page.locator("#df-run-last-message .outcome-text").inner_text()
    assert last_run and not INTERNALS.search(last_run), last_run


def dutch_of_ours() -> tuple[set[str], list[str]]:
    """Our Dutch msgids that English changes: exact texts, and long ones without placeholders
    that must not appear inside any text either."""
    exact, inside = set(), []
    for entry in parse_po(Path(PO_FILE)):
        english = entry.msgstr.get(0, "")
        if entry.msgctxt is not None or english == entry.msgid:
            continue
        exact.add(entry.msgid)
        if len(entry.msgid) >= 25 and "%" not in entry.msgid:
            inside.append(entry.msgid)
    return exact, inside


VISIBLE_TEXTS = """() => {
  const texts = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode, parent = node.parentElement;
    if (!parent || !node.textContent.trim()) continue;
    if (parent.closest("script, style, noscript, template")) continue;
    if (parent.tagName !== "OPTION" && !parent.getClientRects().length) continue;
    texts.push(node.textContent.trim());
  }
  document.querySelectorAll("[title], [aria-label], input[type=submit]").forEach(el => {
    ["title", "aria-label", "value"].forEach(name => {
      if (el.getAttribute(name)) texts.push(el.getAttribute(name).trim());
    });
  });
  return texts;
}"""


@pytest.mark.slow
def test_the_english_pages_of_the_connector_and_rechten_hold_no_dutch_string_of_ours(
        browser: Browser, live_server, sandbox, settings, demo, closed_port_url):  # noqa: F811
    # given the connector tested, a successful run with every field, a failed one, a preview
    settings.DIGITALEFACTUUR_BASE_URL = sandbox.base_url
    grant_digitale_factuur()
    good = every_field_run(sandbox)
    settings.DIGITALEFACTUUR_BASE_URL = closed_port_url
    settings.DIGITALEFACTUUR_MAX_ATTEMPTS = 1
    df = configure(sandbox)
    df.record_test(True, "Verbinding geslaagd", timezone.now())
    df.save()
    bad = sync.run(df.pk, SyncRun.Trigger.CLI)
    exact, inside = dutch_of_ours()
    page = log_in(browser, live_server, settings, "en-GB")
    # and on Rechten a right switched on by the administrator (its audit trail has a line)
    administrator = User.objects.get(username=settings.DEMO_USERNAME)
    set_right(Group.objects.get(name="Administrators"),
              Right.objects.exclude(section="").first(), True, administrator)
    pages = ["/admin/koppelingen/", SETTINGS_PATH, f"{SETTINGS_PATH}api-gegevens/", FIELDS_PATH,
             LOG_PATH, f"{LOG_PATH}{good.pk}/", f"{LOG_PATH}{bad.pk}/",
             # Rechten and Gebruikers: the pages the manual's step A starts from
             RIGHTS_PATH, USERS_PATH, f"{USERS_PATH}add/",
             f"{USERS_PATH}{administrator.pk}/change/"]

    dutch = []
    for path in pages:
        # when each page is read by an English browser
        response = page.goto(f"{live_server.url}{path}")
        assert response.status == 200, path
        # then no visible text of it is one of our Dutch strings, or holds a long one
        for text in page.evaluate(VISIBLE_TEXTS):
            if text in exact or any(msgid in text for msgid in inside):
                dutch.append(f"{path}: {text!r}")
    assert dutch == [], "Dutch on English pages:\n" + "\n".join(dutch)
    # and the relation types of the settings screen read in English
    page.goto(f"{live_server.url}{SETTINGS_PATH}")
    assert "Customer" in page.locator("#id_debtor_relation_type").inner_text()
    # and the Rechten page's audit trail names the right switched on in English
    page.goto(f"{live_server.url}{RIGHTS_PATH}")
    expect(page.locator("#rights-audit")).to_contain_text("Appointments › view")
