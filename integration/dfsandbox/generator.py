"""Realistic klanten for the demo, the tests and the benchmarks, the same for the same seed.

Mostly Dutch debtors; one in five is a creditor, about one in ten a person (no KvK, no BTW,
no contact person), and a few live in Belgium or Germany, with that country's postcode, IBAN,
BIC and VAT number. Every check digit is computed here: IBANs pass ISO 7064 mod 97 (and Dutch
account numbers the old 11-proof), Dutch BTW numbers `NL#########B01` pass the 11-proof, Belgian
and German VAT numbers their own checks; Dutch postcodes are `1234 AB` without the letter pairs
PostNL never issues.

Numbering: debtors are numbered 1..d and written as `1` followed by that ordinal padded to
k digits, creditors likewise with `2`, where k is 3 while the count fits (1001..1999, 2001..2999,
the seed's 1xxx/2xxx) and otherwise the width of the count (100,000 klanten: 100001..180000 and
200001..220000). So every number is unique and still begins with 1 or 2.

Unmapped data, as the real klanten list carries it: some organisations have a nested
`<contactpersoon>` with its own `id`, `aanhef`, `naam`, `email` and `telefoonnummer`; some
debtors with a bank account an SEPA mandate (`automatische_incasso`, `mandaat_kenmerk`,
`mandaat_datum` as dd-mm-yyyy); some persons `soort`, `aanhef`, `voorletters`, `tussenvoegsel`,
`achternaam` and `mobiel`. The first klant always has a contactpersoon and a mandate, so the
demo's first screen shows them. These come from a second random generator, also seeded, so the
mapped elements are the same as without them.

Deliberate oddities, for the sync rules (at these positions when n is large enough):
position 6 has a debtor number but no `type`; position 11 has no bank details (empty `iban`,
`bic`, `rekeningnummer`, `tenaamstelling`); position 17 has the number 9001 (neither 1xxx nor 2xxx)
and no `type`.
"""

from __future__ import annotations

import functools
import random
import unicodedata

NO_TYPE_POSITION = 6
NO_BANK_POSITION = 11
ODD_NUMBER_POSITION = 17
ODD_NUMBER = "9001"

# (plaats, lowest and highest four-digit postcode area, netnummer)
DUTCH_PLACES = [
    ("Amsterdam", 1011, 1109, "020"), ("Rotterdam", 3011, 3089, "010"),
    ("'s-Gravenhage", 2491, 2599, "070"), ("Utrecht", 3511, 3585, "030"),
    ("'s-Hertogenbosch", 5211, 5237, "073"), ("Leiden", 2311, 2334, "071"),
    ("Groningen", 9711, 9747, "050"), ("Eindhoven", 5611, 5658, "040"),
    ("Maastricht", 6211, 6229, "043"), ("Zwolle", 8011, 8043, "038"),
    ("Haarlem", 2011, 2037, "023"), ("Arnhem", 6811, 6846, "026"),
    ("Nijmegen", 6511, 6546, "024"), ("Tilburg", 5011, 5049, "013"),
    ("Delft", 2611, 2629, "015"), ("Leeuwarden", 8911, 8939, "058"),
    ("Alphen aan den Rijn", 2401, 2409, "0172"), ("Den Helder", 1781, 1789, "0223"),
    ("Hoorn", 1621, 1628, "0229"), ("Goes", 4461, 4465, "0113"),
]
BELGIAN_PLACES = [("Antwerpen", 2000), ("Gent", 9000), ("Brussel", 1000), ("Leuven", 3000),
                  ("Brugge", 8000), ("Liège", 4000)]
GERMAN_PLACES = [("Düsseldorf", 40213), ("Köln", 50667), ("Aachen", 52062),
                 ("Münster", 48143), ("Kleve", 47533), ("Emmerich am Rhein", 46446)]

DUTCH_STREETS = ["Haagweg", "Kerkstraat", "Dorpsstraat", "Molenweg", "Stationsplein",
                 "Prinsengracht", "Oudegracht", "Wilhelminalaan", "Industrieweg", "Marktplein",
                 "Burgemeester de Withstraat", "Van 't Hoffstraat", "Achter de Hoven",
                 "Koningin Julianaweg", "Havenkade", "Tiendweg"]
BELGIAN_STREETS = ["Meir", "Veldstraat", "Rue de la Loi", "Bondgenotenlaan", "Steenstraat"]
GERMAN_STREETS = ["Königsallee", "Hohe Straße", "Pontstraße", "Prinzipalmarkt", "Große Straße"]

SURNAMES = ["De Vries", "Jansen", "Van den Berg", "Bakker", "Visser", "Smit", "Meijer",
            "De Boer", "Mulder", "Van Dijk", "Dekker", "Brouwer", "Van Leeuwen", "Kuijpers",
            "Van 't Hof", "D'Hondt", "Çelik", "Van der Meer", "Hermans", "Peeters", "Müller",
            "El Amrani", "Sánchez", "Bos", "Verhoeven", "Maes"]
FIRST_NAMES = ["Jan", "Anouk", "Pieter", "Sanne", "Joël", "Eva", "Daan", "Fleur", "Thijs",
               "Noëlle", "Mohamed", "Inge", "Bram", "Lotte", "René", "Zoë", "Kees", "Marieke"]
TUSSENVOEGSELS = {"Van", "De", "Den", "Der", "'t", "Het", "Ter", "Ten"}
TRADES = ["Bakkerij", "Installatiebedrijf", "Transportbedrijf", "Hoveniersbedrijf",
          "Adviesbureau", "Garage", "Schildersbedrijf", "Drukkerij", "Café", "Bloemenhandel",
          "Loodgietersbedrijf", "Boekhandel", "Accountantskantoor", "Fietsenmaker",
          "Crèmerie", "Timmerfabriek"]
FANCY_NAMES = ["De Korenaar", "Het Anker", "De Zwaan", "'t Hoekje", "De Gouden Leeuw",
               "Noorderlicht", "De Eendracht", "Hélène", "L'Étoile", "De Drie Gebroeders",
               "Zuiderzon", "Het Wapen van Delft"]
LEGAL_FORMS = ["B.V.", "B.V.", "V.O.F.", "", "N.V.", "Holding B.V."]
SALUTATIONS = {"Jan": "Dhr.", "Pieter": "Dhr.", "Joël": "Dhr.", "Daan": "Dhr.", "Thijs": "Dhr.",
               "Mohamed": "Dhr.", "Bram": "Dhr.", "René": "Dhr.", "Kees": "Dhr."}
DEPARTMENTS = ["Administratie", "Inkoop", "Financiën", "Crediteurenadministratie", "Directie"]

DUTCH_BANKS = [("ABNA", "ABNANL2A"), ("RABO", "RABONL2U"), ("INGB", "INGBNL2A"),
               ("SNSB", "SNSBNL2A"), ("TRIO", "TRIONL2U"), ("ASNB", "ASNBNL21"),
               ("KNAB", "KNABNL2H"), ("BUNQ", "BUNQNL2A")]
BELGIAN_BANKS = [("001", "GEBABEBB"), ("068", "GKCCBEBB"), ("734", "KREDBEBB"),
                 ("310", "BBRUBEBB")]
GERMAN_BANKS = [("37040044", "COBADEFFXXX"), ("30070010", "DEUTDEDDXXX"),
                ("10050000", "BELADEBEXXX"), ("50010517", "INGDDEFFXXX")]

# PostNL uses neither these letters nor these pairs in postcodes.
POSTCODE_LETTERS = "ABCDEGHJKLMNPRSTVWXZ"
POSTCODE_PAIRS_NOT_ISSUED = {"SA", "SD", "SS"}


LETTERS_AS_NUMBERS = str.maketrans({chr(code): str(code - 55) for code in range(65, 91)})


def iban_check_digits(country: str, bban: str) -> str:
    """ISO 13616 check digits: BBAN + country + 00, letters as 10..35, 98 - (number mod 97)."""
    digits = (bban + country + "00").translate(LETTERS_AS_NUMBERS)
    return f"{98 - int(digits) % 97:02d}"


def make_iban(country: str, bban: str) -> str:
    return country + iban_check_digits(country, bban) + bban


def eleven_proof_account(rng: random.Random) -> str:
    """A ten-digit Dutch account number whose digits, weighted 10..1, sum to a multiple of 11."""
    while True:
        first_nine = f"{rng.randrange(10**9):09d}"
        total = sum(int(d) * w for d, w in zip(first_nine, range(10, 1, -1), strict=True))
        last = (-total) % 11
        if last < 10:
            return first_nine + str(last)


def dutch_btw(rng: random.Random) -> str:
    """`NL` + nine digits passing the 11-proof (weights 9..2 and -1) + `B01`."""
    while True:
        first_eight = str(rng.randrange(10**7, 10**8))
        last = sum(int(d) * w for d, w in zip(first_eight, range(9, 1, -1), strict=True)) % 11
        if last < 10:
            return f"NL{first_eight}{last}B01"


def belgian_btw(rng: random.Random) -> str:
    """`BE0` + seven digits + two check digits: 97 - (first eight digits mod 97)."""
    base = rng.randrange(2_000_000, 9_999_999)
    return f"BE0{base:07d}{97 - base % 97:02d}"


def german_btw(rng: random.Random) -> str:
    """`DE` + eight digits + an ISO 7064 mod 11,10 check digit."""
    digits = [rng.randrange(1, 10)] + [rng.randrange(10) for _ in range(7)]
    product = 10
    for digit in digits:
        total = (digit + product) % 10 or 10
        product = (2 * total) % 11
    check = (11 - product) % 10
    return "DE" + "".join(map(str, digits)) + str(check)


def dutch_postcode(rng: random.Random, low: int, high: int) -> str:
    while True:
        letters = rng.choice(POSTCODE_LETTERS) + rng.choice(POSTCODE_LETTERS)
        if letters not in POSTCODE_PAIRS_NOT_ISSUED:
            return f"{rng.randint(low, high)} {letters}"


@functools.lru_cache(maxsize=4096)
def slug(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(char for char in plain.lower() if char.isalnum())


def full_name(first: str, surname: str) -> str:
    """`Anouk van den Berg`: after a first name the tussenvoegsels are written in lower case."""
    words = surname.split(" ")
    particles = 0
    while particles < len(words) - 1 and words[particles] in TUSSENVOEGSELS:
        particles += 1
    return " ".join([first, *(w.lower() for w in words[:particles]), *words[particles:]])


def klant_numbers(kinds: list[str]) -> list[str]:
    """Unique numbers per kind: `1`/`2` + the ordinal, padded to three digits or wider."""
    totals = {"debiteur": kinds.count("debiteur"), "crediteur": kinds.count("crediteur")}
    widths = {kind: max(3, len(str(total))) for kind, total in totals.items()}
    seen = {"debiteur": 0, "crediteur": 0}
    numbers = []
    for kind in kinds:
        seen[kind] += 1
        prefix = "1" if kind == "debiteur" else "2"
        numbers.append(prefix + str(seen[kind]).zfill(widths[kind]))
    return numbers


def _address(rng: random.Random, country: str) -> dict[str, str]:
    number = rng.randint(1, 220)
    if country == "België":
        plaats, postcode = rng.choice(BELGIAN_PLACES)
        return {"adres": f"{rng.choice(BELGIAN_STREETS)} {number}", "postcode": str(postcode),
                "plaats": plaats, "land": country, "telefoonnummer": f"+32 3 {number:03d} 12 34"}
    if country == "Duitsland":
        plaats, postcode = rng.choice(GERMAN_PLACES)
        return {"adres": f"{rng.choice(GERMAN_STREETS)} {number}", "postcode": str(postcode),
                "plaats": plaats, "land": country, "telefoonnummer": f"+49 211 {number:03d}456"}
    plaats, low, high, area = rng.choice(DUTCH_PLACES)
    suffix = rng.choice(["", "", "", "a", "-2", " bis"])
    subscriber = rng.randrange(10 ** (9 - len(area)), 10 ** (10 - len(area)))
    return {"adres": f"{rng.choice(DUTCH_STREETS)} {number}{suffix}",
            "postcode": dutch_postcode(rng, low, high), "plaats": plaats, "land": country,
            "telefoonnummer": f"{area}-{subscriber}"}


def _bank(rng: random.Random, country: str) -> tuple[str, str]:
    if country == "België":
        bank, bic = rng.choice(BELGIAN_BANKS)
        account = int(bank + f"{rng.randrange(10_000_000):07d}")
        national = account % 97 or 97
        return make_iban("BE", f"{account:010d}{national:02d}"), bic
    if country == "Duitsland":
        blz, bic = rng.choice(GERMAN_BANKS)
        return make_iban("DE", blz + f"{rng.randrange(10**10):010d}"), bic
    bank, bic = rng.choice(DUTCH_BANKS)
    return make_iban("NL", bank + eleven_proof_account(rng)), bic


def _person_parts(first: str, surname: str) -> dict[str, str]:
    """`Anouk van den Berg` as DigitaleFactuur's person fields: initials, particles, surname."""
    words = surname.split(" ")
    particles = 0
    while particles < len(words) - 1 and words[particles] in TUSSENVOEGSELS:
        particles += 1
    return {"aanhef": SALUTATIONS.get(first, "Mevr."), "voorletters": f"{first[0]}.",
            "tussenvoegsel": " ".join(w.lower() for w in words[:particles]),
            "achternaam": " ".join(words[particles:])}


def _mobile(extra: random.Random) -> str:
    return f"06-{extra.randrange(10_000_000, 100_000_000)}"


def _unmapped(extra: random.Random, position: int, klant: dict[str, str],
              person: tuple[str, str] | None) -> dict:
    """Elements the connector does not map, drawn from `extra` only (see the module doc)."""
    unmapped: dict = {}
    if person is not None:
        if extra.random() < 0.5:
            unmapped.update(soort="particulier", **_person_parts(*person))
            if extra.random() < 0.6:
                unmapped["mobiel"] = _mobile(extra)
    elif klant["contactpersoon_naam"] and (position == 0 or extra.random() < 0.4):
        first = klant["contactpersoon_naam"].split(" ")[0]
        unmapped["soort"] = "bedrijf"
        unmapped["contactpersoon"] = {
            "id": str(extra.randrange(40_000, 90_000)),
            "aanhef": SALUTATIONS.get(first, "Mevr."),
            "naam": klant["contactpersoon_naam"],
            "email": klant["contactpersoon_email"],
            "telefoonnummer": _mobile(extra),
        }
    if klant["type"] == "debiteur" and klant["iban"] and (position == 0
                                                         or extra.random() < 0.25):
        signed = f"{extra.randint(1, 28):02d}-{extra.randint(1, 12):02d}-"
        unmapped.update(automatische_incasso="1",
                        mandaat_kenmerk=f"MDT-{klant['relatienummer']}-01",
                        mandaat_datum=signed + str(extra.randint(2015, 2025)))
    return unmapped


def _klant(rng: random.Random, position: int, kind: str, number: str) -> dict[str, str]:
    # The first few are Dutch organisations: the demo's first screen should look typical.
    country = "Nederland" if position < 3 else rng.choices(
        ["Nederland", "België", "Duitsland"], weights=[90, 6, 4])[0]
    person = position > 2 and rng.random() < 0.1
    surname = rng.choice(SURNAMES)
    if person:
        first = rng.choice(FIRST_NAMES)
        naam = full_name(first, surname)
        domain = rng.choice(["gmail.com", "hotmail.nl", "ziggo.nl", "kpnmail.nl"])
        email = f"{slug(first)}.{slug(surname)}@{domain}"
    else:
        shape = rng.randrange(4)
        if shape == 0:
            naam = f"{rng.choice(TRADES)} {rng.choice(FANCY_NAMES)}"
        elif shape == 1:
            naam = f"{surname} & Zonen"
        elif shape == 2:
            naam = f"{rng.choice(TRADES)} {surname}"
        else:
            naam = f"{surname} & {rng.choice(SURNAMES)}"
        naam = f"{naam} {rng.choice(LEGAL_FORMS)}".strip()
        email = f"{'facturen' if kind == 'crediteur' else 'info'}@{slug(naam)[:24]}.nl"
    klant = {"relatienummer": number, "type": kind, "naam": naam, "email": email,
             "faxnummer": "", "contactpersoon_naam": "", "contactpersoon_afdeling": "",
             "contactpersoon_email": "", "kvk_nummer": "", "btw_nummer": ""}
    klant.update(_address(rng, country))
    iban, bic = _bank(rng, country)
    klant.update(iban=iban, bic=bic, rekeningnummer=iban, tenaamstelling=naam)
    if not person:
        contact_first, contact_last = rng.choice(FIRST_NAMES), rng.choice(SURNAMES)
        klant.update(
            contactpersoon_naam=full_name(contact_first, contact_last),
            contactpersoon_afdeling=rng.choice(DEPARTMENTS),
            contactpersoon_email=f"{slug(contact_first)[0]}.{slug(contact_last)}@"
                                 f"{email.partition('@')[2]}",
        )
        if country == "Nederland":
            klant["kvk_nummer"] = str(rng.randrange(10_000_000, 100_000_000))
            klant["btw_nummer"] = dutch_btw(rng)
        elif country == "België":
            klant["btw_nummer"] = belgian_btw(rng)
        else:
            klant["btw_nummer"] = german_btw(rng)
        if rng.random() < 0.2:
            klant["faxnummer"] = klant["telefoonnummer"][:-1] + "9"
    klant["_person"] = (first, surname) if person else None
    return klant


def generate_klanten(n: int, seed: int = 0) -> list[dict]:
    """`n` klanten as element dicts (no `id`: the store assigns it), the same for each seed.

    Unmapped elements follow the known ones; a nested one is a dict of child name to text."""
    rng = random.Random(seed)
    # A generator of its own: adding unmapped data leaves every mapped value as it was.
    extra = random.Random(f"unmapped-{seed}")
    # One in five a creditor, at fixed positions, so that even a small demo shows both kinds.
    kinds = ["crediteur" if position % 5 == 2 else "debiteur" for position in range(n)]
    numbers = klant_numbers(kinds)
    klanten = []
    for position, (kind, number) in enumerate(zip(kinds, numbers, strict=True)):
        klant = _klant(rng, position, kind, number)
        if position == NO_TYPE_POSITION:
            klant["type"] = ""
        elif position == NO_BANK_POSITION:
            klant.update(iban="", bic="", rekeningnummer="", tenaamstelling="")
        elif position == ODD_NUMBER_POSITION:
            klant.update(relatienummer=ODD_NUMBER, type="")
        person = klant.pop("_person")
        klant.update(_unmapped(extra, position, klant, person))
        klanten.append(klant)
    return klanten
