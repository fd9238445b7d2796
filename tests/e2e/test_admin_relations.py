"""A person logs in with a browser and records relations with every field of mapping.md."""

import re

from playwright.sync_api import expect

from integration.crm.models import Relation


def test_the_administrator_adds_an_organisation_with_every_field(logged_in_page, live_server):
    page = logged_in_page
    # given the relations list with the demo relations
    page.goto(f"{live_server.url}/admin/crm/relation/")
    expect(page.locator("#result_list")).to_contain_text("Bakkerij De Korenaar B.V.")
    # when the administrator adds an organisation, typing identifiers loosely
    page.click(".object-tools a.addlink")
    page.check("input[name=kind][value=organisation]")
    page.select_option("#id_relation_type", label="Klant")
    page.fill("#id_organisation_name", "Smederij Vonk & Zonen")
    page.fill("#id_email", "info@vonk.example")
    page.fill("#id_phone", "071-5551234")
    page.fill("#id_fax", "071-5551235")
    for block, street in (("visiting", "Ambachtstraat 1"), ("postal", "Postbus 12"),
                          ("invoice", "Factuurweg 3")):
        page.fill(f"#id_{block}_street", street)
        page.fill(f"#id_{block}_postcode", "2311aa")
        page.fill(f"#id_{block}_city", "Leiden")
        page.select_option(f"#id_{block}_country", "NL")
    page.fill("#id_debtor_number", "1901")
    page.fill("#id_creditor_number", "2901")
    page.fill("#id_vat_number", "nl100023757b01")
    page.fill("#id_iban", "nl91 abna 0417 1643 00")
    page.fill("#id_bic", "abnanl2a")
    page.fill("#id_coc_number", "12345678")
    page.click("input[name=_save]")
    # then it is saved, normalised, and listed
    expect(page.locator("ul.messagelist")).to_contain_text("Smederij Vonk & Zonen")
    saved = Relation.objects.get(organisation_name="Smederij Vonk & Zonen")
    assert (saved.iban, saved.bic, saved.vat_number) == (
        "NL91ABNA0417164300", "ABNANL2A", "NL100023757B01")
    assert saved.invoice_postcode == "2311 AA" and saved.postal_street == "Postbus 12"
    assert (saved.debtor_number, saved.creditor_number, saved.coc_number) == (
        "1901", "2901", "12345678")


def test_the_administrator_adds_a_person_and_a_wrong_iban_is_explained(logged_in_page,
                                                                       live_server):
    page = logged_in_page
    # given the add form
    page.goto(f"{live_server.url}/admin/crm/relation/add/")
    page.check("input[name=kind][value=person]")
    page.fill("#id_first_name", "Sèverine")
    page.fill("#id_surname_prefix", "van")
    page.fill("#id_surname", "Dijk")
    page.fill("#id_private_street", "Kerkstraat 14")
    page.fill("#id_private_postcode", "3581 HL")
    page.fill("#id_private_city", "Utrecht")
    page.select_option("#id_private_country", "NL")
    page.fill("#id_private_fax", "030-1234567")
    page.fill("#id_debtor_number", "1902")
    # when the IBAN is mistyped
    page.fill("#id_iban", "NL00ABNA0417164300")
    page.click("input[name=_save]")
    # then the form says what is wrong and nothing is saved
    expect(page.locator(".errorlist")).to_contain_text("geen geldig IBAN")
    assert not Relation.objects.filter(surname="Dijk", first_name="Sèverine").exists()
    # when it is corrected
    page.fill("#id_iban", "NL61INGB0417164300")
    page.click("input[name=_save]")
    # then the person is saved with every field
    expect(page).to_have_url(re.compile(r"/admin/crm/relation/$"))
    person = Relation.objects.get(surname="Dijk", first_name="Sèverine")
    assert str(person) == "Sèverine van Dijk"
    assert (person.private_city, person.private_fax, person.iban) == (
        "Utrecht", "030-1234567", "NL61INGB0417164300")
