"""Fault injection: each kind, the one-shot queue, the rate limit and reproducibility."""

import time

import pytest
import requests
from defusedxml.ElementTree import ParseError, fromstring

from .helpers import post_klant, read_klanten


def outcome(response) -> str:
    return response.text[:3] if response.text[:3].isdigit() else "ok"


def test_latency_delays_every_answer(sandbox, api, http):
    """latency_ms is slept before each API request is answered (a lower bound, not a timing)."""
    # given
    sandbox.set_faults(latency_ms=300)

    # when
    started = time.monotonic()
    response = http.get(f"{api}/klanten&page=1")

    # then
    assert time.monotonic() - started >= 0.3
    assert outcome(response) == "ok"


def test_an_error_fault_is_a_500_body_and_the_write_does_not_happen(sandbox, api, http):
    """error_rate=1: every request answers `500 ...` with HTTP 200 and nothing is stored."""
    # given
    sandbox.set_faults(error_rate=1)

    # when
    response = post_klant(http, api, "klant_aanmaken", relatienummer="1001", naam="A")

    # then
    assert response.status_code == 200 and response.text.startswith("500 ")
    assert sandbox.klanten() == []


def test_an_http_error_fault_is_a_real_503(sandbox, api, http):
    """Real HTTP errors can happen too; the sandbox offers one as a one-shot fault."""
    # given
    sandbox.fail_next("klanten", "http_error")

    # when
    first = http.get(f"{api}/klanten&page=1")
    second = http.get(f"{api}/klanten&page=1")

    # then
    assert first.status_code == 503
    assert second.status_code == 200


def test_a_timed_out_write_is_applied_but_the_client_never_hears(sandbox, api, http):
    """The ambiguous failure: the client's read times out, yet the klant was created."""
    # given
    sandbox.set_faults(timeout_seconds=1)
    sandbox.fail_next("klant_aanmaken", "timeout")

    # when
    with pytest.raises(requests.ReadTimeout):
        post_klant(http, api, "klant_aanmaken", timeout=(5, 0.3), relatienummer="1001",
                   naam="Misschien aangemaakt")

    # then
    assert [klant["naam"] for klant in sandbox.klanten()] == ["Misschien aangemaakt"]
    found = read_klanten(http.get(f"{api}/klanten&relatienummer=1001").text)
    assert len(found) == 1


def test_a_patient_client_gets_the_late_answer(sandbox, api, http):
    """A timeout only delays the answer: a client waiting longer still receives it."""
    # given
    sandbox.set_faults(timeout_seconds=0.5, timeout_rate=1)

    # when
    started = time.monotonic()
    response = http.get(f"{api}/klanten&page=1", timeout=5)

    # then
    assert time.monotonic() - started >= 0.5
    assert read_klanten(response.text) == []


def test_garbled_bodies_are_neither_xml_nor_an_error_code(sandbox, api, http):
    """garbled_rate=1: truncated XML or random bytes, never parseable, never `NNN ...`."""
    # given
    sandbox.seed(3)
    sandbox.set_faults(garbled_rate=1, fault_seed=7)

    # when
    bodies = [http.get(f"{api}/klanten&page=1").content for _ in range(8)]

    # then
    for body in bodies:
        assert not body[:3].isdigit()
        with pytest.raises((ParseError, UnicodeDecodeError, ValueError)):
            fromstring(body)


def test_the_rate_limit_answers_429_with_retry_after(sandbox, api, http):
    """Beyond rate_limit requests in a second: `429 ...` with a Retry-After in whole seconds."""
    # given
    sandbox.set_faults(rate_limit=3)

    # when
    responses = [http.get(f"{api}/klanten&page=1") for _ in range(6)]

    # then
    limited = [r for r in responses if r.text.startswith("429 ")]
    assert limited, [r.text[:20] for r in responses]
    assert all(int(r.headers["Retry-After"]) >= 1 for r in limited)
    assert all(outcome(r) == "ok" for r in responses[:3])


def test_after_waiting_retry_after_the_request_is_accepted(sandbox, api, http):
    """Retry-After tells the truth: waiting that long is enough."""
    # given
    sandbox.set_faults(rate_limit=1)
    http.get(f"{api}/klanten&page=1")
    limited = http.get(f"{api}/klanten&page=1")
    assert limited.text.startswith("429 ")

    # when
    time.sleep(int(limited.headers["Retry-After"]))
    retried = http.get(f"{api}/klanten&page=1")

    # then
    assert outcome(retried) == "ok"


def test_fail_next_hits_exactly_count_requests_of_that_action(sandbox, api, http):
    """A queued fault hits the next N requests to its action and no other action."""
    # given
    sandbox.fail_next("klanten", "error", count=2)

    # when
    created = post_klant(http, api, "klant_aanmaken", relatienummer="1001", naam="A")
    lists = [outcome(http.get(f"{api}/klanten&page=1")) for _ in range(3)]

    # then
    assert outcome(created) == "ok"
    assert lists == ["500", "500", "ok"]
    assert sandbox.counters()["faults"]["error"] == 2


def test_a_one_shot_rate_limit_sends_retry_after(sandbox, api, http):
    """fail_next(..., "rate_limit") is a 429 with the configured Retry-After."""
    # given
    sandbox.set_faults(retry_after_seconds=7)
    sandbox.fail_next("*", "rate_limit")

    # when
    response = http.get(f"{api}/klanten&page=1")

    # then
    assert response.text.startswith("429 ") and response.headers["Retry-After"] == "7"


def test_the_same_fault_seed_gives_the_same_faults(sandbox, api, http):
    """Faults are reproducible: one draw per request from a generator seeded by fault_seed."""
    # given
    def run(seed):
        sandbox.set_faults(error_rate=0.3, garbled_rate=0.2, fault_seed=seed)
        return [outcome(http.get(f"{api}/klanten&page=1")) for _ in range(30)]

    # when
    first, second, other = run(42), run(42), run(43)

    # then
    assert first == second
    assert first != other
    assert {"ok", "500"} <= set(first)


@pytest.mark.parametrize("fault_settings", [{"error_rate": 1.5}, {"error_rate": 0.6,
                                                             "timeout_rate": 0.6},
                                      {"no_such_setting": 1}, {"latency_ms": -1}])
def test_invalid_fault_settings_are_refused(sandbox, fault_settings):
    """The control endpoint answers 400 and leaves the faults as they were."""
    # when
    response = requests.post(f"{sandbox.root_url}/_control/faults", json=fault_settings, timeout=5)

    # then
    assert response.status_code == 400 and "error" in response.json()
    assert sandbox.faults()["error_rate"] == 0
