"""The read-only overview at `/`: what arrived in "DigitaleFactuur", safely escaped."""

import requests


def test_the_overview_lists_klanten_with_escaped_names(sandbox):
    """`&` and `<` in a name are shown as text, never interpreted as markup."""
    # given
    sandbox.add_klant(relatienummer="1001", type="debiteur", naam="Jansen & <script>Zonen",
                      plaats="'s-Hertogenbosch", iban="NL91ABNA0417164300")

    # when
    response = requests.get(f"{sandbox.root_url}/", timeout=5)

    # then
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/html")
    assert "<title>DigitaleFactuur sandbox</title>" in response.text
    assert "Jansen &amp; &lt;script&gt;Zonen" in response.text
    assert "<script>" not in response.text
    assert "&#x27;s-Hertogenbosch" in response.text
    for column in ("Relatienummer", "Type", "Naam / Bedrijf", "Adres", "Postcode", "Plaats",
                   "Land", "IBAN", "BIC", "KvK", "BTW"):
        assert f"<th>{column}</th>" in response.text


def test_the_overview_pages_and_counts_and_never_shows_the_access_code(sandbox):
    """With 250 klanten the page says how many there are and links to the next page."""
    # given
    sandbox.seed(250)

    # when
    first = requests.get(f"{sandbox.root_url}/", timeout=5).text
    last = requests.get(f"{sandbox.root_url}/?account=10001&page=3", timeout=5).text

    # then
    assert "250 klanten; pagina 1 van 3" in first and "Volgende" in first
    assert "pagina 3 van 3" in last and last.count("<tr><td>") == 50
    assert sandbox.access_code not in first


def test_an_inactive_account_is_marked(sandbox):
    """Someone trying the 403 path sees on the page why the API refuses."""
    # given
    sandbox.set_account_active(False)

    # when
    page = requests.get(f"{sandbox.root_url}/", timeout=5).text

    # then
    assert "API-toegang inactief" in page


def test_the_overview_shows_the_readings_it_plays(sandbox):
    """Whoever watches a demo can see which behaviour the sandbox plays."""
    # given
    sandbox.set_readings(listing="unpaged", documents="wild")

    # when
    page = requests.get(f"{sandbox.root_url}/", timeout=5).text

    # then
    assert "<caption>Readings</caption>" in page
    assert "<tr><th>listing</th><td>unpaged</td></tr>" in page
    assert "<tr><th>documents</th><td>wild</td></tr>" in page
    assert "<tr><th>page_size</th><td>100</td></tr>" in page


def test_the_overview_lists_unmapped_elements_compactly_and_escaped(sandbox):
    """Extras by name, a nested one with its children in braces, the values as a tooltip."""
    # given
    sandbox.add_klant(relatienummer="1001", naam="Korenaar", mobiel="06-<1>",
                      contactpersoon={"id": "4711", "naam": "Anouk & Co"})
    sandbox.add_klant(relatienummer="1002", naam="Zonder extra's")

    # when
    page = requests.get(f"{sandbox.root_url}/", timeout=5).text

    # then
    assert "<th>Overige gegevens</th>" in page
    assert ">mobiel, contactpersoon{id, naam}</td>" in page
    assert "mobiel=06-&lt;1&gt;" in page and "naam=Anouk &amp; Co" in page
    assert '<td class="extras"></td>' in page
