"""The read-only overview at `/`: what has arrived in "DigitaleFactuur", per account.

Someone trying the product opens it next to the CRM to see the connector's effect. The columns
follow DigitaleFactuur's own Klantgegevens screen in the seed; a last column lists, compactly,
the further elements a klant carries that the connector does not map (a nested one with its
children in braces), with the values in the cell's tooltip. A small table says which readings
(`readings.py`) the sandbox plays, so whoever watches a demo knows which behaviour it shows.
Every value is passed through `html.escape`, because klant names are exactly where `&`, `<` and
quotes live. The access code is never shown.
"""

from __future__ import annotations

from dataclasses import asdict
from html import escape
from urllib.parse import urlencode

from .documents import KLANT_ELEMENTS
from .readings import Readings
from .store import Store

ROWS_PER_PAGE = 100
COLUMNS = [
    ("Relatienummer", "relatienummer"), ("Type", "type"), ("Naam / Bedrijf", "naam"),
    ("Adres", "adres"), ("Postcode", "postcode"), ("Plaats", "plaats"), ("Land", "land"),
    ("IBAN", "iban"), ("BIC", "bic"), ("KvK", "kvk_nummer"), ("BTW", "btw_nummer"),
]

STYLE = """
body { font-family: system-ui, sans-serif; margin: 1.5rem; color: #222; }
table { border-collapse: collapse; font-size: 0.9rem; }
th, td { border-bottom: 1px solid #ddd; padding: 0.3rem 0.6rem; text-align: left; }
th { background: #f3f5f7; position: sticky; top: 0; }
.inactive { color: #b00; font-weight: bold; }
nav a { margin-right: 0.8rem; }
.readings { margin-bottom: 1rem; font-size: 0.8rem; }
.extras { font-size: 0.8rem; color: #555; }
"""


def _link(account_id: str, page: int) -> str:
    return "/?" + escape(urlencode({"account": account_id, "page": page}))


def _readings_table(readings: Readings) -> str:
    rows = "".join(f"<tr><th>{escape(name)}</th><td>{escape(str(value))}</td></tr>"
                   for name, value in asdict(readings).items())
    return f'<table class="readings"><caption>Readings</caption>{rows}</table>'


def _extras_cell(klant: dict) -> str:
    """The unmapped elements by name (`contactpersoon{id, naam}`), their values as tooltip."""
    names, values = [], []
    for name, value in klant.items():
        if name in KLANT_ELEMENTS:
            continue
        if isinstance(value, dict):
            names.append(f"{name}{{{', '.join(value)}}}")
            values.append(f"{name}: " + "; ".join(f"{k}={v}" for k, v in value.items()))
        else:
            names.append(name)
            values.append(f"{name}={value}")
    if not names:
        return '<td class="extras"></td>'
    return (f'<td class="extras" title="{escape(" | ".join(values))}">'
            f"{escape(', '.join(names))}</td>")


#: Invoices listed on the page (the newest ids last); the rest is counted.
INVOICE_ROWS = 200


def _facturen_section(invoices: list[dict]) -> list[str]:
    """The account's invoices as stored: dates and btw as they go out on the wire."""
    parts = [f"<h2>Facturen</h2><p>{len(invoices)} factu{'ren' if len(invoices) != 1 else 'ur'}"
             f"{f'; de eerste {INVOICE_ROWS} getoond' if len(invoices) > INVOICE_ROWS else ''}."
             "</p>",
             "<table><thead><tr><th>Id</th><th>Klant-id</th><th>Factuurnummer</th>"
             "<th>Betaalstatus</th><th>Factuurdatum</th><th>Vervaldatum</th>"
             "<th>Incasso</th><th>Regels (aantal &times; prijs, btw)</th></tr></thead><tbody>"]
    for invoice in invoices[:INVOICE_ROWS]:
        regels = "; ".join(f"{r.get('aantal', '')} &times; {escape(r.get('prijs', ''))} "
                           f"({escape(r.get('btw', ''))})" for r in invoice.get("regels", []))
        number = invoice.get("factuurnummer_voorloop", "") + invoice.get("factuurnummer", "")
        parts.append(
            f"<tr><td>{invoice['id']}</td><td>{invoice['klant_id']}</td>"
            f"<td>{escape(number)}</td><td>{escape(invoice.get('betaalstatus', ''))}</td>"
            f"<td>{escape(invoice.get('factuurdatum', ''))}</td>"
            f"<td>{escape(invoice.get('vervaldatum', ''))}</td>"
            f"<td>{escape(invoice.get('automatische_incasso', ''))}</td><td>{regels}</td></tr>")
    parts.append("</tbody></table>")
    return parts


def render_overview(store: Store, account_id: str | None, page: int,
                    readings: Readings | None = None, invoices=None) -> bytes:
    accounts = store.accounts()
    known = [account["account_id"] for account in accounts]
    if account_id not in known:
        account_id = known[0] if known else None
    parts = ["<!DOCTYPE html>", '<html lang="nl"><head><meta charset="utf-8">',
             "<title>DigitaleFactuur sandbox</title>", f"<style>{STYLE}</style></head><body>",
             "<h1>DigitaleFactuur sandbox</h1>",
             "<p>Een nagebootste DigitaleFactuur voor de demo en de tests; alleen-lezen.</p>",
             _readings_table(readings or Readings())]
    if len(accounts) > 1:
        parts.append("<nav>Account: " + "".join(
            f'<a href="{_link(a["account_id"], 1)}">{escape(a["account_id"])}</a>'
            for a in accounts) + "</nav>")
    if account_id is None:
        parts.append("<p>Geen accounts.</p></body></html>")
        return "\n".join(parts).encode("utf-8")
    account = next(a for a in accounts if a["account_id"] == account_id)
    total = account["klanten"]
    last_page = max(1, -(-total // ROWS_PER_PAGE))
    page = min(max(1, page), last_page)
    status = "" if account["active"] else ' <span class="inactive">(API-toegang inactief)</span>'
    parts.append(f"<h2>Account {escape(account_id)}{status}</h2>")
    parts.append(f"<p>{total} klant{'en' if total != 1 else ''}; pagina {page} van "
                 f"{last_page}.</p>")
    if last_page > 1:
        links = []
        if page > 1:
            links.append(f'<a href="{_link(account_id, page - 1)}">&laquo; Vorige</a>')
        if page < last_page:
            links.append(f'<a href="{_link(account_id, page + 1)}">Volgende &raquo;</a>')
        parts.append("<nav>" + "".join(links) + "</nav>")
    parts.append("<table><thead><tr><th>Id</th>"
                 + "".join(f"<th>{escape(title)}</th>" for title, _ in COLUMNS)
                 + "<th>Overige gegevens</th></tr></thead><tbody>")
    for klant in store.page(account_id, page, size=ROWS_PER_PAGE):
        cells = "".join(f"<td>{escape(klant[name])}</td>" for _, name in COLUMNS)
        parts.append(f"<tr><td>{klant['id']}</td>{cells}{_extras_cell(klant)}</tr>")
    parts.append("</tbody></table>")
    if invoices is not None:
        parts.extend(_facturen_section(invoices.all(account_id)))
    parts.append("</body></html>")
    return "\n".join(parts).encode("utf-8")
