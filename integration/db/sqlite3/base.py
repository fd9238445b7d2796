"""Django's SQLite backend, with the host-parameter limit of the SQLite actually loaded.

Django assumes SQLite's old compile-time default of 999 parameters per statement
(`DatabaseFeatures.max_query_params`), so a `bulk_create` of a page of relations (100 rows of
some 30 columns) is cut into four INSERTs, and a page of links or events into two. SQLite has
allowed 32,766 by default since 3.32, and the limit is readable at run time
(`sqlite3.Connection.getlimit`, Python 3.11+): with it, a page is one INSERT per table, as on
PostgreSQL. Everything else is Django's backend unchanged; `settings.py` uses this module only
when the database is SQLite.

One more: Django rewrites every statement's `%s` placeholders into SQLite's `?` with a regular
expression, on every execution. A page's multi-row INSERT (integration/db/rows.py) has some
3,000 placeholders and is the same text page after page: the rewritten text is kept for the
last few statements (`QMARK_CACHE_SIZE`), so a repeated statement is one dictionary look-up.
"""

from __future__ import annotations

import functools
import sqlite3

from django.db.backends.sqlite3 import base, features

#: What Django assumes when the library cannot tell (Python < 3.11 has no `getlimit`).
FALLBACK_MAX_QUERY_PARAMS = 999

#: Statements whose `?` form is kept (a few kinds of page statement, at a few row counts).
QMARK_CACHE_SIZE = 64


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


@functools.lru_cache(maxsize=QMARK_CACHE_SIZE)
def _qmark_style(query: str) -> str:
    # Exactly what Django's `SQLiteCursorWrapper.convert_query` does for "format" style.
    return base.FORMAT_QMARK_REGEX.sub("?", query).replace("%%", "%")


class SQLiteCursorWrapper(base.SQLiteCursorWrapper):
    def convert_query(self, query, *, param_names=None):
        if param_names is None:
            return _qmark_style(query)
        return super().convert_query(query, param_names=param_names)


class DatabaseWrapper(base.DatabaseWrapper):
    features_class = DatabaseFeatures

    def create_cursor(self, name=None):
        return self.connection.cursor(factory=SQLiteCursorWrapper)
