"""A stand-alone fake DigitaleFactuur, for the embedded demo, the tests and the benchmarks.

It implements `shared/digitalefactuur-api.md` with its own code (it shares nothing with the
connector's client, so a misreading of the page cannot hide in both) and adds fault injection.
Where public sources leave the real service's behaviour open, it plays each plausible reading on
demand. One module per role: `documents` (the XML and error format, tidy and wild), `store`
(accounts, klanten with the elements we do not map, the state file), `api` (the four actions),
`readings` (the readings of the open points: paging, the number filter, write answers, update
semantics, duplicates, document shape), `faults` (latency, errors, timeouts, garbled bodies,
rate limit, counters), `control_api` (`/_control`), `page` (the overview at `/`), `generator`
(realistic klanten), `app` (the WSGI application), `server` (threaded wsgiref), `control` (a
urllib client for `/_control`) and `__main__` (the CLI).
"""
