"""A stand-alone fake DigitaleFactuur, for the embedded demo, the tests and the benchmarks.

It implements `shared/digitalefactuur-api.md` with its own code (it shares nothing with the
connector's client, so a misreading of the page cannot hide in both) and adds fault injection.
One module per role: `documents` (the XML and error format), `store` (accounts, klanten, the
state file), `api` (the four actions; also our decided klant_updaten semantics), `faults`
(latency, errors, timeouts, garbled bodies, rate limit, counters), `control_api` (`/_control`),
`page` (the overview at `/`), `generator` (realistic klanten), `app` (the WSGI application),
`server` (threaded wsgiref), `control` (a urllib client for `/_control`) and `__main__` (the CLI).
"""
