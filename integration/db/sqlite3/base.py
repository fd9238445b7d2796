"""Django's SQLite backend, with the host-parameter limit of the SQLite actually loaded.

Django assumes SQLite's old compile-time default of 999 parameters per statement
(`DatabaseFeatures.max_query_params`), so a `bulk_create` of a page of relations (100 rows of
some 30 columns) is cut into four INSERTs, and a page of links or events into two. SQLite has
allowed 32,766 by default since 3.32, and the limit is readable at run time
(`sqlite3.Connection.getlimit`, Python 3.11+): with it, a page is one INSERT per table, as on
PostgreSQL. Everything else is Django's backend unchanged; `settings.py` uses this module only
when the database is SQLite.
"""

from __future__ import annotations

import sqlite3

from django.db.backends.sqlite3 import base, features

#: What Django assumes when the library cannot tell (Python < 3.11 has no `getlimit`).
FALLBACK_MAX_QUERY_PARAMS = 999


def variable_limit() -> int:
    """SQLITE_LIMIT_VARIABLE_NUMBER of the linked SQLite library (the same for every
    connection it opens unless one lowers it, which we never do)."""
    getlimit = getattr(sqlite3.Connection, "getlimit", None)
    if getlimit is None:
        return FALLBACK_MAX_QUERY_PARAMS
    probe = sqlite3.connect(":memory:")
    try:
        return probe.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
    except sqlite3.Error:
        return FALLBACK_MAX_QUERY_PARAMS
    finally:
        probe.close()


class DatabaseFeatures(features.DatabaseFeatures):
    max_query_params = max(FALLBACK_MAX_QUERY_PARAMS, variable_limit())


class DatabaseWrapper(base.DatabaseWrapper):
    features_class = DatabaseFeatures
