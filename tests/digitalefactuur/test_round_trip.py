"""Property: any relation exported to DigitaleFactuur and imported back keeps every mapped field.
"""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from integration.crm.models import Relation
from integration.digitalefactuur.mapping import NUMBER_FIELD, TABLES

pytestmark = pytest.mark.django_db

WORD = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZéëïöüçß0123456789"
                        " -'.&/", min_size=1, max_size=40).map(str.strip).filter(bool)
POSTCODES = {"NL": st.from_regex(r"\A[1-9][0-9]{3} [A-Z]{2}\Z").filter(
                 lambda p: p[-2:] not in ("SA", "SD", "SS")),
             "BE": st.from_regex(r"\A[1-9][0-9]{3}\Z"),
             "DE": st.from_regex(r"\A[0-9]{5}\Z")}
BANKS = [("", ""), ("NL91ABNA0417164300", "ABNANL2A"), ("BE68539007547034", "GEBABEBB"),
         ("DE89370400440532013000", "COBADEFFXXX")]


@st.composite
def relations(draw):
    kind = draw(st.sampled_from(["organisation", "person"]))
    link_kind = draw(st.sampled_from(["debtor", "creditor"]))
    country = draw(st.sampled_from(["NL", "BE", "DE"]))
    iban, bic = draw(st.sampled_from(BANKS))
    number = ("1" if link_kind == "debtor" else "2") + draw(st.from_regex(r"\A[0-9]{3}\Z"))
    block = "invoice" if kind == "organisation" else "private"
    values = {
        f"{block}_street": draw(WORD), f"{block}_city": draw(WORD),
        f"{block}_postcode": draw(POSTCODES[country]), f"{block}_country": country,
        "iban": iban, "bic": bic, NUMBER_FIELD[link_kind]: number,
        ("fax" if kind == "organisation" else "private_fax"): draw(
            st.from_regex(r"\A0[0-9]{2}-[0-9]{7}\Z") | st.just("")),
    }
    if kind == "organisation":
        values["organisation_name"] = draw(WORD)
        values["coc_number"] = draw(st.from_regex(r"\A[0-9]{8}\Z") | st.just(""))
        values["vat_number"] = draw(st.sampled_from(["", "NL123456789B01"]))
    else:
        values["surname"] = draw(WORD)
    return kind, link_kind, values


def mapped_fields(kind, link_kind):
    # A person's name goes out whole and comes back split into its parts: the whole is kept.
    return [("display_name" if row.relation_field == "surname" else row.relation_field)
            for row in TABLES[kind] if row.direction == "both"] + [NUMBER_FIELD[link_kind]]


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(case=relations())
def test_export_then_import_gives_back_every_mapped_field(case, configure, df_sandbox,
                                                          run_sync):
    # given
    kind, link_kind, values = case
    Relation.objects.all().delete()
    df_sandbox.reset()
    original = Relation.objects.create(kind=kind, **values)
    expected = {name: str(getattr(original, name)) for name in mapped_fields(kind, link_kind)}
    exported = run_sync(configure(debtors=False, creditors=False, push=True))
    assert exported.status == "geslaagd", exported.message
    original.delete()  # the CRM forgets it: only DigitaleFactuur still knows the relation

    # when
    options = {"debtors": kind if link_kind == "debtor" else False,
               "creditors": kind if link_kind == "creditor" else False}
    imported = run_sync(configure(push=False, **options))

    # then
    assert imported.status == "geslaagd", imported.message
    back = Relation.objects.get()
    assert back.kind == kind
    assert {name: str(getattr(back, name)) for name in expected} == expected
