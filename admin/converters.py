"""URL converters shared by the staff and public pages."""

from __future__ import annotations

from werkzeug.routing import IntegerConverter

from helpdesk.tickets.queue import MAX_ID


class IdConverter(IntegerConverter):
    """`<int:...>` limited to 0 to MAX_ID, so a larger number in a URL gives 404.

    Without the limit, /admin/ticket/99999999999999999999 reached the database,
    which raised an error (integer out of range on PostgreSQL, overflow on
    SQLite) and the page returned 500.
    """

    def __init__(self, map, *args, **kwargs) -> None:
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


def install(app) -> None:
    """Make every `<int:...>` rule use IdConverter; call before any rule is added."""
    app.url_map.converters["int"] = IdConverter
