"""The control endpoint: counters, planting klanten, seeding, accounts and reset."""

import requests

from .helpers import post_klant, read_klanten


def test_counters_count_per_action_and_method_and_can_be_reset(sandbox, api, http):
    """Every /api request is counted: in total, by GET/POST and by action."""
    # given
    klant = sandbox.add_klant(relatienummer="1001", naam="Geteld")

    # when
    http.get(f"{api}/klanten&page=1")
    http.get(f"{api}/klanten&relatienummer=1001")
    post_klant(http, api, "klant_aanmaken", relatienummer="1002", naam="B")
    post_klant(http, api, "klant_updaten", id=str(klant["id"]), naam="C")
    http.get(f"{api}/klant_verwijderen&klanten_id={klant['id']}")
    http.get(f"{api}/offertes")  # an action the sandbox does not play
    counted = sandbox.counters()
    zeroed = sandbox.reset_counters()

    # then
    assert {key: counted[key] for key in ("total", "GET", "POST", "klanten", "klant_aanmaken",
                                          "klant_updaten", "klant_verwijderen", "other")} == {
        "total": 6, "GET": 4, "POST": 2, "klanten": 2, "klant_aanmaken": 1,
        "klant_updaten": 1, "klant_verwijderen": 1, "other": 1}
    assert zeroed["total"] == 0 and sandbox.counters()["klanten"] == 0


def test_control_requests_are_not_counted(sandbox):
    """Only the API is counted: a test's own bookkeeping never shows up."""
    # when
    sandbox.klanten()
    sandbox.seed(2)

    # then
    assert sandbox.counters()["total"] == 0


def test_a_planted_klant_skips_validation_and_is_served_by_the_api(sandbox, api, http):
    """add_klant plants exactly what a test asks for, even what the API would refuse."""
    # given
    sandbox.add_klant(relatienummer="1001", naam="Eerste")

    # when
    twin = sandbox.add_klant(relatienummer="1001", naam="x" * 150)

    # then
    found = read_klanten(http.get(f"{api}/klanten&relatienummer=1001").text)
    assert [klant["id"] for klant in found][-1] == str(twin["id"])
    assert len(found) == 2


def test_reset_empties_state_faults_counters_and_reactivates(sandbox, api, http):
    """reset returns to a clean sandbox: no klanten, no faults, zero counters, account on."""
    # given
    sandbox.seed(5)
    sandbox.set_faults(error_rate=1)
    sandbox.fail_next("klant_updaten", "timeout")
    sandbox.set_account_active(False)
    http.get(f"{api}/klanten&page=1")

    # when
    sandbox.reset()

    # then
    assert sandbox.klanten() == []
    assert sandbox.faults()["error_rate"] == 0 and sandbox.faults()["pending"] == []
    assert sandbox.counters()["total"] == 0
    assert read_klanten(http.get(f"{api}/klanten&page=1").text) == []


def test_seeding_twice_with_the_same_seed_adds_nothing_the_second_time(sandbox):
    """Generated numbers already in use are skipped, so a repeated seed cannot duplicate."""
    # when
    first = sandbox.seed(40, seed=5)
    second = sandbox.seed(40, seed=5)

    # then
    assert (first, second) == (40, 0)
    numbers = [klant["relatienummer"] for klant in sandbox.klanten()]
    assert len(numbers) == len(set(numbers)) == 40


def test_a_second_account_is_separate_from_the_first(sandbox, http):
    """Accounts do not see each other's klanten; each has its own access code."""
    # given
    sandbox.add_account("20002", "andere-code")
    sandbox.add_klant(relatienummer="1001", naam="Van account 10001")

    # when
    other = http.get(f"{sandbox.base_url}/20002/andere-code/klanten&page=1")
    crossed = http.get(f"{sandbox.base_url}/20002/{sandbox.access_code}/klanten&page=1")

    # then
    assert read_klanten(other.text) == []
    assert crossed.text.startswith("401 ")


def test_unknown_control_routes_and_bad_json_are_refused(sandbox):
    """The control endpoint answers real HTTP errors with a JSON message."""
    # when
    missing = requests.get(f"{sandbox.root_url}/_control/nothing", timeout=5)
    broken = requests.post(f"{sandbox.root_url}/_control/faults", data="{not json",
                           timeout=5)
    wrong_fault = requests.post(f"{sandbox.root_url}/_control/fail_next",
                                json={"action": "klanten", "fault": "meteor"}, timeout=5)

    # then
    assert missing.status_code == 404
    assert broken.status_code == 400
    assert wrong_fault.status_code == 400 and "fault" in wrong_fault.json()["error"]
