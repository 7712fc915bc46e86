"""Writing many new rows fast: PostgreSQL ``COPY`` from a stream, ``bulk_create`` in chunks elsewhere.

A campaign launch writes one call log per eligible lead (100,000 or more). ``COPY … FROM STDIN``
(psycopg 3's ``cursor.copy()``) sends each chunk of rows as one stream with no SQL to build and no
ids to return, so it is faster than ``bulk_create``, and memory stays flat: one chunk is held at a time.

The rows of a launch differ in a few columns only (the lead, its number, the metadata): one template
row gives every other column, prepared once per chunk; each row brings only its own values, as a
tuple, so no model object is built per row. Values go through each field's own ``pre_save`` and
``get_db_prep_save``, so defaults, ``auto_now`` stamps and JSON columns are written exactly as the
ORM would write them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from itertools import islice

from django.db import connection, models


def _columns(model: type[models.Model]) -> list[models.Field]:
    return [f for f in model._meta.concrete_fields if not f.primary_key]


def _copy(model: type[models.Model], template: models.Model, varying: Sequence[str], rows: list[tuple]) -> int:
    fields = _columns(model)
    position = {f.attname: i for i, f in enumerate(fields)}
    # Every column as the template has it, prepared once: its defaults, one ``auto_now`` stamp.
    base = [f.get_db_prep_save(f.pre_save(template, True), connection) for f in fields]
    slots = [(position[name], fields[position[name]].get_db_prep_save) for name in varying]
    qn = connection.ops.quote_name
    sql = f"COPY {qn(model._meta.db_table)} ({', '.join(qn(f.column) for f in fields)}) FROM STDIN"
    with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
        for values in rows:
            row = base.copy()
            for (i, prepare), value in zip(slots, values, strict=True):
                row[i] = prepare(value, connection)
            copy.write_row(row)
    return len(rows)


def rows_write(
    model: type[models.Model],
    template: models.Model,
    varying: Sequence[str],
    rows: Iterable[tuple],
    *,
    chunk_size: int = 2000,
) -> int:
    """Insert one new row per tuple of ``rows`` (a generator is fine: it is read once): the ``varying``
    fields (by attname) from the tuple, every other column as the unsaved ``template`` has it.

    Returns how many. No ids come back and no signals are sent (as ``bulk_create``). Call it inside a
    transaction when the rows must appear together.
    """
    copy = connection.vendor == "postgresql"
    it, written = iter(rows), 0
    # A chunk at a time: the stream may read the same connection (a server-side cursor over the
    # audience), which a running COPY holds until it ends.
    while chunk := list(islice(it, chunk_size)):
        if copy:
            written += _copy(model, template, varying, chunk)
            continue
        base = {f.attname: getattr(template, f.attname) for f in _columns(model)}
        objs = [model(**{**base, **dict(zip(varying, values, strict=True))}) for values in chunk]
        written += len(model.objects.bulk_create(objs))
    return written
