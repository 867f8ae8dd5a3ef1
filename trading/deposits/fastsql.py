"""Bulk inserts without model instances, for the statement import's hot path.

Django's `bulk_create` builds a model instance per row and prepares every value through
its field; at 100,000 statement lines (three rows each) that alone takes longer than the
import may. `insert_rows` takes plain tuples in column order (attnames: "account_id"):
- PostgreSQL: ids are drawn from the table's sequence in one query, then the rows go in
  with `COPY … FROM STDIN` (text format), the fastest way into PostgreSQL.
- SQLite: values are prepared through the model fields (SQLite stores datetimes and
  decimals as Django's text formats), then inserted row by row (in-process, cheap).
Values are Python values of the column types: str, int, bool, Decimal, aware datetime, date, None.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Sequence
from decimal import Decimal

from django.db import connection

_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_text(value) -> str:
    """One value in COPY text format (any supported type)."""
    if value is None:
        return "\\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    if isinstance(value, str):
        return value.translate(_ESCAPES)
    if isinstance(value, (int, Decimal)):
        return str(value)
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            raise ValueError("naive datetime in a bulk insert")
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    raise TypeError(f"cannot COPY a {type(value).__name__}")


def _text(value) -> str:
    if value is None:
        return "\\N"
    if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
        return value.translate(_ESCAPES)
    return value


def _number(value) -> str:
    return "\\N" if value is None else str(value)


def _timestamp(value) -> str:
    if value is None:
        return "\\N"
    if value.tzinfo is None:
        raise ValueError("naive datetime in a bulk insert")
    return value.isoformat()


def _boolean(value) -> str:
    return "\\N" if value is None else ("t" if value else "f")


def _converter(field):
    """The fastest safe text conversion for a column's values."""
    internal = field.get_internal_type()
    if internal == "DateTimeField":
        return _timestamp
    if internal == "BooleanField":
        return _boolean
    if internal in ("CharField", "TextField"):
        return _text
    if internal in ("DecimalField", "IntegerField", "PositiveIntegerField", "BigIntegerField", "BigAutoField",
                    "AutoField", "PositiveSmallIntegerField", "ForeignKey", "PositiveBigIntegerField"):
        return _number
    return _copy_text


def insert_rows(model, columns: Sequence[str], rows: Sequence[Sequence], *, returning: bool = True) -> list[int]:
    """Insert `rows` (tuples in `columns` order) and return their ids (in order) if `returning`."""
    if not rows:
        return []
    meta = model._meta
    fields = [meta.get_field(c) for c in columns]  # attnames ("account_id") resolve to their fields
    table = connection.ops.quote_name(meta.db_table)
    names = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                [meta.db_table, len(rows)],
            )
            ids = [r[0] for r in cursor.fetchall()]
            converters = [_converter(f) for f in fields]
            buffer = io.StringIO()
            write = buffer.write
            for pk, row in zip(ids, rows, strict=True):
                write(str(pk))
                write("\t")
                write("\t".join([conv(value) for conv, value in zip(converters, row, strict=True)]))
                write("\n")
            buffer.seek(0)
            with connection.wrap_database_errors:  # raw driver call: map its errors to Django's (IntegrityError)
                cursor.cursor.copy_expert(f"COPY {table} (id, {names}) FROM STDIN", buffer)
            return ids if returning else []
        prepared = [[f.get_db_prep_save(v, connection) for f, v in zip(fields, row, strict=True)] for row in rows]
        placeholders = ", ".join(["%s"] * len(fields))
        sql = f"INSERT INTO {table} ({names}) VALUES ({placeholders})"  # noqa: S608 (names from model metadata)
        if not returning:
            cursor.executemany(sql, prepared)
            return []
        ids = []
        for row in prepared:
            cursor.execute(sql + " RETURNING id", row)
            ids.append(cursor.fetchone()[0])
        return ids


def insert_instances(model, objs: Sequence, *, now=None) -> None:
    """Insert unsaved model instances (every concrete column but the id) and set their ids.

    Unlike bulk_create no field's pre_save runs: auto_now(_add) columns left empty get `now`."""
    if not objs:
        return
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    stamped = [f for f in fields if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)]
    for obj in objs:
        for f in stamped:
            if getattr(obj, f.attname) is None:
                setattr(obj, f.attname, now)
    ids = insert_rows(model, [f.attname for f in fields], [[getattr(o, f.attname) for f in fields] for o in objs])
    for obj, pk in zip(objs, ids, strict=True):
        obj.pk = pk
        obj._state.adding = False
        obj._state.db = connection.alias
