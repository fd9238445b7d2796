"""The client against the sandbox, a real HTTP server on a free port.

Each operation, each API error code and its exception, retries counted on the sandbox's own
counters, Retry-After and the retry budget, and the one rule that matters most for writes: a
create that failed ambiguously is looked up before it is tried again, never duplicated.
"""

import pytest

from integration.digitalefactuur.client import DigitaleFactuurClient, ReadOnlyClient, WriteRefused
from integration.digitalefactuur.errors import (
    AccessNotActive,
    AuthenticationFailed,
    Conflict,
    InvalidField,
    NotFound,
    RateLimited,
    ServiceUnavailable,
    Timeout,
)
from integration.digitalefactuur.schema import DfKlant


@pytest.fixture
def connect(sandbox, sleeper):
    """Build a client for the sandbox; fast timeouts, a recording sleep."""
    clients = []

    def build(access_code=None, **options):
        options = {"connect_timeout": 2, "read_timeout": 2, "sleep": sleeper, **options}
        client = DigitaleFactuurClient(sandbox.base_url, sandbox.account_id,
                                       access_code or sandbox.access_code, **options)
        clients.append(client)
        return client

    yield build
    for client in clients:
        client.close()


def numbers_in_sandbox(sandbox, number):
    return [k for k in sandbox.klanten() if k.get("relatienummer") == number]


def test_all_pages_are_read_lazily_until_an_empty_page(sandbox, connect):
    """250 klanten arrive in pages, fetched one at a time, ending at the first empty page."""
    # given 250 klanten
    sandbox.seed(250, seed=1)
    sandbox.reset_counters()
    client = connect()
    # when the first page is taken
    pages = client.iter_pages()
    first = next(pages)
    # then only that page was asked for
    assert sandbox.counters()["klanten"] == 1
    # when the rest is read
    rest = list(pages)
    # then all 250 came, once each, and the empty fourth page ended the list
    everything = first + [klant for page in rest for klant in page]
    assert len(everything) == 250
    assert {k.id for k in everything} == {str(k["id"]) for k in sandbox.klanten()}
    assert sandbox.counters()["klanten"] == len(rest) + 2


def test_iter_klanten_and_find_by_relatienummer(sandbox, connect):
    """Every klant is listed with its elements; one is found by its number, an absent one not."""
    # given two klanten
    sandbox.add_klant(relatienummer="1001", type="debiteur", naam="Bakkerij De Korenaar B.V.",
                      plaats="Leiden", iban="NL91ABNA0417164300")
    sandbox.add_klant(relatienummer="2001", type="crediteur", naam="Groothandel Zuid")
    client = connect()
    # when they are listed and looked up
    klanten = list(client.iter_klanten())
    found = client.find_by_relatienummer("1001")
    # then the elements are read and the lookup finds exactly that klant
    assert sorted(k.relatienummer for k in klanten) == ["1001", "2001"]
    assert found.naam == "Bakkerij De Korenaar B.V." and found.iban == "NL91ABNA0417164300"
    assert found.type == "debiteur" and found.id
    assert client.find_by_relatienummer(1999) is None


def test_create_answers_the_new_klant_with_its_id_and_the_warnings(sandbox, connect):
    """A create sends the klant (forbidden characters stripped) and returns it with its id."""
    # given a new klant with XML specials and a control character
    klant = DfKlant(relatienummer="1500", type="debiteur", naam="Jansen & Zn <\"B.V.\">\x07",
                    plaats="Den Haag", land="Nederland")
    client = connect()
    # when it is created
    result = client.create(klant)
    # then DigitaleFactuur holds it, specials intact, the control character gone
    assert result.klant.id and not result.recovered
    assert result.klant.naam == "Jansen & Zn <\"B.V.\">"
    stored = numbers_in_sandbox(sandbox, "1500")
    assert len(stored) == 1 and stored[0]["naam"] == "Jansen & Zn <\"B.V.\">"
    # and the warning names the field, not the value
    assert len(result.warnings) == 1 and "'naam'" in result.warnings[0]
    assert "Jansen" not in result.warnings[0]


def test_update_sets_what_it_sends_and_leaves_the_rest(sandbox, connect):
    """Sent fields replace (an empty one clears), fields not sent stay as they were."""
    # given a klant with a place and a fax number
    planted = sandbox.add_klant(relatienummer="1600", type="debiteur", naam="Oud",
                                plaats="Utrecht", faxnummer="030-1234567")
    client = connect()
    # when naam and plaats are sent, plaats empty, faxnummer not sent
    result = client.update(DfKlant(id=str(planted["id"]), naam="Nieuw", plaats=""),
                           fields=["naam", "plaats"])
    # then naam changed, plaats cleared, faxnummer untouched
    assert (result.klant.naam, result.klant.plaats, result.klant.faxnummer) == (
        "Nieuw", "", "030-1234567")
    assert numbers_in_sandbox(sandbox, "1600")[0]["naam"] == "Nieuw"


def test_a_read_only_client_reads_and_refuses_every_write(sandbox, connect):
    """A preview's client: lookups go out, a create or an update never leaves the process."""
    # given a klant and a read-only client
    planted = sandbox.add_klant(relatienummer="1700", type="debiteur", naam="Blijft")
    sandbox.reset_counters()
    client = ReadOnlyClient(connect())
    # when it reads, then tries to write
    found = client.find_by_relatienummer("1700")
    with pytest.raises(WriteRefused):
        client.create(DfKlant(relatienummer="1701", type="debiteur", naam="Nieuw"))
    with pytest.raises(WriteRefused):
        client.update(DfKlant(id=str(planted["id"]), naam="Anders"), fields=["naam"])
    # then the read was answered and no write reached DigitaleFactuur
    assert found.naam == "Blijft"
    assert sandbox.counters()["POST"] == 0
    assert [k["naam"] for k in sandbox.klanten()] == ["Blijft"]


def test_wrong_credentials_and_inactive_access_halt(sandbox, connect):
    """401 and 403 become AuthenticationFailed and AccessNotActive: halt, no retries."""
    # given a wrong code
    sandbox.reset_counters()
    # when / then
    with pytest.raises(AuthenticationFailed) as wrong:
        connect(access_code="fout").test_connection()
    assert wrong.value.action == "halt" and wrong.value.code == 401
    assert "Account-id of toegangscode onjuist" in wrong.value.message
    # given the account's API access switched off
    sandbox.set_account_active(False)
    with pytest.raises(AccessNotActive) as inactive:
        list(connect().iter_klanten())
    assert "API-toegang staat niet aan" in inactive.value.message
    # then neither was retried
    assert sandbox.counters()["klanten"] == 2


def test_record_errors_are_skipped_not_retried(sandbox, connect):
    """404, 409 and 422 are per record: skip, with the field named for a 422."""
    # given one klant
    sandbox.add_klant(relatienummer="1700", type="debiteur", naam="Bestaat")
    sandbox.reset_counters()
    client = connect()
    # when an unknown id is updated, a number in use is created, a too long name is sent
    with pytest.raises(NotFound) as missing:
        client.update(DfKlant(id="987654", naam="X"), fields=["naam"])
    with pytest.raises(Conflict) as taken:
        client.create(DfKlant(relatienummer="1700", type="debiteur", naam="Dubbel"))
    with pytest.raises(InvalidField) as invalid:
        client.create(DfKlant(relatienummer="1701", type="debiteur", naam="x" * 101))
    # then each is a skip, with its code, and none was retried
    assert [e.value.action for e in (missing, taken, invalid)] == ["skip"] * 3
    assert (missing.value.code, taken.value.code, invalid.value.code) == (404, 409, 422)
    assert invalid.value.field == "naam"
    counters = sandbox.counters()
    assert counters["klant_updaten"] == 1 and counters["klant_aanmaken"] == 2


@pytest.mark.parametrize("fault", ["error", "http_error", "timeout", "rate_limit"])
def test_reads_are_retried_and_counted(sandbox, connect, sleeper, fault):
    """Two failures then success: three requests for the first page, two sleeps."""
    # given the next two page requests fail
    sandbox.set_faults(timeout_seconds=1)
    sandbox.fail_next("klanten", fault, count=2)
    sandbox.reset_counters()
    client = connect(read_timeout=0.3)
    # when the list is read
    klanten = list(client.iter_klanten())
    # then it succeeded after two retries
    assert klanten == []
    assert sandbox.counters()["klanten"] == 3
    assert len(sleeper.slept) == 2


def test_retries_end_after_max_attempts(sandbox, connect, sleeper):
    """A service that keeps failing is given up after max_attempts: ServiceUnavailable."""
    # given five failures in a row
    sandbox.fail_next("klanten", "error", count=5)
    sandbox.reset_counters()
    # when read with three attempts
    with pytest.raises(ServiceUnavailable) as caught:
        list(connect(max_attempts=3).iter_klanten())
    # then exactly three requests were made, and the error says retry
    assert sandbox.counters()["klanten"] == 3
    assert caught.value.action == "retry" and caught.value.code == 500


def test_retry_after_is_honoured(sandbox, connect, sleeper):
    """A 429 with Retry-After: 3 makes the client wait exactly 3 seconds, then it succeeds."""
    # given one rate-limited answer asking for 3 seconds
    sandbox.set_faults(retry_after_seconds=3)
    sandbox.fail_next("klanten", "rate_limit", count=1)
    # when the list is read
    list(connect().iter_klanten())
    # then the client slept as asked
    assert sleeper.slept == [3.0]


def test_retry_after_beyond_the_budget_is_not_slept(sandbox, connect, sleeper):
    """Waiting past the retry budget is not done: RateLimited is raised with retry_after."""
    # given a 429 asking for 100 seconds and a budget of 60
    sandbox.set_faults(retry_after_seconds=100)
    sandbox.fail_next("klanten", "rate_limit", count=1)
    sandbox.reset_counters()
    # when / then
    with pytest.raises(RateLimited) as caught:
        list(connect(retry_budget=60).iter_klanten())
    assert caught.value.retry_after == 100 and sleeper.slept == []
    assert sandbox.counters()["klanten"] == 1


def test_the_retry_budget_bounds_the_total_wait(sandbox, connect, sleeper):
    """With many attempts allowed, the sleeps together never exceed the budget."""
    # given endless failures, twenty attempts allowed, a 2 second budget on a fake clock
    sandbox.fail_next("klanten", "error", count=50)
    client = connect(max_attempts=20, retry_budget=2, clock=sleeper.clock)
    # when / then
    with pytest.raises(ServiceUnavailable):
        list(client.iter_klanten())
    assert sum(sleeper.slept) <= 2.0 + 1e-9


def test_an_update_is_retried_after_a_timeout(sandbox, connect):
    """An update is idempotent: after a timeout it is simply sent again."""
    # given a klant and a timeout on the next update (applied, then the answer is late)
    planted = sandbox.add_klant(relatienummer="1800", type="debiteur", naam="Voor")
    sandbox.set_faults(timeout_seconds=2)
    sandbox.fail_next("klant_updaten", "timeout", count=1)
    sandbox.reset_counters()
    # when it is updated
    result = connect(read_timeout=0.3).update(DfKlant(id=str(planted["id"]), naam="Na"),
                                              fields=["naam"])
    # then the second attempt answered
    assert result.klant.naam == "Na"
    assert sandbox.counters()["klant_updaten"] == 2


def test_a_timed_out_create_is_looked_up_not_repeated(sandbox, connect):
    """The create is applied but the answer is late: the lookup finds it, no second create."""
    # given the next create is applied and then answered after 2 s, while we wait 0.3 s
    sandbox.set_faults(timeout_seconds=2)
    sandbox.fail_next("klant_aanmaken", "timeout", count=1)
    sandbox.reset_counters()
    # when the klant is created
    result = connect(read_timeout=0.3).create(
        DfKlant(relatienummer="1900", type="debiteur", naam="Eenmalig"))
    # then it was found by its number, and exists once
    assert result.recovered and result.klant.id and result.klant.naam == "Eenmalig"
    assert sandbox.counters()["klant_aanmaken"] == 1
    assert len(numbers_in_sandbox(sandbox, "1900")) == 1


def test_a_failed_create_that_did_not_happen_is_created_after_the_lookup(sandbox, connect):
    """A 500 is ambiguous too: the lookup finds nothing, so the create is sent again, once."""
    # given the next create fails with a 500 (nothing applied)
    sandbox.fail_next("klant_aanmaken", "error", count=1)
    sandbox.reset_counters()
    # when the klant is created
    result = connect().create(DfKlant(relatienummer="1901", type="debiteur", naam="Tweede"))
    # then a lookup came between the two creates, and the klant exists once
    assert not result.recovered and result.klant.id
    counters = sandbox.counters()
    assert (counters["klant_aanmaken"], counters["klanten"]) == (2, 1)
    assert len(numbers_in_sandbox(sandbox, "1901")) == 1


def test_a_create_without_number_is_not_repeated_after_an_ambiguous_failure(sandbox, connect):
    """Nothing to look up: the failure is raised rather than risk a duplicate."""
    # given a timeout on the next create
    sandbox.set_faults(timeout_seconds=2)
    sandbox.fail_next("klant_aanmaken", "timeout", count=1)
    sandbox.reset_counters()
    # when a klant without relatienummer is created / then the Timeout is raised
    with pytest.raises(Timeout):
        connect(read_timeout=0.3).create(DfKlant(naam="Zonder nummer"))
    assert sandbox.counters()["klant_aanmaken"] == 1


def test_test_connection_is_quick_and_does_not_retry(sandbox, connect):
    """`Koppeling testen`: one call, short timeout, the failure raised as it is."""
    # given a working sandbox / when tested / then nothing is raised
    connect().test_connection()
    # given a slow sandbox
    sandbox.set_faults(latency_ms=1500)
    sandbox.reset_counters()
    # when tested with a 0.3 s timeout / then Timeout, after one request
    with pytest.raises(Timeout):
        connect().test_connection(timeout=0.3)
    assert sandbox.counters()["klanten"] == 1


def test_from_settings_reads_the_django_settings(sandbox, settings):
    """The base URL and the timeouts come from the DIGITALEFACTUUR_* settings."""
    # given the settings point at the sandbox
    settings.DIGITALEFACTUUR_BASE_URL = sandbox.base_url
    settings.DIGITALEFACTUUR_READ_TIMEOUT = 7.5
    # when a client is built from them, with one override
    with DigitaleFactuurClient.from_settings(sandbox.account_id, sandbox.access_code,
                                             max_attempts=2) as client:
        # then it talks to the sandbox with those values
        client.test_connection()
        assert (client.read_timeout, client.max_attempts) == (7.5, 2)
        assert sandbox.access_code not in repr(client)
