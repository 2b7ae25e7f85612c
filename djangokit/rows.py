"""Model rows on every request's path: a new row written with one prepared INSERT, and
an instance built from a row a hand-written SELECT read.

``Model.save()`` compiles its INSERT afresh each time, which on the token path costs
more than the database's own work. ``insert`` builds the statement once per model and
fills it through each field's own ``pre_save`` and ``get_db_prep_save``, so defaults,
``auto_now`` stamps, computed columns and type adaptation are exactly the ORM's. It
sends no ``pre_save``/``post_save`` signals: callers use it only where nobody listens
(``clientauth.fastpath.grants`` checks). Models whose fields need custom SQL placeholders fall
back to ``save()``.
"""

from __future__ import annotations

import functools

from django.db import connection, models
from django.db.models.base import ModelState
from django.db.models.signals import post_init, pre_init


@functools.cache
def _statement(model: type[models.Model]) -> tuple[str, tuple[models.Field, ...]] | None:
    meta = model._meta
    columns = fields(model)
    if any(hasattr(f, "get_placeholder") for f in columns):
        return None
    q = connection.ops.quote_name
    sql = (
        f"INSERT INTO {q(meta.db_table)} ({', '.join(q(f.column) for f in columns)}) "
        f"VALUES ({', '.join(['%s'] * len(columns))}) RETURNING {q(meta.pk.column)}"
    )
    return sql, columns


def fields(model: type[models.Model]) -> tuple[models.Field, ...]:
    """The columns an INSERT of ``model`` writes, in order: all but the primary key."""
    return tuple(f for f in model._meta.concrete_fields if not f.primary_key)


def prepared_values(obj: models.Model) -> list:
    """The values of ``fields(type(obj))`` for inserting ``obj``, as the ORM prepares them."""
    return [f.get_db_prep_save(f.pre_save(obj, True), connection) for f in fields(type(obj))]


def insert(obj: models.Model) -> None:
    """Insert ``obj`` (a new instance with an auto primary key) and set its pk."""
    statement = _statement(type(obj))
    if statement is None:
        obj.save(force_insert=True)
        return
    sql, _ = statement
    params = prepared_values(obj)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        obj.pk = cursor.fetchone()[0]
    obj._state.adding = False
    obj._state.db = connection.alias


def from_row(
    model: type[models.Model], attnames: list[str], values: list, alias: str
) -> models.Model:
    """The instance ``model.from_db`` builds from the values of all its concrete fields,
    without ``Model.__init__``'s per-field work when nobody listens to its signals. The
    values go straight into the instance's ``__dict__``, as ``__init__`` leaves them on
    a new instance (every field's descriptor, ``ForeignKeyDeferredAttribute`` included,
    stores its attname there)."""
    if pre_init.has_listeners(model) or post_init.has_listeners(model):
        return model.from_db(alias, attnames, values)
    obj = model.__new__(model)
    state = obj._state = ModelState()
    state.adding = False
    state.db = alias
    obj.__dict__.update(zip(attnames, values, strict=True))
    return obj
