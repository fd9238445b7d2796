"""The bare baselines: the floor's work done as plainly as Python allows, nothing more.

What "bare" means here (the README repeats it):

- HTTP: one `requests.Session` (keep-alive where the server offers it), the same URLs as the
  client, no retries, no deadline watchdog, no size limit;
- XML in: `xml.etree.ElementTree` directly (rows cannot be inserted without reading the
  page; defusedxml's safety, generous reading and normalising are costs of ours);
- XML out: ElementTree, the same elements the engine sends;
- database: per page one transaction with one `bulk_create` of the relations and one of their
  links (the binding is what makes the next sync possible, so it is part of the floor), no sync
  log, no fingerprints, no progress, no lock;
- mapping: a straight copy of elements to fields (plus the three Dutch country names the
  generator uses), no validation.
"""

from __future__ import annotations

# Our own sandbox's answers, read plainly on purpose (see above).
import io
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor

import requests

TIMEOUT = (5, 30)
COUNTRY_CODES = {"nederland": "NL", "belgië": "BE", "duitsland": "DE"}
KIND_BY_TYPE = {"debiteur": "debtor", "crediteur": "creditor"}
KIND_BY_DIGIT = {"1": "debtor", "2": "creditor"}
ORGANISATION_FIELDS = {"naam": "organisation_name", "faxnummer": "fax", "iban": "iban",
                       "bic": "bic", "kvk_nummer": "coc_number", "btw_nummer": "vat_number"}
ADDRESS_BLOCKS = ("postal", "invoice")
#: What the export sends for an organisation, and where it comes from in the CRM.
EXPORT_ELEMENTS = {"naam": "organisation_name", "adres": "invoice_street",
                   "postcode": "invoice_postcode", "plaats": "invoice_city",
                   "faxnummer": "fax", "iban": "iban", "bic": "bic", "kvk_nummer": "coc_number",
                   "btw_nummer": "vat_number"}
PERSON_EXPORT_ELEMENTS = {"naam": "surname", "adres": "private_street",
                          "postcode": "private_postcode", "plaats": "private_city",
                          "faxnummer": "private_fax", "iban": "iban", "bic": "bic"}
DUTCH_COUNTRY = {"NL": "Nederland", "BE": "België", "DE": "Duitsland"}


def _text(klant: ET.Element, name: str) -> str:
    return (klant.findtext(name) or "").strip()


def _kind(klant: ET.Element) -> str | None:
    number = _text(klant, "relatienummer")
    return KIND_BY_TYPE.get(_text(klant, "type")) or KIND_BY_DIGIT.get(number[:1])


def _relation_types() -> dict:
    from integration.crm.models import RelationType

    return {"debtor": RelationType.objects.get(name="Klant"),
            "creditor": RelationType.objects.get(name="Leverancier")}


def _relation_and_link(klant: ET.Element, types: dict) -> tuple | None:
    """The relation and its link for one `<klant>`: a straight copy, no validation."""
    from integration.crm.models import Relation
    from integration.digitalefactuur.links import DfLink

    kind = _kind(klant)
    if kind is None:
        return None
    number = _text(klant, "relatienummer")
    relation = Relation(kind="organisation", relation_type=types[kind],
                        **{field: _text(klant, element)
                           for element, field in ORGANISATION_FIELDS.items()},
                        **{f"{kind}_number": number})
    country = COUNTRY_CODES.get(_text(klant, "land").lower(), "")
    for block in ADDRESS_BLOCKS:
        setattr(relation, f"{block}_street", _text(klant, "adres"))
        setattr(relation, f"{block}_postcode", _text(klant, "postcode"))
        setattr(relation, f"{block}_city", _text(klant, "plaats"))
        setattr(relation, f"{block}_country", country)
    return relation, DfLink(relation=relation, kind=kind, df_id=_text(klant, "id"),
                            number=number)


def _insert(pairs: list[tuple]) -> int:
    from django.db import transaction

    from integration.crm.models import Relation
    from integration.digitalefactuur.links import DfLink

    with transaction.atomic():
        Relation.objects.bulk_create([relation for relation, _link in pairs])
        DfLink.objects.bulk_create([link for _relation, link in pairs])
    return len(pairs)


def import_pages(prefix: str) -> dict:
    """GET every page, insert its relations and links: the floor of a first import."""
    types = _relation_types()
    session, page, inserted = requests.Session(), 1, 0
    while True:
        body = session.get(f"{prefix}klanten&page={page}", timeout=TIMEOUT).content
        klanten = ET.fromstring(body).findall("klant")  # noqa: S314 - see module docstring
        if not klanten:
            break
        inserted += _insert([pair for klant in klanten
                             if (pair := _relation_and_link(klant, types)) is not None])
        page += 1
    session.close()
    return {"pages": page, "inserted": inserted}


def import_unpaged(prefix: str, slice_size: int = 250) -> dict:
    """One GET of the whole list, read element by element and inserted a slice at a time: the
    floor of an import from an unpaged DigitaleFactuur, in bounded memory."""
    types = _relation_types()
    with requests.Session() as session:
        body = session.get(f"{prefix}klanten", timeout=TIMEOUT).content
    inserted, pairs, root = 0, [], None
    for event, element in ET.iterparse(io.BytesIO(body), events=("start", "end")):  # noqa: S314
        if root is None:
            root = element
        elif event == "end" and element.tag == "klant":
            if (pair := _relation_and_link(element, types)) is not None:
                pairs.append(pair)
            root.clear()
            if len(pairs) >= slice_size:
                inserted += _insert(pairs)
                pairs = []
    if pairs:
        inserted += _insert(pairs)
    return {"bytes": len(body), "inserted": inserted}


def get_pages(prefix: str) -> int:
    """GET every page and nothing else: the floor of a resync that changes nothing."""
    session, page = requests.Session(), 1
    while b"<klant>" in session.get(f"{prefix}klanten&page={page}", timeout=TIMEOUT).content:
        page += 1
    session.close()
    return page


def update_documents(relation_ids: list[int]) -> list[bytes]:
    """The `<klant>` documents of these relations' updates, read in one query."""
    from integration.crm.models import Relation
    from integration.digitalefactuur.links import DfLink

    links = DfLink.objects.filter(relation_id__in=relation_ids).select_related("relation")
    documents = []
    for link in links.iterator(chunk_size=1000):
        relation = link.relation
        person = relation.kind == Relation.Kind.PERSON
        root = ET.Element("klant")
        ET.SubElement(root, "id").text = link.df_id
        ET.SubElement(root, "relatienummer").text = link.number
        ET.SubElement(root, "type").text = "debiteur" if link.kind == "debtor" else "crediteur"
        elements = PERSON_EXPORT_ELEMENTS if person else EXPORT_ELEMENTS
        for element, field in elements.items():
            ET.SubElement(root, element).text = getattr(relation, field)
        country = str(relation.private_country if person else relation.invoice_country)
        ET.SubElement(root, "land").text = DUTCH_COUNTRY.get(country, country)
        documents.append(ET.tostring(root, encoding="utf-8", xml_declaration=True))
    return documents


def post_updates(prefix: str, documents: list[bytes], concurrency: int = 1) -> int:
    """POST every document to klant_updaten; with `concurrency` > 1, over that many sessions."""
    url = f"{prefix}klant_updaten"

    def post_all(part: list[bytes]) -> int:
        session = requests.Session()
        for document in part:
            session.post(url, data={"xml": document}, timeout=TIMEOUT).content  # noqa: B018
        session.close()
        return len(part)

    if concurrency <= 1:
        return post_all(documents)
    parts = [documents[i::concurrency] for i in range(concurrency)]
    with ThreadPoolExecutor(concurrency) as pool:
        return sum(pool.map(post_all, parts))


def get_pages_concurrently(prefix: str, pages: int, concurrency: int) -> int:
    """The page GETs spread over `concurrency` sessions (the page count known in advance)."""

    def get_part(numbers: list[int]) -> int:
        session = requests.Session()
        for number in numbers:
            session.get(f"{prefix}klanten&page={number}", timeout=TIMEOUT).content  # noqa: B018
        session.close()
        return len(numbers)

    numbers = list(range(1, pages + 1))
    with ThreadPoolExecutor(concurrency) as pool:
        return sum(pool.map(get_part, [numbers[i::concurrency] for i in range(concurrency)]))
