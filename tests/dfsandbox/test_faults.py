"""Fault injection: each kind, the one-shot queue, the rate limit and reproducibility."""

import threading
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


def test_many_threads_together_get_no_more_than_the_budget_per_second(sandbox, api):
    """One token bucket for the whole server: eight connections hammering at once share it."""
    # given a budget of 20 requests a second (one second's worth may go at once)
    rate = 20
    sandbox.set_faults(rate_limit=rate)
    accepted, refused, retry_afters = [], [], set()
    lock = threading.Lock()
    deadline = time.monotonic() + 2.0

    def hammer():
        with requests.Session() as session:
            while time.monotonic() < deadline:
                response = session.get(f"{api}/klanten&page=1", timeout=10)
                with lock:
                    if outcome(response) == "ok":
                        accepted.append(time.monotonic())
                    else:
                        refused.append(response.text[:3])
                        retry_afters.add(response.headers.get("Retry-After"))

    # when eight threads send as fast as they can for two seconds
    started = time.monotonic()
    threads = [threading.Thread(target=hammer) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = max(accepted) - started

    # then together they got the burst and the budget per second, no more
    assert len(accepted) <= rate + rate * elapsed + 1, (len(accepted), elapsed)
    assert len(accepted) >= rate
    # and the rest were refused with a 429 that says when to come back
    assert refused and set(refused) == {"429"}
    assert retry_afters == {"1"}


def test_a_429_says_when_a_request_is_accepted_again_with_latency_on_every_answer(sandbox,
                                                                               api, http):
    """Retry-After tells the truth under the latency knob too; a refusal costs a round trip."""
    # given 2 requests a second, no burst, 50 ms on every answer
    sandbox.set_faults(rate_limit=2, rate_limit_burst=1, latency_ms=50)
    assert outcome(http.get(f"{api}/klanten&page=1")) == "ok"

    # when the next request comes at once
    started = time.monotonic()
    limited = http.get(f"{api}/klanten&page=1")
    took = time.monotonic() - started

    # then it is refused after the latency, with a whole number of seconds to wait
    assert limited.text.startswith("429 ") and took >= 0.05
    wait = int(limited.headers["Retry-After"])
    assert wait == 1
    # and after waiting that long a request is accepted
    time.sleep(wait)
    assert outcome(http.get(f"{api}/klanten&page=1")) == "ok"


def test_the_budget_is_the_whole_servers_not_one_accounts(sandbox, api, http):
    """Another account's requests draw from the same bucket."""
    # given a second account and a budget of 3 at once
    sandbox.add_account("20002", "ander-toegangscode-0002")
    other = api.replace(f"/{sandbox.account_id}/{sandbox.access_code}",
                        "/20002/ander-toegangscode-0002")
    sandbox.set_faults(rate_limit=3)

    # when both accounts ask three times
    answers = [outcome(http.get(f"{root}/klanten&page=1")) for root in (api, other) * 3]

    # then three are answered and three refused, whichever account asked
    assert answers.count("ok") == 3 and answers.count("429") == 3


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
