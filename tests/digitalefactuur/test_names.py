"""A person's name split into voornaam, tussenvoegsel and achternaam (names.py): only known
shapes are split, and joining the parts always gives back what was typed."""

import pytest

from integration.digitalefactuur.names import person_name, split_person_name


@pytest.mark.parametrize(("name", "parts"), [
    ("Pieter van der Meer", ("Pieter", "van der", "Meer")),
    ("Anna Maria de Vries", ("Anna Maria", "de", "Vries")),
    ("van Dijk", ("", "van", "Dijk")),
    ("Jan Jansen", ("Jan", "", "Jansen")),
    ("Kees In 't Veld", ("Kees", "In 't", "Veld")),
])
def test_a_name_of_a_known_shape_is_split_with_its_tussenvoegsels_as_typed(name, parts):
    # when the name is split
    split = split_person_name(name)
    # then into its parts, which join back into the name
    assert split == parts
    assert person_name(*split) == name


@pytest.mark.parametrize("name", ["Meer", "Jan Willem Bakker", "Meer, Pieter", "Jan  Jansen",
                                  "Pieter van der"])
def test_a_name_of_an_unknown_shape_goes_whole_into_achternaam(name):
    # when a name we cannot be sure of is split
    split = split_person_name(name)
    # then nothing is guessed
    assert split == ("", "", name)
