"""A person's name, both ways (mapping.py's `PERSON_NAME` row).

DigitaleFactuur has one "Naam / Bedrijf"; PerfectView keeps a person's voornaam, tussenvoegsel
and achternaam apart. An invoice is headed with the whole name as on a letter ("Pieter van der
Meer"), so the export joins the three and the import splits the name back. The split is only
used when joining its parts gives back exactly what was typed; any other shape goes whole into
Achternaam. Both ways are therefore lossless, and a name that round-trips stays as typed; an
import leaves the parts alone when they already make up the name it brings.
"""

from __future__ import annotations

PERSON_NAME_FIELDS = ("first_name", "surname_prefix", "surname")
#: Dutch (and a few French, German, Italian, Portuguese, Arabic) tussenvoegsels, lower case;
#: several may follow each other ("van der", "van den", "in 't"). Words that are also first
#: names ("Ben", "Al") are left out: a wrong split would name the person wrongly.
TUSSENVOEGSELS = frozenset({
    "van", "de", "der", "den", "het", "'t", "te", "ter", "ten", "in", "op", "aan", "bij",
    "uit", "'s", "d'", "du", "la", "le", "da", "dos", "di", "del", "von", "zu", "vom", "zum",
    "el",
})


def person_name(first_name: str, prefix: str, surname: str) -> str:
    """The name as it heads a letter: voornaam, tussenvoegsel, achternaam."""
    return " ".join(part.strip() for part in (first_name, prefix, surname) if part.strip())


def split_person_name(name: str) -> tuple[str, str, str]:
    """(voornaam, tussenvoegsel, achternaam) of a whole name; unknown shapes go whole into
    Achternaam.

    Known shapes, words separated by one space: "Voornaam(en) tussenvoegsel(s) Achternaam",
    "tussenvoegsel(s) Achternaam" and "Voornaam Achternaam". Three or more words without a
    tussenvoegsel ("Jan Willem Bakker", "María García López") say nothing certain: whole.
    """
    name = name.strip()
    words = name.split(" ")
    if len(words) < 2 or "" in words or "," in name:
        return "", "", name
    start = next((i for i, word in enumerate(words) if word.lower() in TUSSENVOEGSELS), None)
    if start is None:
        return (words[0], "", words[1]) if len(words) == 2 else ("", "", name)
    end = start
    while end < len(words) and words[end].lower() in TUSSENVOEGSELS:
        end += 1
    if end == len(words):  # nothing but tussenvoegsels after the first one: no achternaam
        return "", "", name
    return " ".join(words[:start]), " ".join(words[start:end]), " ".join(words[end:])
