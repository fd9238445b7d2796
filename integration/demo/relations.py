"""About forty demo relations, made deterministically so that loading twice changes nothing.

Organisations and persons, debtors (1xxx) and creditors (2xxx), a few with both numbers and a
few with none; Dutch names with accents and `&`; valid IBANs and btw-numbers made with
python-stdnum rather than typed in, so that they stay valid.
"""

import unicodedata
from collections.abc import Iterator

from stdnum import iban
from stdnum.nl import bsn

ORGANISATIONS = [
    # name, street, postcode, city, relation type, debtor?, creditor?
    ("Bakkerij De Korenaar B.V.", "Haagweg 4", "2311 AA", "Leiden", "Klant", True, False),
    ("Van den Berg & Zonen", "Oudegracht 112", "3511 AX", "Utrecht", "Klant", True, False),
    ("Café 't Hoekje", "Grote Markt 7", "9711 LV", "Groningen", "Klant", True, False),
    ("Brasserie Ôde à la Mer", "Boulevard 21", "4381 LA", "Vlissingen", "Klant", True, False),
    ("Drukkerij Smit & De Wit", "Industrieweg 15", "3044 AS", "Rotterdam", "Leverancier",
     False, True),
    ("Hoveniersbedrijf Groen", "Tuinstraat 3", "6811 CH", "Arnhem", "Klant", True, False),
    ("Installatietechniek Jansen B.V.", "Ambachtsweg 9", "5627 BZ", "Eindhoven", "Leverancier",
     False, True),
    ("Koffiebranderij Bruin & Sterk", "Havenkade 18", "1013 BA", "Amsterdam", "Klant",
     True, True),
    ("Stichting Zorg Dichtbij", "Zorgplein 1", "8011 AA", "Zwolle", "Klant", True, False),
    ("Transportbedrijf Van Dijk", "Transportweg 40", "7418 AB", "Deventer", "Leverancier",
     False, True),
    ("Reclamebureau Ideeën & Co", "Keizersgracht 220", "1016 DZ", "Amsterdam", "Klant",
     True, False),
    ("Schildersbedrijf Koenen", "Verfstraat 2", "6221 BN", "Maastricht", "Klant", True, False),
    ("Kantoorartikelen Nederland B.V.", "Papierweg 5", "3821 AE", "Amersfoort", "Leverancier",
     False, True),
    ("Fietsenmaker Tweewieler", "Stationsplein 6", "2011 LR", "Haarlem", "Klant", True, False),
    ("Hotel Het Gulden Vlies", "Markt 30", "5211 JX", "'s-Hertogenbosch", "Klant", True, False),
    ("IT-Beheer Noord", "Zernikepark 12", "9747 AN", "Groningen", "Leverancier", False, True),
    ("Bloemisterij Flora", "Bloemenlaan 8", "2161 AB", "Lisse", "Prospect", False, False),
    ("Accountantskantoor Meijer & Partners", "Lange Voorhout 44", "2514 EG", "Den Haag",
     "Leverancier", False, True),
    ("Zeilschool De Waddenzee", "Havenweg 1", "8881 CA", "Terschelling", "Suspect",
     False, False),
    ("Bouwbedrijf Hendriks", "Bouwstraat 77", "6511 KB", "Nijmegen", "Klant", True, False),
    ("Kaashandel Gouda Goud", "Markt 1", "2801 JJ", "Gouda", "Klant", True, True),
    ("Architectenbureau Lijn & Vorm", "Westersingel 9", "3014 GM", "Rotterdam",
     "Te beoordelen", True, False),
    ("Brouwerij De Drie Hoefijzers", "Haagweg 10", "4814 GC", "Breda", "Klant", True, False),
    ("Société Générale de Belgique", "Rue Royale 30", "1000", "Brussel", "Klant", True, False),
]

PERSONS = [
    # first name, prefix, surname, street, postcode, city, relation type, debtor?, creditor?
    ("Jan", "de", "Vries", "Dorpsstraat 1", "1234 AB", "Amstelveen", "Klant", True, False),
    ("Anneke", "van", "Dijk", "Kerkstraat 14", "3581 HL", "Utrecht", "Klant", True, False),
    ("Sèverine", "", "Bakker", "Molenweg 3", "7411 AA", "Deventer", "Klant", True, False),
    ("Joël", "", "Visser", "Lindelaan 22", "5611 AB", "Eindhoven", "Leverancier", False, True),
    ("Fatima", "el", "Amrani", "Vondelstraat 80", "1054 GN", "Amsterdam", "Klant", True, False),
    ("Pieter", "van der", "Meer", "Zeeweg 5", "1971 HA", "IJmuiden", "Klant", True, False),
    ("Chloë", "", "Jansen", "Beukenlaan 11", "6711 NS", "Ede", "Prospect", False, False),
    ("Henk", "", "Mulder", "Esdoornstraat 2", "9401 AB", "Assen", "Leverancier", False, True),
    ("Ingrid", "de", "Boer", "Parkweg 19", "2585 JH", "Den Haag", "Klant", True, False),
    ("Mohammed", "", "Yilmaz", "Stadhuisplein 4", "3011 AD", "Rotterdam", "Klant", True, False),
    ("Els", "", "Peeters", "Grote Markt 3", "2000", "Antwerpen", "Klant", True, False),
    ("René", "", "Hoekstra", "Terp 7", "8911 AA", "Leeuwarden", "Klant", True, True),
    ("Sanne", "van", "Leeuwen", "Singel 250", "1016 AB", "Amsterdam", "Suspect", False, False),
    ("Bram", "", "Smits", "Wilhelminapark 6", "5041 EB", "Tilburg", "Leverancier", False, True),
    ("Noor", "", "Kramer", "Hoofdstraat 99", "7811 EP", "Emmen", "Klant", True, False),
    ("Daan", "ten", "Brink", "Marktstraat 12", "7511 GE", "Enschede", "Te beoordelen", True,
     False),
]

BANKS = ["ABNA", "INGB", "RABO", "TRIO", "SNSB", "ASNB", "KNAB"]
BICS = {"ABNA": "ABNANL2A", "INGB": "INGBNL2A", "RABO": "RABONL2U", "TRIO": "TRIONL2U",
        "SNSB": "SNSBNL2A", "ASNB": "ASNBNL21", "KNAB": "KNABNL2H"}


def _iban(index: int) -> tuple[str, str]:
    bank = BANKS[index % len(BANKS)]
    body = f"{bank}{417164300 + index * 97:010d}"
    number = "NL" + iban.calc_check_digits(f"NL00{body}") + body
    return number, BICS[bank]


def _vat(index: int) -> str:
    """A Dutch btw-number whose nine digits pass the 11-proof (stdnum's nl.bsn check)."""
    candidate = 100_000_000 + index * 7919
    while not bsn.is_valid(f"{candidate:09d}"):
        candidate += 1
    return f"NL{candidate:09d}B01"


def _ascii(text: str) -> str:
    """An e-mail address's local part without accents: Sèverine -> severine."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(c for c in folded.lower() if c.isalnum())


def _country(postcode: str) -> str:
    return "BE" if postcode.isdigit() else "NL"


def demo_relations() -> Iterator[dict]:
    """Field values of each demo relation, keyed by the model's field names."""
    # 1101 and 2101 onwards: apart from the sandbox's demo klanten (1001, 2001 ...), so that the
    # first demo sync shows both directions instead of unrelated companies sharing a number.
    debtor, creditor = 1100, 2100
    for index, (name, street, postcode, city, rtype, is_debtor, is_creditor) in enumerate(
        ORGANISATIONS
    ):
        country = _country(postcode)
        account, bic = _iban(index)
        debtor += is_debtor
        creditor += is_creditor
        address = {"street": street, "postcode": postcode, "city": city, "country": country}
        yield {
            "kind": "organisation",
            "organisation_name": name,
            "relation_type": rtype,
            "email": f"info@{_ascii(name.split()[0]) or 'bedrijf'}.example",
            "phone": f"0{20 + index}-{5550000 + index * 13}",
            "fax": f"0{20 + index}-{5559000 + index}" if index % 3 == 0 else "",
            **{f"visiting_{k}": v for k, v in address.items()},
            **{f"postal_{k}": v for k, v in address.items()},
            **{f"invoice_{k}": v for k, v in address.items()},
            "debtor_number": str(debtor) if is_debtor else "",
            "creditor_number": str(creditor) if is_creditor else "",
            "iban": account,
            "bic": bic,
            "vat_number": _vat(index) if country == "NL" else "",
            "coc_number": f"{30000000 + index * 1237:08d}" if country == "NL" else "",
        }
    for index, (first, prefix, surname, street, postcode, city, rtype, is_debtor,
                is_creditor) in enumerate(PERSONS, start=len(ORGANISATIONS)):
        account, bic = _iban(index)
        debtor += is_debtor
        creditor += is_creditor
        yield {
            "kind": "person",
            "first_name": first,
            "surname_prefix": prefix,
            "surname": surname,
            "relation_type": rtype,
            "email": f"{_ascii(first)}.{_ascii(surname)}@mail.example",
            "phone": f"06-{12340000 + index * 17}",
            "private_street": street,
            "private_postcode": postcode,
            "private_city": city,
            "private_country": _country(postcode),
            "debtor_number": str(debtor) if is_debtor else "",
            "creditor_number": str(creditor) if is_creditor else "",
            "iban": account,
            "bic": bic,
        }
