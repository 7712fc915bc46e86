"""Writing many new rows fast: PostgreSQL ``COPY`` from a stream, ``bulk_create`` in chunks elsewhere.

A campaign launch writes one call log per eligible lead (100,000 or more). ``COPY … FROM STDIN``
(psycopg 3's ``cursor.copy()``) sends each chunk of rows as one stream with no SQL to build and no
ids to return, so it is faster than ``bulk_create``, and memory stays flat: one chunk is held at a time.
Values go through each field's own ``pre_save``/``get_db_prep_save``, so defaults,
``auto_now`` stamps and JSON columns are written exactly as the ORM would write them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from decimal import Decimal
from itertools import islice
from typing import Any

from django.db import connection, models

#: Values whose database form depends only on the value: when a column repeats one (the campaign, the
#: agent, the options, the start time), its prepared form is reused instead of prepared again per row.
_PLAIN = (str, int, bool, type(None), Decimal, dt.datetime, dt.date)
_UNSET = object()


def _preparer(fields: list[models.Field]) -> Callable[[models.Model], list[Any]]:
    last: list[Any] = [_UNSET] * len(fields)
    prepared: list[Any] = [None] * len(fields)

    def row(obj: models.Model) -> list[Any]:
        out = []
        for i, field in enumerate(fields):
            raw = field.pre_save(obj, True)
            if not (isinstance(raw, _PLAIN) and type(raw) is type(last[i]) and raw == last[i]):
                last[i], prepared[i] = raw, field.get_db_prep_save(raw, connection)
            out.append(prepared[i])
        return out

    return row


def _copy(model: type[models.Model], objs: Iterable[models.Model]) -> int:
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    qn = connection.ops.quote_name
    columns = ", ".join(qn(f.column) for f in fields)
    sql = f"COPY {qn(model._meta.db_table)} ({columns}) FROM STDIN"
    written, prepare = 0, _preparer(fields)
    with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
        for obj in objs:
            copy.write_row(prepare(obj))
            written += 1
    return written


def rows_write(model: type[models.Model], objs: Iterable[models.Model], *, chunk_size: int = 2000) -> int:
    """Insert new, unsaved ``objs`` (a generator is fine: it is read once); returns how many.

    No ids come back and no signals are sent (as ``bulk_create``). Call it inside a transaction
    when the rows must appear together.
    """
    copy = connection.vendor == "postgresql"
    it, written = iter(objs), 0
    # A chunk at a time: the stream may read the same connection (a server-side cursor over the
    # audience, the eligibility queries), which a running COPY holds until it ends.
    while chunk := list(islice(it, chunk_size)):
        written += _copy(model, chunk) if copy else len(model.objects.bulk_create(chunk))
    return written
