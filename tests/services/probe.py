"""Do PostgreSQL and Redis answer?

    python -m tests.services.probe DATABASE_URL REDIS_URL [--wait SECONDS] [--quiet]

Exit status 0 when both answer, 1 (with the reason on stderr) when one does not. `make test` asks
this outside CI to decide whether to run the services tests; `.ci/run` waits with `--wait` for
the machine's services to come up. Needs the extra `scale` (psycopg, redis); no psql or
redis-cli on the machine.
"""

from __future__ import annotations

import argparse
import sys
import time


def problem(database_url: str, redis_url: str) -> str:
    """"" when both answer, else what is wrong."""
    try:
        import psycopg
        import redis
    except ImportError as error:
        return f"the extra `scale` is not installed ({error}): uv sync --extra scale"
    try:
        with psycopg.connect(database_url.replace("postgres://", "postgresql://", 1),
                             connect_timeout=3) as connection:
            connection.execute("SELECT 1")
    except Exception as error:
        return f"PostgreSQL does not answer: {str(error).strip().splitlines()[0]}"
    try:
        redis.from_url(redis_url, socket_connect_timeout=3, socket_timeout=3).ping()
    except Exception as error:
        return f"Redis does not answer: {error}"
    return ""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("database_url")
    parser.add_argument("redis_url")
    parser.add_argument("--wait", type=float, default=0, help="seconds to keep trying")
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)
    deadline = time.monotonic() + args.wait
    while True:
        reason = problem(args.database_url, args.redis_url)
        if not reason:
            return 0
        if time.monotonic() >= deadline:
            if not args.quiet:
                print(reason, file=sys.stderr)
            return 1
        time.sleep(1)


if __name__ == "__main__":
    sys.exit(main())
