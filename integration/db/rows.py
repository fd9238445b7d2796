"""Many rows of one model in one prepared multi-row statement, on SQLite and PostgreSQL.

Why not `bulk_create` / `bulk_update`: they run every value of every row through the ORM's SQL
compiler (an expression check, a placeholder and a parameter list per value; `bulk_update` a
CASE branch per field and row), which costs a page of the import more CPU than its network
read. The rows a sync writes are plain values, so the statement's text depends only on the
table, the columns and the number of rows: it is built once per (backend, model, columns, row
count, kind) and cached, and a page costs one `cursor.execute` per table. Values are converted
column by column with the field's own `pre_save` and `get_db_prep_save`; only a value of the
exact type a plain field would hand back unchanged (a `str` for Django's own CharField and
TextField, an `int` for an integer field or a foreign key to one, a `bool` for BooleanField) is
passed as it is, which is what those methods return for it, and a country field's answer is
kept per stored code within a statement, and a moment in UTC is written as the field would
write it (see `_datetime_converter`). Every other field or value (JSON, other datetimes, None,
subclasses) goes through the field.

What is the same as `bulk_create`: the columns (every concrete field; the primary key only where
the object has one), `pre_save` per object (so `auto_now`, `auto_now_add`), foreign keys taken
from related objects saved since they were assigned, primary keys of new rows set on the
objects (RETURNING, in the order of the VALUES, as Django relies on too), `_state` after the
write; no signals (neither sends any). What it does not do: models with parents, database
defaults or generated fields (refused: `bulk_create` is the way for those).

- `insert(objs)`: INSERT .. VALUES (..), (..) [RETURNING pk];
- `upsert(objs, update_fields)`: INSERT .. ON CONFLICT (pk) DO UPDATE SET f = EXCLUDED.f
  (SQLite 3.24+; the whole row is inserted, so the objects must be complete rows);
- `update(objs, fields)`: UPDATE .. SET f = v.f FROM (VALUES (pk, ..), ..) AS v WHERE pk = v.pk
  (SQLite 3.33+; older SQLite falls back to `bulk_update`), for objects that hold only some
  fields.

Rows are split into as few statements as the backend's parameter limit requires
(`connection.ops.bulk_batch_size`: SQLite's run-time limit, see sqlite3/base.py; none on
PostgreSQL). The caller holds the transaction, as around `bulk_create`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import nullcontext
from datetime import UTC, datetime
from functools import lru_cache

from django.conf import settings
from django.db import NotSupportedError, connections, models, router, transaction
from django.db.models import NOT_PROVIDED
from django.db.models.fields import Field
from django_countries.fields import CountryField

#: Field classes whose `get_db_prep_save` returns a value of this exact type unchanged (read in
#: Django 5.2: CharField/TextField.to_python, IntegerField.get_prep_value, AutoField's
#: `validate_autopk_value` on SQLite and PostgreSQL, BooleanField.to_python). Exact classes
#: only: a subclass may convert (django-countries' CountryField is a CharField that does).
_IDENTITY = {
    models.CharField: str, models.TextField: str, models.EmailField: str,
    models.IntegerField: int, models.BigIntegerField: int, models.SmallIntegerField: int,
    models.PositiveIntegerField: int, models.PositiveSmallIntegerField: int,
    models.PositiveBigIntegerField: int,
    models.AutoField: int, models.BigAutoField: int, models.SmallAutoField: int,
    models.BooleanField: bool,
}

#: Statements kept per process: (alias, vendor, model, columns, rows, kind) -> SQL.
STATEMENT_CACHE_SIZE = 512


def insert(objs: Sequence[models.Model], *, using: str | None = None,
           returning: bool = True) -> None:
    """Insert `objs` (all of one model) as `bulk_create(objs)` does, in as few statements as
    the parameter limit allows. New rows' primary keys are set on the objects (`returning`),
    where the database can return them; otherwise `bulk_create` does the work."""
    if not objs:
        return
    model = _model_of(objs)
    alias = using or router.db_for_write(model)
    connection = connections[alias]
    if returning and not connection.features.can_return_rows_from_bulk_insert:
        model._base_manager.using(alias).bulk_create(objs)
        return
    meta = model._meta
    pk = meta.pk
    with_pk, without_pk = [], []
    for obj in objs:
        _prepare(obj, meta)
        (without_pk if obj.pk is None else with_pk).append(obj)
    fields = _insert_fields(model)
    if with_pk:
        _execute(connection, model, "insert", fields, (), with_pk, add=True)
    if without_pk:
        fields = [field for field in fields if field is not pk]
        _execute(connection, model, "insert", fields, (pk,) if returning else (), without_pk,
                 add=True)
    for obj in objs:
        obj._state.adding = False
        obj._state.db = alias


def upsert(objs: Sequence[models.Model], update_fields: Sequence[str], *,
           using: str | None = None) -> None:
    """`bulk_create(objs, update_conflicts=True, unique_fields=[pk], update_fields=...)`: each
    row inserted whole, or, where its primary key exists, those fields updated. Every object
    has a primary key."""
    if not objs:
        return
    model = _model_of(objs)
    alias = using or router.db_for_write(model)
    connection = connections[alias]
    if not connection.features.supports_update_conflicts_with_target:
        raise NotSupportedError("This database cannot upsert; use bulk_create.")
    meta = model._meta
    for obj in objs:
        _prepare(obj, meta)
        if obj.pk is None:
            raise ValueError("upsert() needs every object's primary key.")
    updated = tuple(meta.get_field(name) for name in update_fields)
    # The conflict target, the primary key, first.
    fields = [meta.pk, *(field for field in _insert_fields(model) if field is not meta.pk)]
    _execute(connection, model, "upsert", fields, updated, objs, add=True)
    for obj in objs:
        obj._state.adding = False
        obj._state.db = alias


def update(objs: Sequence[models.Model], fields: Sequence[str], *,
           using: str | None = None) -> None:
    """`bulk_update(objs, fields)`: these fields of existing rows, by primary key (rows gone
    meanwhile are left alone, as by `bulk_update`). `pre_save` is not applied, as there."""
    if not objs:
        return
    model = _model_of(objs)
    alias = using or router.db_for_write(model)
    connection = connections[alias]
    if connection.vendor == "sqlite" and connection.Database.sqlite_version_info < (3, 33):
        model._base_manager.using(alias).bulk_update(objs, fields)
        return
    meta = model._meta
    for obj in objs:
        if obj.pk is None:
            raise ValueError("update() needs every object's primary key.")
        _prepare(obj, meta)
    columns = (meta.pk, *(meta.get_field(name) for name in fields))
    _execute(connection, model, "update", columns, (), objs, add=False)


# --- the statements ------------------------------------------------------------------------


def _model_of(objs: Sequence[models.Model]) -> type[models.Model]:
    model = type(objs[0])
    meta = model._meta
    if meta.parents:
        raise NotSupportedError("Multi-table inherited models: use bulk_create.")
    for field in meta.concrete_fields:
        if field.generated or field.db_default is not NOT_PROVIDED:
            raise NotSupportedError(f"{model.__name__}.{field.name}: generated fields and "
                                    "database defaults need bulk_create.")
    if meta.pk.has_default():
        raise NotSupportedError(f"{model.__name__}: a primary key with a default needs "
                                "bulk_create.")
    return model


def _insert_fields(model) -> list[Field]:
    return list(model._meta.concrete_fields)


def _prepare(obj: models.Model, meta) -> None:
    """What `bulk_create` does to an object first: a related object assigned before it was
    saved gives its primary key now (and an unsaved one is refused)."""
    for field in _relation_fields(meta):
        if field.is_cached(obj):
            related = field.get_cached_value(obj)
            if related is None:
                continue
            if related.pk is None:
                raise ValueError(f"Refusing to write {meta.object_name}: its related object "
                                 f"'{field.name}' is not saved yet.")
            if getattr(obj, field.attname) in field.empty_values:
                setattr(obj, field.name, related)
            if getattr(related, field.target_field.attname) != getattr(obj, field.attname):
                field.delete_cached_value(obj)


@lru_cache(maxsize=64)
def _relation_fields(meta) -> tuple[Field, ...]:
    return tuple(field for field in meta.concrete_fields if field.is_relation)


def _converter(field: Field, connection, add: bool) -> Callable:
    """The value as `bulk_create` (`add`: through the field's `pre_save`, so `auto_now`
    applies) or `bulk_update` (the attribute as it is) passes it to the database."""
    prep = field.get_db_prep_save
    pre_save_overridden = add and type(field).pre_save is not Field.pre_save
    plain = _IDENTITY.get(type(field))
    if field.is_relation:
        target = field.target_field
        plain = _IDENTITY.get(type(target)) if type(field) is models.ForeignKey else None
    attname = field.attname

    if type(field) is CountryField and not field.multiple:
        return _country_converter(field, connection, add)
    if type(field) is models.DateTimeField and settings.USE_TZ:
        return _datetime_converter(field, connection, add)
    if pre_save_overridden:
        def convert(obj):
            return prep(field.pre_save(obj, True), connection)
    elif plain is not None:
        def convert(obj):
            value = getattr(obj, attname)
            return value if type(value) is plain else prep(value, connection)
    else:
        def convert(obj):
            return prep(getattr(obj, attname), connection)
    return convert


def _country_converter(field: CountryField, connection, add: bool) -> Callable:
    """django-countries' field makes a `Country` of the stored code on every read and cleans it
    twice on the way out (`pre_save`, `get_db_prep_save`), a dozen calls a value. What comes out
    depends on the code stored on the object only (and on the field's fixed options): the
    answer is kept per code for this statement's rows, which use a few countries."""
    prep, name, attname = field.get_db_prep_save, field.name, field.attname
    known: dict[str, object] = {}

    def convert(obj):
        code = obj.__dict__.get(name)
        if type(code) is str and code in known:
            return known[code]
        value = prep(field.pre_save(obj, True) if add else getattr(obj, attname), connection)
        if type(code) is str:
            known[code] = value
        return value
    return convert


def _datetime_converter(field: models.DateTimeField, connection, add: bool) -> Callable:
    """A moment in UTC (what `timezone.now()` makes) as `get_db_prep_save` gives it with
    USE_TZ: unchanged for PostgreSQL; for SQLite made naive in the connection's zone (UTC
    unless the database sets another) and written as text, `str(value)`. Any other value (a
    zone other than UTC, naive, None) goes through the field."""
    prep, attname = field.get_db_prep_save, field.attname
    pre_save = add and (field.auto_now or field.auto_now_add)
    if connection.vendor == "postgresql":
        def adapt(value):
            return value
    elif connection.vendor == "sqlite" and connection.timezone is UTC:
        def adapt(value):
            return str(value.replace(tzinfo=None))
    else:
        adapt = None

    def convert(obj):
        value = field.pre_save(obj, True) if pre_save else getattr(obj, attname)
        if adapt is not None and type(value) is datetime and value.tzinfo is UTC:
            return adapt(value)
        return prep(value, connection)
    return convert


def _execute(connection, model, kind: str, fields: Sequence[Field], extra: tuple,
             objs: Sequence[models.Model], *, add: bool) -> None:
    """One statement per batch the parameter limit allows; `extra` is the RETURNING field
    (insert) or the fields to update (upsert)."""
    converters = [_converter(field, connection, add) for field in fields]
    batch = max(1, connection.ops.bulk_batch_size(list(fields), objs))
    columns = tuple(field.column for field in fields)
    returning = kind == "insert" and bool(extra)
    # More than one statement: all or none, as bulk_create (inside the caller's transaction
    # this adds no statement).
    whole = (transaction.atomic(using=connection.alias, savepoint=False)
             if batch < len(objs) else nullcontext())
    with whole:
        _execute_batches(connection, model, kind, fields, columns, extra, objs, batch,
                         converters, returning)


def _execute_batches(connection, model, kind, fields, columns, extra, objs, batch,
                     converters, returning) -> None:
    for start in range(0, len(objs), batch):
        rows = objs[start:start + batch]
        params = [convert(obj) for obj in rows for convert in converters]
        sql = _statement(connection.alias, connection.vendor, model._meta.db_table, columns,
                         _casts(connection, fields), tuple(f.column for f in extra),
                         len(rows), kind)
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            if returning:
                returned = cursor.fetchall()
                pk = extra[0]
                for obj, (value,) in zip(rows, returned, strict=True):
                    # As bulk_create: the value through the field's converters (none for an
                    # integer primary key on these backends).
                    setattr(obj, pk.attname, value)


def _casts(connection, fields: Sequence[Field]) -> tuple[str, ...]:
    """PostgreSQL gives a VALUES list outside an INSERT the types of its literals (text): an
    UPDATE's values are cast to their columns' types. SQLite has no need."""
    if connection.vendor != "postgresql":
        return ()
    return tuple(field.cast_db_type(connection) or "" for field in fields)


@lru_cache(maxsize=STATEMENT_CACHE_SIZE)
def _statement(alias: str, vendor: str, table: str, columns: tuple[str, ...],
               casts: tuple[str, ...], extra: tuple[str, ...], rows: int, kind: str) -> str:
    """The SQL for `rows` rows (the alias keys it too: two databases, two quotings)."""
    quote = connections[alias].ops.quote_name
    row = "(" + ", ".join(["%s"] * len(columns)) + ")"
    values = ", ".join([row] * rows)
    if kind == "update":
        pk, *updated = columns
        v = [f"v.column{i}" for i in range(1, len(columns) + 1)]
        if casts:
            v = [f"CAST({name} AS {cast})" for name, cast in zip(v, casts, strict=True)]
        sets = ", ".join(f"{quote(column)} = {name}"
                         for column, name in zip(updated, v[1:], strict=True))
        # Only quoted names from the model's metadata and placeholders: no value is in the text.
        return (f"UPDATE {quote(table)} SET {sets} FROM (VALUES {values}) AS v "  # noqa: S608
                f"WHERE {quote(table)}.{quote(pk)} = {v[0]}")
    sql = (f"INSERT INTO {quote(table)} ({', '.join(quote(c) for c in columns)}) "  # noqa: S608
           f"VALUES {values}")
    if kind == "upsert":
        sets = ", ".join(f"{quote(c)} = EXCLUDED.{quote(c)}" for c in extra)
        # The conflict target is the primary key, always the first concrete field.
        return f"{sql} ON CONFLICT({quote(columns[0])}) DO UPDATE SET {sets}"
    if extra:
        sql += " RETURNING " + ", ".join(f"{quote(table)}.{quote(c)}" for c in extra)
    return sql
